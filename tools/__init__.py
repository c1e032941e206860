"""Integrations Carapulse can act through: one package per system (`tools.helm`, `tools.aws`, …), each
exposing its `carapulse.tools` entry point `toolset`, and what they share in `tools.common`. A tool
package imports only `tools.common` and itself (tests/unit/tools/test_imports.py checks it)."""
