# Risk of a plan: a level per step from its tool and action, the plan's level is the highest,
# and a blast radius from how many targets it touches.
package carapulse.risk

import rego.v1

high_verbs := {"delete", "exec", "apply", "uninstall", "terminate", "revoke"}

medium_verbs := {"scale", "restart", "upgrade", "sync", "rollback", "patch", "cordon", "uncordon"}

read_verbs := {"get", "list", "status", "query"}

# Writes that change metadata only, not what runs.
low_verbs := {"annotate", "label", "silence"}

# Tool-specific levels win over the verb table ("<tool>.<action>"): deleting something Carapulse
# itself wrote for the record (an annotation, a comment) is not a destructive delete.
tool_action_levels := {
	"terraform.plan": "read",
	"grafana.delete_annotation": "low",
	"linear.delete_comment": "low",
	"github.delete_comment": "low",
	"gitlab.delete_comment": "low",
}

levels := ["read", "low", "medium", "high"]

level_rank := {"read": 0, "low": 1, "medium": 2, "high": 3}

# The step's action split into words: "rollout_restart" -> {"rollout", "restart"}.
verbs(action) := {word | some word in split(replace(action, ".", "_"), "_")}

step_level(step) := named if {
	named := tool_action_levels[concat(".", [step.tool, step.action])]
}

else := higher(verb_level(verbs(step.action), object.get(step, "effect", "write")), hint(step))

# A tool's own risk hint can raise a step's level, never lower it.
hint(step) := step.risk if {
	is_string(step.risk)
	level_rank[step.risk]
}

else := "read"

higher(a, b) := a if level_rank[a] >= level_rank[b]

else := b

verb_level(words, effect) := "high" if count(words & high_verbs) > 0

else := "medium" if count(words & medium_verbs) > 0

else := "low" if count(words & low_verbs) > 0

else := "read" if {
	effect == "read"
	count(words & read_verbs) > 0
}

# A read whose verb we do not know is low; a write whose verb we do not know is medium,
# so it still needs an approval.
else := "low" if effect == "read"

else := "medium"

step_levels := [step_level(step) | some step in input.plan.steps]

default level := "read"

level := levels[max([level_rank[name] | some name in step_levels])] if count(step_levels) > 0

target_count := count(object.get(input.plan, "targets", []))

default blast_radius := "account"

blast_radius := "namespace" if target_count <= 10

else := "cluster" if target_count <= 50

# A plan writes when any step declares a write effect (a missing effect counts as a write), or when
# a step's verb is risky even though it claims to read.
default writes := false

writes if {
	some step in input.plan.steps
	object.get(step, "effect", "write") != "read"
}

writes if {
	some step_level_name in step_levels
	level_rank[step_level_name] >= level_rank.medium
}
