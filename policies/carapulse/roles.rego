# Who may do what (the rights of each role are in tables/data.yaml), and which approvals count
# towards a quorum.
package carapulse.roles

import data.carapulse.tables
import rego.v1

# A user may do something when one of their roles grants it; unknown roles grant nothing.
may(user, right) if {
	some role in user.roles
	tables.role_rights[role][right]
}

identified(user) if {
	user.user_id
	not user.user_id == ""
}

is_requester(user) if {
	identified(user)
	user.user_id == input.requester.user_id
}

# Roles whose approval counts, for the card.
approver_roles := sort([role | tables.role_rights[role].approve])

# Distinct approvers that count: identified, not the requester, holding a role that may approve.
counted_approvals := sort([user_id | some user_id in {approval.user_id |
	some approval in input.approvals
	identified(approval)
	not is_requester(approval)
	may(approval, "approve")
}])
