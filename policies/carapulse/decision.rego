# The one decision the bot asks for before it creates, approves, executes or cancels a plan, or
# lets someone use break-glass. Denials come in two kinds: hard ones nothing overrides, and ones
# break-glass may override (missing approvals, a closed maintenance window).
package carapulse.decision

import data.carapulse.calendar
import data.carapulse.risk
import data.carapulse.roles
import rego.v1

# Sentences are built with concat(): rego-cpp's sprintf("%s") wraps strings that came out of a
# builtin in quotes, so sprintf is kept to numbers.

actions := {"plan.create", "plan.approve", "plan.execute", "plan.cancel", "plan.resolve", "break_glass"}

# Actions that act on the plan's content, as opposed to stopping it.
plan_actions := {"plan.create", "plan.approve", "plan.execute", "break_glass"}

default max_targets := 50

max_targets := input.max_targets

environment := calendar.environment

production if input.environments[environment].production == true

approver_roles := sorted(roles.approver_roles)

# Why a write needs approval; empty for a plan that needs none.
approval_factors := [factor |
	some factor in [
		production_factor,
		concat(" ", [risk.level, "risk"]),
		concat(" ", [risk.blast_radius, "blast radius"]),
	]
	factor != ""
	not factor in {"read risk", "low risk", "namespace blast radius"}
]

production_factor := environment if production

else := ""

default required_approvals := 0

required_approvals := 2 if {
	risk.writes
	risk.level == "high"
	input.action != "break_glass"
}

else := 1 if {
	risk.writes
	count(approval_factors) > 0
	input.action != "break_glass"
}

deny contains concat("", ["Denied: ", input.action, " is not a policy action"]) if not input.action in actions

deny contains "Denied: the actor has no Slack user id" if not roles.identified(input.actor)

deny contains concat("", ["Denied: environment ", environment, " is not configured"]) if {
	input.action in plan_actions
	not input.environments[environment]
}

deny contains sprintf("Denied: the plan touches %d targets, more than the limit of %d", [risk.target_count, max_targets]) if {
	input.action in plan_actions
	risk.target_count > max_targets
}


deny contains "Denied: planning a write needs the operator or admin role" if {
	input.action == "plan.create"
	risk.writes
	not roles.can_write(input.actor)
}

deny contains "Denied: approving needs the approver or admin role" if {
	input.action == "plan.approve"
	not roles.can_approve(input.actor)
}

deny contains "Denied: you requested this plan, so your approval does not count" if {
	input.action == "plan.approve"
	roles.is_requester(input.actor)
}

deny contains "Denied: only the requester, an approver or an admin can cancel this plan" if {
	input.action == "plan.cancel"
	not roles.is_requester(input.actor)
	not roles.can_approve(input.actor)
}

# Retry, skip or roll back an interrupted step, or roll back a cancelled plan: approvers decide,
# because a retry repeats a write they signed off and a skip vouches for its effect.
deny contains "Denied: deciding what happens to an interrupted plan needs the approver or admin role" if {
	input.action == "plan.resolve"
	not roles.can_approve(input.actor)
}

deny contains "Denied: break-glass needs the admin role" if {
	input.action == "break_glass"
	not "admin" in roles.roles(input.actor)
}

# A freeze blocks creating and running writes; break-glass is the way through, and approvals may
# still be collected meanwhile so the plan is ready when the freeze lifts.
overridable contains sentence if {
	input.action in {"plan.create", "plan.execute"}
	risk.writes
	some sentence in calendar.freeze_sentences
}

overridable contains sprintf("Denied: has %d of %d required approvals from approver or admin", [count(roles.counted_approvals), required_approvals]) if {
	input.action == "plan.execute"
	count(roles.counted_approvals) < required_approvals
}

overridable contains concat("", ["Denied: writes to ", environment, " run only inside its maintenance windows (", calendar.window_labels, ")"]) if {
	input.action == "plan.execute"
	risk.writes
	not calendar.window_open
}

notes contains "Read-only plan: runs without approval" if not risk.writes

notes contains concat("", [sprintf("Needs %d approval", [n]), plural, " from approver or admin", alternative, " (", concat(", ", approval_factors), ")"]) if {
	n := required_approvals
	n > 0
	plural := {true: "s", false: ""}[n > 1]
	alternative := {true: ", or break-glass", false: ""}[risk.level == "high"]
}

notes contains concat("", ["Writes to ", environment, " run only inside its maintenance windows (", calendar.window_labels, ")"]) if {
	risk.writes
	count(calendar.windows) > 0
}

notes contains "Break-glass: approvals and maintenance windows are bypassed, and this use is audited" if {
	input.action == "break_glass"
}

allow := count(deny) + count(overridable) == 0

# Offered on the card: when only overridable reasons stand in the way, or when the plan is high risk
# (two approvers or break-glass).
default break_glass_offered := false

break_glass_offered if break_glass_required

break_glass_offered if {
	count(deny) == 0
	risk.writes
	risk.level == "high"
}

default break_glass_required := false

break_glass_required if {
	count(deny) == 0
	count(overridable) > 0
}

decision := {
	"allow": allow,
	"required_approvals": required_approvals,
	"approver_roles": approver_roles,
	"reasons": array.concat(array.concat(sorted(deny), sorted(overridable)), sorted(notes)),
	"constraints": {"max_targets": max_targets, "maintenance_windows": calendar.windows},
	"break_glass_required": break_glass_required,
	"break_glass_offered": break_glass_offered,
	"risk": {"level": risk.level, "blast_radius": risk.blast_radius, "targets": risk.target_count},
	"counted_approvals": roles.counted_approvals,
}

# rego-cpp's sort() of a set returns a set, not an array, so sort an array built from it.
sorted(items) := sort([item | some item in items])
