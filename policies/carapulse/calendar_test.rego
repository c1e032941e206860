package carapulse.calendar_test

import data.carapulse.calendar
import rego.v1

night := {"start": "22:00", "end": "02:00", "timezone": "Europe/Berlin"}

office := {"start": "09:00", "end": "17:00", "timezone": "UTC"}

test_window_wrapping_midnight if {
	# 23:30 and 01:30 Berlin (CEST, UTC+2) are inside 22:00-02:00, 12:00 and 02:00 are not.
	calendar.in_window(night) with input.now as "2024-06-01T21:30:00+00:00"
	calendar.in_window(night) with input.now as "2024-06-01T23:30:00+00:00"
	not calendar.in_window(night) with input.now as "2024-06-01T10:00:00+00:00"
	not calendar.in_window(night) with input.now as "2024-06-02T00:00:00+00:00"
}

test_window_within_a_day if {
	calendar.in_window(office) with input.now as "2024-06-01T09:00:00+00:00"
	not calendar.in_window(office) with input.now as "2024-06-01T17:00:00+00:00"
}

test_window_with_equal_start_and_end_is_open_all_day if {
	calendar.in_window({"start": "00:00", "end": "00:00", "timezone": "UTC"}) with input.now as "2024-06-01T05:00:00+00:00"
}

test_environment_without_windows_is_always_open if {
	calendar.window_open with input.plan.environment as "dev" with input.environments as {"dev": {}}
}

test_environment_with_windows_is_open_only_inside_one if {
	envs := {"prod": {"maintenance_windows": [office, night]}}
	calendar.window_open with input.plan.environment as "prod" with input.environments as envs
		with input.now as "2024-06-01T21:30:00+00:00"
	not calendar.window_open with input.plan.environment as "prod" with input.environments as envs
		with input.now as "2024-06-01T18:00:00+00:00"
}

test_freeze_applies_to_its_environment_until_it_ends if {
	freezes := [{"environment": "prod", "until": "2024-06-01T18:00:00+00:00", "reason": "release freeze"}]
	count(calendar.active_freezes) == 1 with input.plan.environment as "prod" with input.freezes as freezes
		with input.now as "2024-06-01T12:00:00+00:00"
	count(calendar.active_freezes) == 0 with input.plan.environment as "prod" with input.freezes as freezes
		with input.now as "2024-06-01T18:00:00+00:00"
	count(calendar.active_freezes) == 0 with input.plan.environment as "dev" with input.freezes as freezes
		with input.now as "2024-06-01T12:00:00+00:00"
}

test_freeze_sentence_names_end_and_reason if {
	freezes := [{"environment": "prod", "until": "2024-06-03T18:00:00+00:00", "reason": "release freeze"}]
	calendar.freeze_sentences == {"Denied: prod is frozen until 2024-06-03 18:00 UTC (release freeze)"}
		with input.plan.environment as "prod" with input.freezes as freezes
		with input.now as "2024-06-01T12:00:00+00:00"
}
