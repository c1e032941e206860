# Who may do what: roles of a user, and which approvals count towards a quorum.
package carapulse.roles

import rego.v1

known_roles := {"viewer", "operator", "approver", "admin"}

approver_roles := {"approver", "admin"}

writer_roles := {"operator", "admin"}

# Roles we recognise; a user with none of them (or no roles at all) is a viewer.
roles(user) := known if {
	known := {role | some role in object.get(user, "roles", []); role in known_roles}
	count(known) > 0
}

else := {"viewer"}

identified(user) if object.get(user, "user_id", "") != ""

can_write(user) if {
	some role in roles(user)
	role in writer_roles
}

can_approve(user) if {
	some role in roles(user)
	role in approver_roles
}

is_requester(user) if {
	identified(user)
	user.user_id == input.requester.user_id
}

# Distinct approvers that count: identified, not the requester, holding an approver role.
counted_approvals := sort([user_id | some user_id in {approval.user_id |
	some approval in object.get(input, "approvals", [])
	identified(approval)
	not is_requester(approval)
	can_approve(approval)
}])
