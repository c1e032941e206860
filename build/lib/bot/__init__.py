"""The Carapulse service: settings, database, plan/approval/execution services, worker, notifier."""
