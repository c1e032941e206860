"""Workflows: named, versioned templates that turn typed inputs into plans (see base.py)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.workflows import overrides
from bot.workflows.base import Workflow
from bot.workflows.catalog import Catalog
from bot.workflows.gitops_deploy import GitOpsDeploy
from bot.workflows.helm_release import HelmRelease
from bot.workflows.incident_remediation import IncidentRemediation
from bot.workflows.scale_service import ScaleService
from bot.workflows.secret_rotation import SecretRotation


def built_in() -> list[Workflow[Any]]:
    """The workflows Carapulse ships, in the order the catalog lists them."""
    return [ScaleService(), GitOpsDeploy(), HelmRelease(), IncidentRemediation(), SecretRotation()]


def build_catalog(directory: Path | None, *, environments: Iterable[str]) -> Catalog:
    """The built-in workflows with the override files under `directory`; a bad file raises
    ConfigError naming it."""
    workflows = built_in()
    return Catalog(workflows, overrides.load(directory, workflows=workflows, environments=environments))
