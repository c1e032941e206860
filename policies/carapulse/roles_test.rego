package carapulse.roles_test

import data.carapulse.roles
import rego.v1

test_unknown_roles_grant_nothing if {
	not roles.may({"user_id": "U1", "roles": []}, "write")
	not roles.may({"user_id": "U1", "roles": ["root"]}, "write")
	not roles.may({"user_id": "U1", "roles": ["viewer"]}, "write")
	roles.may({"user_id": "U1", "roles": ["root", "operator"]}, "write")
}

test_writers_approvers_and_admins if {
	roles.may({"roles": ["operator"]}, "write")
	roles.may({"roles": ["admin"]}, "write")
	not roles.may({"roles": ["approver"]}, "write")
	roles.may({"roles": ["approver"]}, "approve")
	roles.may({"roles": ["admin"]}, "approve")
	not roles.may({"roles": ["operator"]}, "approve")
	roles.may({"roles": ["admin"]}, "break_glass")
	not roles.may({"roles": ["approver"]}, "break_glass")
}

test_approver_roles_come_from_the_rights_table if roles.approver_roles == ["admin", "approver"]

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
