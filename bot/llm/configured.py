"""The planner and model this deployment is configured with (PLANNER, PLANNER_MODEL, …), checked at
start-up so a missing key stops the service with one line, yet built without importing any SDK."""

from __future__ import annotations

from collections.abc import Mapping

from bot.db.engine import SessionFactory
from bot.domain import PlannerRef
from bot.errors import ConfigError
from bot.llm.clients import Api, Connection, LazyClient
from bot.llm.model import Model
from bot.llm.planner import ModelPlanner
from bot.planners import Planner, RulesPlanner
from bot.settings import Settings
from tools.common.redaction import Redactor

# Where each SDK reads its key by default; Carapulse reads the same variable.
API_KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


def check(settings: Settings, environ: Mapping[str, str]) -> None:
    """Raises ConfigError naming the variable a model planner lacks."""
    if settings.planner == "rules":
        return
    variable = API_KEY_VARIABLES[settings.planner]
    if not environ.get(variable, "").strip():
        raise ConfigError(
            f"{variable} is missing: PLANNER={settings.planner} needs it "
            "(any value for a local server that ignores it)"
        )


def model(
    settings: Settings, environ: Mapping[str, str], *, sessions: SessionFactory, redactor: Redactor
) -> Model | None:
    """The configured model, not yet connected (its SDK loads with the first request); None with
    PLANNER=rules. Call `check` first."""
    if settings.planner == "rules":
        return None
    api: Api = "messages" if settings.planner == "anthropic" else settings.planner_api
    connection = Connection(
        api=api,
        model=settings.planner_model,
        api_key=environ[API_KEY_VARIABLES[settings.planner]].strip(),
        base_url=settings.planner_base_url or None,
        timeout_seconds=settings.planner_timeout_seconds,
        max_retries=settings.planner_max_retries,
    )
    return Model(
        client=LazyClient(connection),
        ref=PlannerRef(name=settings.planner, model=settings.planner_model),
        redactor=redactor,
        sessions=sessions,
        prices=settings.planner_prices,
        budget_seconds=settings.planner_timeout_seconds,
        max_tokens=settings.planner_max_tokens,
    )


def planner(configured: Model | None) -> Planner:
    rules = RulesPlanner()
    return rules if configured is None else ModelPlanner(configured, fallback=rules)
