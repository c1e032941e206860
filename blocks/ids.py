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

REJECT_MODAL = "plan_reject_modal"
BREAK_GLASS_MODAL = "plan_break_glass_modal"
# Both modals ask for one reason, in the same block and input.
REASON_BLOCK = "reason_block"
REASON_INPUT = "reason"

WORKFLOW_START_MODAL = "workflow_start_modal"
# Every input of the workflow modal uses this action_id; its block_id is the input's name.
WORKFLOW_INPUT = "value"

# The paging buttons of an audit search; the value is the page's token.
AUDIT_OLDER = "audit_older"
AUDIT_NEWEST = "audit_newest"
AUDIT_ACTIONS_BLOCK = "audit_actions"
