# Risk of a plan: a level per step from its tool and action (tables in tables/data.yaml), the plan's
# level is its riskiest step's, and a blast radius from how many targets it touches.
package carapulse.risk

import data.carapulse.tables
import rego.v1

# The ranks a step contributes: its tool's own level for the action if the tables name one, else
# those of its risky words. A read whose words we do not know is low; a write without a risky word
# is medium, so it still needs an approval.
step_ranks(step) := [tables.level_ranks[named]] if {
	named := tables.tool_action_levels[step.tool][step.action]
}

else := word_ranks(step, split(step.action, "_"))

word_ranks(step, words) := ranks if {
	ranks := [tables.verb_ranks[word] | some word in words]
	ranks[_]
}

else := [0] if {
	step.effect == "read"
	some word in words
	tables.read_verbs[word]
}

else := [1] if step.effect == "read"

else := [2]

# A tool's own risk hint (step.risk) can raise the plan's level, never lower it.
default rank := 0

rank := max(array.concat([r | some step in input.plan.steps; some r in step_ranks(step)], hint_ranks))

hint_ranks := [tables.level_ranks[step.risk] | some step in input.plan.steps]

level := tables.levels[rank]

default target_count := 0

target_count := count(input.plan.targets)

default blast_radius := "account"

blast_radius := "namespace" if target_count <= 10

else := "cluster" if target_count <= 50

# A plan writes when any step declares a write effect (a missing effect counts as a write), or when
# a step's verb is risky even though it claims to read.
default writes := false

writes if {
	some step in input.plan.steps
	not step.effect == "read"
}

writes if rank >= tables.level_ranks.medium
