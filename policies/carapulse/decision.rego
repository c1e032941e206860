# The one decision the bot asks for before it creates, approves, executes or cancels a plan, or
# lets someone use break-glass. Denials come in two kinds: hard ones nothing overrides, and ones
# break-glass may override (missing approvals, a closed maintenance window, a freeze).
#
# Rules test for existence (`deny[_]`) and look keys up in tables/data.yaml rather than counting or
# searching, because each builtin call is costly in regopy (README.md, "Keeping it fast").
package carapulse.decision

import data.carapulse.calendar
import data.carapulse.risk
import data.carapulse.roles
import data.carapulse.tables
import rego.v1

# Sentences are built with concat(): rego-cpp's sprintf("%s") wraps strings that came out of a
# builtin in quotes, so sprintf is kept to numbers.

action_kind := tables.actions[input.action]

content_action if action_kind == "content"

default max_targets := 50

max_targets := input.max_targets

environment := calendar.environment

production if input.environments[environment].production == true

# Why a write needs approval; empty for a plan that needs none.
approval_factors := array.concat(
	[reason |
		some key in ["production", risk.level, risk.blast_radius]
		reason := approval_reason(key)
	],
	dependents_factor,
)

# A write to a service many others depend on (the context graph counts them) needs an approval.
default dependents_factor := []

dependents_factor := [sprintf("%d dependent services", [input.plan.dependents])] if {
	risk.writes
	input.plan.dependents >= tables.dependent_services_needing_approval
}

approval_reason("production") := environment if production

approval_reason(key) := tables.approval_reasons[key]

default required_approvals := 0

required_approvals := 2 if {
	risk.writes
	risk.level == "high"
	not input.action == "break_glass"
}

else := 1 if {
	risk.writes
	approval_factors[_]
	not input.action == "break_glass"
}

deny contains concat("", ["Denied: ", input.action, " is not a policy action"]) if not action_kind

deny contains "Denied: the actor has no Slack user id" if not roles.identified(input.actor)

deny contains concat("", ["Denied: environment ", environment, " is not configured"]) if {
	content_action
	not input.environments[environment]
}

deny contains sprintf("Denied: the plan touches %d targets, more than the limit of %d", [risk.target_count, max_targets]) if {
	content_action
	risk.target_count > max_targets
}

deny contains "Denied: planning a write needs the operator or admin role" if {
	input.action == "plan.create"
	risk.writes
	not roles.may(input.actor, "write")
}

deny contains "Denied: approving needs the approver or admin role" if {
	input.action == "plan.approve"
	not roles.may(input.actor, "approve")
}

deny contains "Denied: you requested this plan, so your approval does not count" if {
	input.action == "plan.approve"
	roles.is_requester(input.actor)
}

deny contains "Denied: only the requester, an approver or an admin can cancel this plan" if {
	input.action == "plan.cancel"
	not roles.is_requester(input.actor)
	not roles.may(input.actor, "approve")
}

# Retry, skip or roll back an interrupted step, or roll back a cancelled plan: approvers decide,
# because a retry repeats a write they signed off and a skip vouches for its effect.
deny contains "Denied: deciding what happens to an interrupted plan needs the approver or admin role" if {
	input.action == "plan.resolve"
	not roles.may(input.actor, "approve")
}

# Approving, deciding on an interrupted plan and breaking glass are people's decisions, taken in
# Slack; a pipeline calling the API (input.actor.pipeline) never takes them, whatever its roles.
deny contains "Denied: a pipeline cannot approve, decide on an interrupted plan or break glass" if {
	input.actor.pipeline
	tables.people_only[input.action]
}

deny contains "Denied: break-glass needs the admin role" if {
	input.action == "break_glass"
	not roles.may(input.actor, "break_glass")
}

deny contains needed.denial if {
	action_kind == "audit"
	needed := tables.audit_rights[input.action]
	not roles.may(input.actor, needed.right)
}

# A freeze blocks creating and running writes; break-glass is the way through, and approvals may
# still be collected meanwhile so the plan is ready when the freeze lifts.
overridable contains sentence if {
	freeze_blocks
	risk.writes
	some sentence in calendar.freeze_sentences
}

freeze_blocks if input.action == "plan.create"

freeze_blocks if input.action == "plan.execute"

overridable contains sprintf("Denied: has %d of %d required approvals from approver or admin", [count(roles.counted_approvals), required_approvals]) if {
	input.action == "plan.execute"
	count(roles.counted_approvals) < required_approvals
}

overridable contains concat("", ["Denied: writes to ", environment, " run only inside its maintenance windows (", calendar.window_labels, ")"]) if {
	input.action == "plan.execute"
	risk.writes
	not calendar.window_open
}

notes contains "Read-only plan: runs without approval" if {
	not risk.writes
	not action_kind == "audit"
}

notes contains concat("", [sprintf("Needs %d approval", [required_approvals]), plural, " from approver or admin", alternative, " (", concat(", ", approval_factors), ")"]) if {
	not required_approvals == 0
	plural := {1: "", 2: "s"}[required_approvals]
	alternative := break_glass_alternative
}

default break_glass_alternative := ""

break_glass_alternative := ", or break-glass" if risk.level == "high"

notes contains concat("", ["Writes to ", environment, " run only inside its maintenance windows (", calendar.window_labels, ")"]) if {
	risk.writes
	calendar.windows[_]
}

notes contains "Break-glass: approvals and maintenance windows are bypassed, and this use is audited" if {
	input.action == "break_glass"
}

denied if deny[_]

overridden if overridable[_]

default allow := false

allow if {
	not denied
	not overridden
}

# Offered on the card: when only overridable reasons stand in the way, or when the plan is high risk
# (two approvers or break-glass).
default break_glass_required := false

break_glass_required if {
	not denied
	overridden
}

default break_glass_offered := false

break_glass_offered if break_glass_required

break_glass_offered if {
	not denied
	risk.writes
	risk.level == "high"
}

decision := {
	"allow": allow,
	"required_approvals": required_approvals,
	"approver_roles": roles.approver_roles,
	"reasons": [reason | some reasons in [deny, overridable, notes]; some reason in reasons],
	"constraints": {"max_targets": max_targets, "maintenance_windows": calendar.windows},
	"break_glass_required": break_glass_required,
	"break_glass_offered": break_glass_offered,
	"risk": {"level": risk.level, "blast_radius": risk.blast_radius, "targets": risk.target_count},
	"counted_approvals": roles.counted_approvals,
}
