package carapulse.roles_test

import data.carapulse.roles
import rego.v1

test_unknown_users_are_viewers if {
	roles.roles({"user_id": "U1"}) == {"viewer"}
	roles.roles({"user_id": "U1", "roles": ["root"]}) == {"viewer"}
	roles.roles({"user_id": "U1", "roles": ["operator", "root"]}) == {"operator"}
}

test_writers_and_approvers if {
	roles.can_write({"roles": ["operator"]})
	roles.can_write({"roles": ["admin"]})
	not roles.can_write({"roles": ["approver"]})
	roles.can_approve({"roles": ["approver"]})
	roles.can_approve({"roles": ["admin"]})
	not roles.can_approve({"roles": ["operator"]})
}

test_counted_approvals_skip_requester_non_approvers_and_duplicates if {
	approvals := [
		{"user_id": "U1", "roles": ["approver"]},
		{"user_id": "U2", "roles": ["operator"]},
		{"user_id": "U3", "roles": ["approver"]},
		{"user_id": "U3", "roles": ["approver"]},
		{"user_id": "U4", "roles": ["admin"]},
		{"user_id": "", "roles": ["admin"]},
	]
	roles.counted_approvals == ["U3", "U4"] with input.approvals as approvals with input.requester as {"user_id": "U1"}
}
