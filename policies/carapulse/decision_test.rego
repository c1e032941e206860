package carapulse.decision_test

import data.carapulse.decision
import rego.v1

viewer := {"user_id": "UV", "roles": ["viewer"]}

operator := {"user_id": "UO", "roles": ["operator"]}

approver := {"user_id": "UA", "roles": ["approver"]}

admin := {"user_id": "UX", "roles": ["admin"]}

read_step := {"stage": "verify", "tool": "kubernetes", "action": "rollout_status", "effect": "read"}

scale_step := {"stage": "act", "tool": "kubernetes", "action": "scale", "effect": "write"}

delete_step := {"stage": "act", "tool": "kubernetes", "action": "delete", "effect": "write"}

label_step := {"stage": "act", "tool": "kubernetes", "action": "label", "effect": "write"}

envs := {
	"prod": {"production": true},
	"dev": {"production": false},
	"night": {"production": false, "maintenance_windows": [{"start": "22:00", "end": "02:00", "timezone": "Europe/Berlin"}]},
}

noon := "2024-06-01T12:00:00+00:00"

plan(environment, steps) := {"environment": environment, "steps": steps, "targets": ["deployment/shop/checkout"]}

# Evaluates a request; keys left out of `req` take the defaults below. Each input key is set on its
# own, since `with input as {...}` does not compile in rego-cpp, and from a local variable, since
# `with input.x as data.some.rule` leaves the decision undefined there.
decide(req) := result if {
	environments := envs
	result := decision.decision with input.action as object.get(req, "action", "plan.create")
		with input.actor as object.get(req, "actor", operator)
		with input.requester as object.get(req, "requester", operator)
		with input.plan as object.get(req, "plan", plan("prod", [scale_step, read_step]))
		with input.approvals as object.get(req, "approvals", [])
		with input.environments as environments
		with input.freezes as object.get(req, "freezes", [])
		with input.now as object.get(req, "now", noon)
		with input.max_targets as object.get(req, "max_targets", 50)
}

test_any_known_user_may_plan_a_read if {
	d := decide({"actor": viewer, "plan": plan("prod", [read_step])})
	d.allow
	d.required_approvals == 0
	d.risk == {"level": "read", "blast_radius": "namespace", "targets": 1}
	d.reasons == ["Read-only plan: runs without approval"]
}

test_actor_without_user_id_is_denied if {
	d := decide({"actor": {"roles": ["admin"]}, "plan": plan("prod", [read_step])})
	d.allow == false
	"Denied: the actor has no Slack user id" in d.reasons
}

test_viewer_cannot_plan_a_write if {
	d := decide({"actor": viewer})
	d.allow == false
	"Denied: planning a write needs the operator or admin role" in d.reasons
}

test_unknown_user_cannot_plan_a_write if decide({"actor": {"user_id": "UZ"}}).allow == false

test_prod_medium_write_needs_one_approval if {
	d := decide({})
	d.allow
	d.required_approvals == 1
	d.approver_roles == ["admin", "approver"]
	"Needs 1 approval from approver or admin (prod, medium risk)" in d.reasons
}

test_low_risk_write_in_dev_needs_no_approval if {
	d := decide({"plan": plan("dev", [label_step])})
	d.allow
	d.required_approvals == 0
}

test_low_risk_write_in_prod_needs_approval if {
	"Needs 1 approval from approver or admin (prod)" in decide({"plan": plan("prod", [label_step])}).reasons
}

test_cluster_blast_radius_needs_approval if {
	wide := object.union(plan("dev", [label_step]), {"targets": numbers.range(1, 20)})
	d := decide({"plan": wide})
	d.required_approvals == 1
	"Needs 1 approval from approver or admin (cluster blast radius)" in d.reasons
}

test_high_risk_needs_two_approvals_or_break_glass if {
	d := decide({"plan": plan("dev", [delete_step])})
	d.allow
	d.required_approvals == 2
	"Needs 2 approvals from approver or admin, or break-glass (high risk)" in d.reasons
}

