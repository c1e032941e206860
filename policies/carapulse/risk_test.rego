package carapulse.risk_test

import data.carapulse.risk
import rego.v1

step(tool, action, effect) := {"stage": "act", "tool": tool, "action": action, "effect": effect}

# The level of a plan made of this one step.
level_of(one) := level if {
	steps := [one]
	level := risk.level with input.plan.steps as steps
}

test_high_verbs if {
	every verb in ["delete", "exec", "apply", "uninstall", "terminate", "revoke"] {
		level_of(step("kubernetes", verb, "write")) == "high"
	}
}

test_medium_verbs_inside_compound_actions if {
	level_of(step("kubernetes", "rollout_restart", "write")) == "medium"
	level_of(step("argocd", "sync", "write")) == "medium"
	level_of(step("helm", "rollback", "write")) == "medium"
	level_of(step("kubernetes", "node_cordon", "write")) == "medium"
	level_of(step("kubernetes", "patch_deployment", "write")) == "medium"
}

test_read_verbs if {
	level_of(step("kubernetes", "rollout_status", "read")) == "read"
	level_of(step("prometheus", "query", "read")) == "read"
	level_of(step("aws", "autoscaling_wait", "read")) == "read"
}

test_tool_specific_level_wins if {
	level_of(step("terraform", "plan", "read")) == "read"
	level_of(step("grafana", "delete_annotation", "write")) == "low"
	level_of(step("linear", "delete_comment", "write")) == "low"
}

test_a_tool_hint_raises_the_plan_level if {
	risk.level == "high" with input.plan.steps as [object.union(step("kubernetes", "node_cordon", "write"), {"risk": "high"})]
	risk.level == "high" with input.plan.steps as [object.union(step("vault", "rotate", "write"), {"risk": "high"})]
}

test_a_tool_hint_never_lowers_the_plan_level if {
	risk.level == "high" with input.plan.steps as [object.union(step("helm", "uninstall", "write"), {"risk": "low"})]
	risk.level == "medium" with input.plan.steps as [object.union(step("kubernetes", "scale", "write"), {"risk": "read"})]
}

test_an_unknown_or_missing_hint_is_ignored if {
	risk.level == "medium" with input.plan.steps as [object.union(step("vault", "rotate", "write"), {"risk": "extreme"})]
	risk.level == "medium" with input.plan.steps as [object.union(step("vault", "rotate", "write"), {"risk": null})]
}

test_unknown_read_is_low_and_unknown_write_is_medium if {
	level_of(step("vault", "lookup", "read")) == "low"
	level_of(step("vault", "rotate", "write")) == "medium"
}

test_plan_level_is_the_highest_step if {
	risk.level == "high" with input.plan.steps as [step("k", "get", "read"), step("k", "delete", "write")]
}

test_plan_without_steps_is_read if risk.level == "read" with input.plan.steps as []

test_blast_radius_from_target_count if {
	risk.blast_radius == "namespace" with input.plan.targets as numbers.range(1, 10)
	risk.blast_radius == "cluster" with input.plan.targets as numbers.range(1, 11)
	risk.blast_radius == "cluster" with input.plan.targets as numbers.range(1, 50)
	risk.blast_radius == "account" with input.plan.targets as numbers.range(1, 51)
}

test_write_effect_or_risky_verb_makes_a_write if {
	risk.writes with input.plan.steps as [step("k", "scale", "write")]
	risk.writes with input.plan.steps as [step("k", "delete", "read")]
	risk.writes with input.plan.steps as [{"tool": "k", "action": "get"}]
	not risk.writes with input.plan.steps as [step("k", "get", "read")]
}
