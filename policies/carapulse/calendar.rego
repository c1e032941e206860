# Time rules, all read from `input.now` so a decision is a pure function of its input:
# change freezes, and recurring maintenance windows.
package carapulse.calendar

import rego.v1

# The bot writes every timestamp with an offset (time.parse_rfc3339_ns rejects a trailing "Z").
now_ns := time.parse_rfc3339_ns(input.now)

environment := input.plan.environment

active_freezes contains freeze if {
	some freeze in input.freezes
	freeze.environment == environment
	now_ns < time.parse_rfc3339_ns(freeze.until)
}

# "18:00 UTC" when the freeze ends today (UTC), else "2024-06-03 18:00 UTC".
utc_label(ns) := sprintf("%02d:%02d UTC", [clock[0], clock[1]]) if {
	clock := time.clock([ns, "UTC"])
	time.date([ns, "UTC"]) == time.date([now_ns, "UTC"])
}

else := sprintf("%04d-%02d-%02d %02d:%02d UTC", [date[0], date[1], date[2], clock[0], clock[1]]) if {
	clock := time.clock([ns, "UTC"])
	date := time.date([ns, "UTC"])
}

freeze_sentences contains concat("", ["Denied: ", environment, " is frozen until ", utc_label(time.parse_rfc3339_ns(f.until)), " (", f.reason, ")"]) if {
	some f in active_freezes
}

# Maintenance windows of the plan's environment: when an environment lists any, writes run only
# inside one of them; an environment without windows takes writes at any time.
default windows := []

windows := input.environments[environment].maintenance_windows

# Window bounds are zero-padded "HH:MM", so comparing them as strings compares the times.
in_window(window) if open_at(window.start, window.end, local_time(window.timezone))

local_time(timezone) := sprintf("%02d:%02d", [clock[0], clock[1]]) if clock := time.clock([now_ns, timezone])

# start == end means the window is open all day.
open_at(start, end, _) if start == end

open_at(start, end, now) if {
	start < end
	start <= now
	now < end
}

# A window that wraps midnight (22:00-02:00) is open from its start until midnight and again
# from midnight until its end.
open_at(start, end, now) if {
	start > end
	now >= start
}

open_at(start, end, now) if {
	start > end
	now < end
}

default window_open := false

window_open if not windows[0]

window_open if {
	some window in windows
	in_window(window)
}

window_labels := concat(", ", [concat("", [w.start, "–", w.end, " ", w.timezone]) | some w in windows])
