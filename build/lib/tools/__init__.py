"""Integrations Carapulse can act through: one module per system, shared contract in `base`."""
