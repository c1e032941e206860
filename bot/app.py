"""Composition root: the one place that builds settings, database, tools, worker, notifier and the
Bolt app, and wires `actions/` in."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

import actions
from bot import incident_setup, library_files, notification_sinks, oauth, slack_web, toolbox, workflows
from bot.after_ack import AfterAck, RequestGate
from bot.api import service as api_service
from bot.api.service import ApiService
from bot.approval_rules import ApprovalRules
from bot.bolt_app import MeasuredApp
from bot.clock import Clock, SystemClock
from bot.context import mapping as context_mapping
from bot.context.collector import ContextCollector
from bot.context.memory import OperatorNotes
from bot.context.sources import SourceSettings
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade_to_head
from bot.edge import Intake
from bot.errors import ConfigError
from bot.escalation import PAGE_ACTION, Escalation
from bot.home import HomePublisher
from bot.incident_desk import IncidentDesk
from bot.jobs import JobRunner
from bot.knowledge_context import KnowledgeContext
from bot.llm import configured
from bot.notification_rules import NotificationRoutes
from bot.notifications import EventFeed
from bot.notifier import Notifier
from bot.operations import Runtime
from bot.plan_changes import PlanChanges
from bot.plan_rate import PlanRate
from bot.planning_context import PlanningContextProvider
from bot.policy import Policy
from bot.policy_engine import GuardedPolicy
from bot.readiness import Readiness, SlackAuth
from bot.roles import MembersOf, MembersUnavailable, RoleDirectory
from bot.scheduler import Scheduler
from bot.settings import Settings
from bot.slack_clients import InstalledWorkspaces, SingleWorkspace, SlackClients
from bot.slack_files import SlackFiles
from bot.tasks import TaskSupervisor
from bot.toolbox import Toolbox
from bot.verify_checks import CHECK_ACTION
from bot.worker import Worker
from tools.common.base import Effect

log = logging.getLogger(__name__)


@dataclass
class Carapulse:
    """A built service: start the worker with `start_worker`, stop everything with `aclose`."""

    settings: Settings
    engine: AsyncEngine
    runtime: Runtime
    bolt: AsyncApp
    tools: Toolbox
    roles: RoleDirectory
    gate: RequestGate
    # Long-running loops live apart from per-request work, so draining requests never waits on them.
    loops: TaskSupervisor
    # The bot token's last auth.test, renewed in the background; /readyz reports it.
    slack_auth: SlackAuth
    # Schedules the notifications beyond Slack; None when NOTIFY routes nothing anywhere.
    events: EventFeed | None = None
    # The pipeline API, when API_CHANNEL is set.
    api: ApiService | None = None
    # Alert-driven incidents and the webhooks, when any webhook credential is set.
    incidents: IncidentDesk | None = None

    # Open until shutdown begins; then the HTTP surface refuses new work (bot/edge.py).
    intake: Intake = field(default_factory=Intake)
    _worker_loop: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    def readiness(self) -> Readiness:
        """The checks /readyz answers with, for this process (its worker, if it runs one)."""
        return Readiness(self.engine, worker=self.runtime.worker, slack=self.slack_auth)

    def start_worker(self) -> None:
        """Start the background loops: the worker (if this process runs one), the scheduled jobs
        (escalation, notifications), the scheduler, the collection of the context graph (one replica
        at a time), the refresh of Slack user group memberships behind roles, and the check of the
        bot token behind readiness."""
        self.loops.spawn(self.slack_auth.run_forever(), name="slack-auth")
        if self.runtime.worker is not None:
            self._worker_loop = self.loops.spawn(self.runtime.worker.run_forever(), name="worker")
        if self.runtime.jobs is not None:
            self.loops.spawn(self.runtime.jobs.run_forever(), name="jobs")
        if self.events is not None:
            self.loops.spawn(self.events.run_forever(), name="notification-events")
        if self.runtime.scheduler is not None:
            self.loops.spawn(self.runtime.scheduler.run_forever(self.runtime), name="scheduler")
        if self.settings.context_refresh_seconds:
            self.loops.spawn(self.runtime.context.run_forever(), name="context-collector")
        if self.settings.usergroup_roles:
            refresh = self.roles.refresh_forever(self.settings.usergroup_cache_seconds)
            self.loops.spawn(refresh, name="usergroup-roles")

    def stop_taking_work(self) -> None:
        """The first step of shutting down: new requests are refused and no execution is claimed."""
        self.intake.close()
        if self.runtime.worker is not None:
            self.runtime.worker.stop()

    async def aclose(self) -> None:
        """Shut down within SHUTDOWN_GRACE_SECONDS: take no new work, let the running step finish
        and record it, hand its execution back to the other workers, deliver the pending card
        edits and request work, then close. Whatever is still running at the deadline is
        cancelled; a step cut off that way is retried or paused by the worker that takes over."""
        self.stop_taking_work()
        grace = self.settings.shutdown_grace_seconds
        log.info("finishing the running step and the card edits (for up to %gs)", grace)
        deadline = asyncio.get_running_loop().time() + grace
        if self._worker_loop is not None:
            await _until(deadline, self._worker_loop)
        await self.loops.aclose()
        if self.runtime.worker is not None:
            await _hand_back(self.runtime.worker)
        if self.api is not None:
            await self.api.aclose()
        await _until(deadline, self.runtime.supervisor.drain())
        await self.runtime.supervisor.aclose()
        await self.tools.aclose()
        if self.runtime.model is not None:
            await self.runtime.model.aclose()
        await self.engine.dispose()


async def _hand_back(worker: Worker) -> None:
    """Release the worker's leases, or say why not: shutting down goes on either way, and the
    leases lapse by themselves (WORKER_LEASE_SECONDS), as if the process had died."""
    try:
        await worker.release_leases()
    except SQLAlchemyError as exc:
        log.warning("could not hand executions back (%s); their leases lapse on their own", exc)


async def _until(deadline: float, work: Awaitable[object]) -> None:
    """Wait for `work` until the loop's clock reaches `deadline`, then cancel it if it still runs.
    What it raised was logged by whoever owns it."""
    task = asyncio.ensure_future(work)
    await asyncio.wait({task}, timeout=max(0.0, deadline - asyncio.get_running_loop().time()))
    task.cancel()
    await asyncio.wait({task})


async def create_app(
    settings: Settings,
    *,
    with_worker: bool = True,
    migrate: bool = True,
    environ: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    context_providers: Sequence[PlanningContextProvider] = (),
) -> Carapulse:
    """`environ` is where tools read their settings (default: the process environment); `clock` is
    what the scheduled jobs wait on (default: the system's); `context_providers` give a model
    planner context beside the request, after the operator notes and runbooks it always reads."""
    # Configuration problems first, before anything is opened.
    api_team = api_service.workspace(settings)
    environ = os.environ if environ is None else environ
    configured.check(settings, environ)
    tools = toolbox.build(environ)
    if settings.verify_checks and CHECK_ACTION not in tools.registry:
        await tools.aclose()
        raise ConfigError("VERIFY_CHECKS: the checks need the prometheus tool; set PROMETHEUS_URL")
    try:
        approvals = ApprovalRules(
            settings.approvals,
            production={name: env.production for name, env in settings.configured_environments().items()},
        )
        routes = NotificationRoutes(
            settings.notify,
            environments=settings.configured_environments(),
            configured=notification_sinks.missing_settings(settings, tools.registry),
        )
        catalog = workflows.build_catalog(
            settings.workflows_dir, environments=settings.configured_environments()
        )
        incident_setup.check(settings, catalog)
        client = slack_client(settings)
        identity = await incident_setup.identity(client) if settings.hooks_enabled else None
        files = library_files.EMPTY
        if settings.library_dir is not None:
            files = await library_files.load(settings.library_dir, catalog=catalog)
        services = context_mapping.load(settings.context_mapping_file)
    except ConfigError:
        await tools.aclose()
        raise
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    try:
        if migrate:
            await upgrade_to_head(engine)
        async with sessions.begin() as session:
            await library_files.sync(session, files)
    except BaseException:
        await engine.dispose()
        await tools.aclose()
        raise
    install_settings = _oauth_settings(settings, engine)
    clients: SlackClients = (
        InstalledWorkspaces(install_settings.installation_store, base_url=settings.slack_api_url)
        if install_settings is not None and install_settings.installation_store is not None
        else SingleWorkspace(client)
    )
    supervisor = TaskSupervisor()
    gate = RequestGate()
    changes = PlanChanges()
    notifier = Notifier(
        clients=clients,
        sessions=sessions,
        supervisor=supervisor,
        min_interval=settings.card_update_interval_seconds,
    )
    notifier.add_observer(changes)
    worker = (
        Worker(
            sessions=sessions,
            registry=tools.registry,
            observer=notifier,
            lease_seconds=settings.worker_lease_seconds,
            poll_seconds=settings.worker_poll_seconds,
            execution_timeout_seconds=settings.execution_timeout_seconds,
        )
        if with_worker
        else None
    )
    user_roles = dict(settings.roles)
    if identity is not None:
        # Remediations proposed for incidents (from runbooks or INCIDENT_REMEDIATIONS) are requested
        # by the bot; each waits for a person's approval.
        user_roles[identity.user_id] = ["operator"]
    roles = RoleDirectory(
        user_roles=user_roles, group_roles=settings.usergroup_roles, members_of=usergroup_members(client)
    )
    await roles.refresh()
    policy = Policy(
        engine=GuardedPolicy(settings.policy_dir),
        environments=settings.configured_environments(),
        roles=roles,
        default_roles=settings.default_roles,
        read_actions=frozenset(a.name for a in tools.registry if a.effect == Effect.READ),
        risk_hints={a.name: a.risk.value for a in tools.registry if a.risk is not None},
        approval_ttl=timedelta(seconds=settings.approval_ttl_seconds),
    )
    for environment, rules in settings.approvals.items():
        if rules.page_after_seconds and PAGE_ACTION not in tools.registry:
            log.warning(
                "APPROVALS: %s pages on-call, but PagerDuty cannot send alerts here "
                "(set PAGERDUTY_TOKEN and PAGERDUTY_ROUTING_KEY); plans there are not paged",
                environment,
            )
    if not settings.security_channel:
        log.warning("SECURITY_CHANNEL is not set: break-glass notices go only to the plan's thread")
    if policy.engine.load_error:
        log.error("policy: %s; writes are refused until it loads", policy.engine.load_error)
    escalation = Escalation(
        sessions=sessions, notifier=notifier, registry=tools.registry, approvals=approvals
    )
    sinks = notification_sinks.from_settings(settings, routes=routes, registry=tools.registry)
    clock = clock or SystemClock()
    jobs = JobRunner(
        sessions=sessions,
        clock=clock,
        supervisor=supervisor,
        handlers={**escalation.handlers(), **sinks.handlers()},
        poll_seconds=settings.worker_poll_seconds,
    )
    events = EventFeed(sessions=sessions, routes=routes, jobs=jobs, clock=clock) if routes else None
    if events is not None:
        notifier.add_observer(events)
    model = configured.model(settings, environ, sessions=sessions, redactor=tools.registry.redactor)
    home = HomePublisher(
        clients=clients,
        sessions=sessions,
        supervisor=supervisor,
        policy=policy,
        min_interval=settings.home_update_interval_seconds,
    )
    notifier.add_observer(home)
    runtime = Runtime(
        sessions=sessions,
        notifier=notifier,
        supervisor=supervisor,
        after_ack=AfterAck(supervisor=supervisor, gate=gate),
        worker=worker,
        registry=tools.registry,
        policy=policy,
        environment=settings.environment,
        cluster=settings.cluster,
        workflows=catalog,
        files=SlackFiles(clients),
        context=ContextCollector(
            sessions=sessions,
            registry=tools.registry,
            settings=SourceSettings(environment=settings.environment, aws_tag=settings.context_aws_tag),
            mapping=services,
            keep=timedelta(days=settings.context_retention_days),
            interval=settings.context_refresh_seconds,
            memory=OperatorNotes(sessions),
        ),
        security_channel=settings.security_channel,
        verify_checks=settings.verify_checks,
        approvals=approvals,
        jobs=jobs,
        planner=configured.planner(model),
        model=model,
        investigate_max_calls=settings.investigate_max_calls,
        context_providers=(KnowledgeContext(sessions), *context_providers),
        home=home,
        scheduler=Scheduler(sessions=sessions, rescan_seconds=settings.scheduler_rescan_seconds, clock=clock),
        plan_rate=PlanRate.parse(settings.plan_rate_limit),
    )
    bolt = MeasuredApp(
        # Named, or Bolt names itself after its caller's file through inspect.stack(), which reads
        # the source of every loaded module (~0.1 s at start-up).
        name="carapulse",
        client=client,
        # OAuth installs: each request's `client` carries the token stored for its team.
        oauth_settings=install_settings,
        signing_secret=settings.slack_signing_secret or None,
        # Only Socket Mode and `carapulse worker` run without a secret; HTTP mode refuses to start.
        request_verification_enabled=bool(settings.slack_signing_secret),
        process_before_response=True,
        logger=logging.getLogger("slack_bolt"),
    )
    incidents = (
        incident_setup.desk(
            runtime, client, settings, identity, min_interval=settings.card_update_interval_seconds
        )
        if identity
        else None
    )
    actions.register(bolt, runtime=runtime, incidents=incidents)
    api = api_service.build(settings, team_id=api_team, runtime=runtime, changes=changes)
    return Carapulse(
        settings=settings,
        engine=engine,
        runtime=runtime,
        bolt=bolt,
        tools=tools,
        roles=roles,
        gate=gate,
        loops=TaskSupervisor(),
        slack_auth=SlackAuth(None if settings.oauth_installs else client),
        events=events,
        api=api,
        incidents=incidents,
    )


def usergroup_members(client: AsyncWebClient) -> MembersOf:
    """Members of a Slack user group, as RoleDirectory reads them."""

    async def members_of(group_id: str) -> list[str]:
        try:
            response = await client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as exc:
            raise MembersUnavailable(exc.response.get("error", "unknown_error")) from exc
        return list(response.get("users") or [])

    return members_of


def slack_client(settings: Settings) -> AsyncWebClient:
    """The app's client, retrying 429s and 5xx and counting every call (bot/slack_web.py):
    SLACK_BOT_TOKEN's, or (OAuth installs) one without a token that Bolt copies for each request
    with the token of the request's team."""
    return slack_web.slack_client(settings.slack_bot_token or None, settings.slack_api_url)


def _oauth_settings(settings: Settings, engine: AsyncEngine) -> AsyncOAuthSettings | None:
    if not settings.oauth_installs or settings.slack_client_secret is None:
        return None
    return oauth.oauth_settings(
        engine,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        redirect_uri=settings.slack_redirect_uri or None,
    )