test_unknown_environment_is_denied if {
	d := decide({"actor": viewer, "plan": plan("qa", [read_step])})
	d.allow == false
	"Denied: environment qa is not configured" in d.reasons
}

test_more_than_max_targets_is_denied if {
	many := object.union(plan("dev", [scale_step]), {"targets": numbers.range(1, 51)})
	decide({"plan": many}).allow == false
	"Denied: the plan touches 51 targets, more than the limit of 50" in decide({"plan": many}).reasons
	decide({"plan": many, "max_targets": 60}).allow
}

test_freeze_denies_writes_but_not_reads if {
	freezes := [{"environment": "prod", "until": "2024-06-01T18:00:00+00:00", "reason": "release freeze"}]
	d := decide({"freezes": freezes})
	d.allow == false
	d.break_glass_required
	"Denied: prod is frozen until 18:00 UTC (release freeze)" in d.reasons
	decide({"freezes": freezes, "plan": plan("prod", [read_step])}).allow
	decide({"freezes": freezes, "now": "2024-06-01T18:00:00+00:00"}).allow
}

test_requester_cannot_approve_own_plan if {
	d := decide({"action": "plan.approve", "actor": admin, "requester": admin})
	d.allow == false
	"Denied: you requested this plan, so your approval does not count" in d.reasons
}

test_pipeline_never_approves_resolves_or_breaks_glass_whatever_its_roles if {
	pipeline := {"user_id": "token:deploy", "roles": ["admin"], "pipeline": true, "claims": {}}
	pipeline_denial := "Denied: a pipeline cannot approve, decide on an interrupted plan or break glass"
	every action in ["plan.approve", "plan.resolve", "break_glass"] {
		d := decide({"action": action, "actor": pipeline})
		d.allow == false
		pipeline_denial in d.reasons
	}
	decide({"action": "plan.create", "actor": pipeline}).allow
	decide({"action": "plan.cancel", "actor": pipeline, "requester": pipeline}).allow
}

test_approver_needs_approver_or_admin_role if {
	decide({"action": "plan.approve", "actor": {"user_id": "U9", "roles": ["operator"]}}).allow == false
	decide({"action": "plan.approve", "actor": approver}).allow
	decide({"action": "plan.approve", "actor": admin}).allow
}

test_execute_counts_only_approvals_from_others_with_approver_roles if {
	own := [{"user_id": "UO", "roles": ["approver"]}, {"user_id": "U9", "roles": ["operator"]}]
	d := decide({"action": "plan.execute", "approvals": own})
	d.allow == false
	d.break_glass_required
	d.counted_approvals == []
	"Denied: has 0 of 1 required approvals from approver or admin" in d.reasons
	ok := decide({"action": "plan.execute", "approvals": array.concat(own, [approver])})
	ok.allow
	ok.counted_approvals == ["UA"]
}

test_execute_high_risk_with_one_approval_needs_break_glass if {
	d := decide({"action": "plan.execute", "plan": plan("dev", [delete_step]), "approvals": [approver]})
	d.allow == false
	d.break_glass_required
	decide({"action": "plan.execute", "plan": plan("dev", [delete_step]), "approvals": [approver, admin]}).allow
}

test_execute_outside_maintenance_window_is_denied if {
	d := decide({"action": "plan.execute", "plan": plan("night", [label_step])})
	d.allow == false
	d.break_glass_required
	"Denied: writes to night run only inside its maintenance windows (22:00–02:00 Europe/Berlin)" in d.reasons
	d.constraints.maintenance_windows == envs.night.maintenance_windows
}

test_execute_inside_window_wrapping_midnight_is_allowed if {
	# 23:30 UTC is 01:30 in Berlin (CEST), inside 22:00-02:00.
	decide({"action": "plan.execute", "plan": plan("night", [label_step]), "now": "2024-06-01T23:30:00+00:00"}).allow
}

test_read_runs_outside_maintenance_window if {
	decide({"action": "plan.execute", "plan": plan("night", [read_step])}).allow
}

test_break_glass_by_admin_bypasses_approvals_and_windows if {
	d := decide({"action": "break_glass", "actor": admin, "plan": plan("night", [delete_step])})
	d.allow
	d.required_approvals == 0
}

