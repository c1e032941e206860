# Time rules, all read from `input.now` so a decision is a pure function of its input:
# change freezes, and recurring maintenance windows.
package carapulse.calendar

import rego.v1

# parse_rfc3339_ns rejects a trailing "Z", so spell it as an offset first.
rfc3339_ns(text) := time.parse_rfc3339_ns(concat("", [trim_suffix(text, "Z"), "+00:00"])) if endswith(text, "Z")

else := time.parse_rfc3339_ns(text)

now_ns := rfc3339_ns(input.now)

environment := object.get(input.plan, "environment", "")

active_freezes contains freeze if {
	some freeze in object.get(input, "freezes", [])
	freeze.environment == environment
	now_ns < rfc3339_ns(freeze.until)
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

freeze_sentences contains concat("", ["Denied: ", environment, " is frozen until ", utc_label(rfc3339_ns(f.until)), " (", reason, ")"]) if {
	some f in active_freezes
	reason := object.get(f, "reason", "no reason given")
}

# Maintenance windows of the plan's environment: when an environment lists any, writes run only
# inside one of them; an environment without windows takes writes at any time.
windows := object.get(object.get(input.environments, environment, {}), "maintenance_windows", [])

minutes(hh_mm) := (to_number(parts[0]) * 60) + to_number(parts[1]) if parts := split(hh_mm, ":")

local_minutes(timezone) := (clock[0] * 60) + clock[1] if clock := time.clock([now_ns, timezone])

in_window(window) if open_at(minutes(window.start), minutes(window.end), local_minutes(window.timezone))

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

window_open if count(windows) == 0

window_open if {
	some window in windows
	in_window(window)
}

window_labels := concat(", ", [concat("", [w.start, "–", w.end, " ", w.timezone]) | some w in windows])
