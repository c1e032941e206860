"""Pure builders from domain objects to Block Kit JSON; no I/O, no clock reads."""
