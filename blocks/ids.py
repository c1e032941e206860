"""Every action_id, block_id and callback_id, shared by the builders and the listeners."""

PLAN_APPROVE = "plan_approve"
PLAN_REJECT = "plan_reject"
PLAN_CANCEL = "plan_cancel"
PLAN_DRY_RUN = "plan_dry_run"
PLAN_RETRY_STEP = "plan_retry_step"
PLAN_SKIP_STEP = "plan_skip_step"
PLAN_ROLL_BACK = "plan_roll_back"

PLAN_ACTIONS_BLOCK = "plan_actions"
PLAN_HEADER_BLOCK = "plan_header"
PLAN_STATUS_BLOCK = "plan_status"
PLAN_STEPS_BLOCK = "plan_steps"

PLAN_BREAK_GLASS = "plan_break_glass"
PLAN_EDIT = "plan_edit"
PLAN_REVISION_BLOCK = "plan_revision"

REJECT_MODAL = "plan_reject_modal"
BREAK_GLASS_MODAL = "plan_break_glass_modal"
# Both modals ask for one reason, in the same block and input.
REASON_BLOCK = "reason_block"
REASON_INPUT = "reason"

WORKFLOW_START_MODAL = "workflow_start_modal"
# Every input of the workflow modal uses this action_id; its block_id is the input's name.
WORKFLOW_INPUT = "value"

# Approving a plan that asks the approver to type a word (the environment's or the target's name).
PLAN_CONFIRM_MODAL = "plan_confirm_modal"
CONFIRM_BLOCK = "confirm_block"
CONFIRM_INPUT = "confirm"

# Editing a plan: the workflow's form (block_id per input, as above) or the request's text.
PLAN_EDIT_MODAL = "plan_edit_modal"
EDIT_INTENT_BLOCK = "intent_block"
EDIT_INTENT_INPUT = "intent"

INCIDENT_ACKNOWLEDGE = "incident_acknowledge"
INCIDENT_SILENCE = "incident_silence"
INCIDENT_INVESTIGATE = "incident_investigate"
INCIDENT_RESOLVE = "incident_resolve"
INCIDENT_EXPORT = "incident_export"
# Link buttons (Prometheus graph, dashboard, runbook): this prefix and their position.
INCIDENT_LINK_PREFIX = "incident_link_"
INCIDENT_HEADER_BLOCK = "incident_header"
INCIDENT_FACTS_BLOCK = "incident_facts"
INCIDENT_ACTIONS_BLOCK = "incident_actions"