test_break_glass_needs_admin if {
	decide({"action": "break_glass", "actor": approver}).allow == false
}

test_break_glass_lifts_a_freeze_for_an_admin_only if {
	freezes := [{"environment": "prod", "until": "2024-06-01T18:00:00+00:00", "reason": "release freeze"}]
	decide({"action": "break_glass", "actor": admin, "freezes": freezes}).allow
	decide({"action": "break_glass", "actor": approver, "freezes": freezes}).allow == false
}

test_a_frozen_plan_is_blocked_not_refused if {
	freezes := [{"environment": "prod", "until": "2024-06-01T18:00:00+00:00", "reason": "release freeze"}]
	d := decide({"freezes": freezes})
	d.allow == false
	d.break_glass_required
	d.break_glass_offered
	decide({"action": "plan.approve", "actor": approver, "freezes": freezes}).allow
}

test_break_glass_is_offered_for_high_risk_writes_and_not_for_hard_denials if {
	decide({"plan": plan("prod", [delete_step])}).break_glass_offered
	decide({"plan": plan("prod", [scale_step])}).break_glass_offered == false
	decide({"actor": viewer, "plan": plan("prod", [delete_step])}).break_glass_offered == false
}

test_cancel_by_requester_or_approver_only if {
	decide({"action": "plan.cancel"}).allow
	decide({"action": "plan.cancel", "actor": approver}).allow
	decide({"action": "plan.cancel", "actor": {"user_id": "U9", "roles": ["operator"]}}).allow == false
}

test_only_approvers_decide_on_an_interrupted_plan if {
	decide({"action": "plan.resolve", "actor": approver}).allow
	decide({"action": "plan.resolve", "actor": admin}).allow
	d := decide({"action": "plan.resolve"})
	d.allow == false
	"Denied: deciding what happens to an interrupted plan needs the approver or admin role" in d.reasons
}

test_unknown_action_is_denied if {
	d := decide({"action": "plan.delete"})
	d.allow == false
	"Denied: plan.delete is not a policy action" in d.reasons
}

no_plan := {"environment": "", "steps": [], "targets": []}

test_operators_and_approvers_may_search_the_audit_log_but_viewers_not if {
	decide({"action": "audit.read", "actor": operator, "plan": no_plan}).allow
	decide({"action": "audit.read", "actor": approver, "plan": no_plan}).allow
	d := decide({"action": "audit.read", "actor": viewer, "plan": no_plan})
	d.allow == false
	d.reasons == ["Denied: searching the audit log needs the operator, approver or admin role"]
}

test_only_admins_may_export_or_verify_the_audit_log if {
	decide({"action": "audit.export", "actor": admin, "plan": no_plan}).allow
	decide({"action": "audit.verify", "actor": admin, "plan": no_plan}).allow
	not decide({"action": "audit.export", "actor": approver, "plan": no_plan}).allow
	"Denied: verifying the audit log needs the admin role" in decide({"action": "audit.verify", "actor": operator, "plan": no_plan}).reasons
}

test_an_allowed_audit_action_carries_no_plan_notes if {
	d := decide({"action": "audit.read", "actor": admin, "plan": no_plan})
	d.reasons == []
	d.required_approvals == 0
}

test_a_write_many_services_depend_on_needs_an_approval if {
	low_in_dev := {"environment": "dev", "steps": [label_step], "targets": ["deployment/shop/checkout"], "dependents": 7}
	d := decide({"plan": low_in_dev})
	d.required_approvals == 1
	"Needs 1 approval from approver or admin (7 dependent services)" in d.reasons
}

test_few_dependents_or_a_read_need_no_approval if {
	few := {"environment": "dev", "steps": [label_step], "targets": ["deployment/shop/checkout"], "dependents": 4}
	decide({"plan": few}).required_approvals == 0
	read := {"environment": "dev", "steps": [read_step], "targets": ["deployment/shop/checkout"], "dependents": 40}
	decide({"plan": read}).required_approvals == 0
}
