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

# Operator memory: the add modal (from the command, the App Home or a message shortcut), its
# fields, the message shortcut's callback_id, the list's paging button and the search modal.
MEMORY_ADD_MODAL = "memory_add_modal"
MEMORY_SERVICE_BLOCK = "memory_service"
MEMORY_TEXT_BLOCK = "memory_text"
MEMORY_SHORTCUT = "memory_from_message"
MEMORY_PAGE = "memory_page"
MEMORY_SEARCH_MODAL = "memory_search_modal"
MEMORY_QUERY_BLOCK = "memory_query"
# The one input of every block in the modals above and below that have a single input per block.
FIELD_INPUT = "field"

# Runbooks: the modal that creates or edits one, its fields, and the buttons that open it.
RUNBOOK_MODAL = "runbook_modal"
RUNBOOK_SERVICE_BLOCK = "runbook_service"
RUNBOOK_TITLE_BLOCK = "runbook_title"
RUNBOOK_BODY_BLOCK = "runbook_body"
RUNBOOK_WORKFLOW_BLOCK = "runbook_workflow"
RUNBOOK_INPUTS_BLOCK = "runbook_inputs"
RUNBOOK_ALERTS_BLOCK = "runbook_alertnames"
RUNBOOK_NEW = "runbook_new"
RUNBOOK_EDIT = "runbook_edit"
RUNBOOK_OPEN = "runbook_open"

# Playbooks: the modal that defines one, the form that starts one (one block per input, named for
# it), and the buttons of the list.
PLAYBOOK_MODAL = "playbook_modal"
PLAYBOOK_NAME_BLOCK = "playbook_name"
PLAYBOOK_DEFINITION_BLOCK = "playbook_definition"
PLAYBOOK_START_MODAL = "playbook_start_modal"
PLAYBOOK_NEW = "playbook_new"
PLAYBOOK_EDIT = "playbook_edit"
PLAYBOOK_START = "playbook_start"
PLAYBOOK_PAGE = "playbook_page"

# Modals opened from the App Home ask where a plan's card goes.
CHANNEL_BLOCK = "plan_channel"

# Schedules: the modal that makes one, its fields, and the buttons of the list and the App Home.
SCHEDULE_MODAL = "schedule_modal"
SCHEDULE_CRON_BLOCK = "schedule_cron"
SCHEDULE_TZ_BLOCK = "schedule_timezone"
SCHEDULE_REQUEST_BLOCK = "schedule_request"
SCHEDULE_NEW = "schedule_new"
SCHEDULE_PAUSE = "schedule_pause"
SCHEDULE_RESUME = "schedule_resume"
SCHEDULE_RUN = "schedule_run"
SCHEDULE_SHOW = "schedule_show"
SCHEDULE_PAGE = "schedule_page"
SCHEDULE_HISTORY_MODAL = "schedule_history_modal"

# The App Home tab: its callback_id, Refresh, the paging buttons of its sections (value: JSON
# {"section", "page"}), its notes buttons, and the modal a runbook opens in.
HOME_VIEW = "carapulse_home"
HOME_REFRESH = "home_refresh"
HOME_PAGE = "home_page"
HOME_MEMORY_SEARCH = "home_memory_search"
HOME_MEMORY_ADD = "home_memory_add"
RUNBOOK_VIEW_MODAL = "runbook_view_modal"

# The paging buttons of an audit search; the value is the page's token.
AUDIT_OLDER = "audit_older"
AUDIT_NEWEST = "audit_newest"
AUDIT_ACTIONS_BLOCK = "audit_actions"

# Change sessions: the start modal (from `session start` without a name, or the message shortcut
# that declares a thread a session), the members modal, their fields (a role's block is the prefix
# and the role), and the buttons on a session's message (value: the session id).
SESSION_START_MODAL = "session_start_modal"
SESSION_MEMBERS_MODAL = "session_members_modal"
SESSION_NAME_BLOCK = "session_name"
SESSION_ROLE_BLOCK_PREFIX = "session_role_"
SESSION_SHORTCUT = "session_from_message"
SESSION_MEMBERS = "session_members"
SESSION_END = "session_end"
