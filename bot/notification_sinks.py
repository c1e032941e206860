"""Send one plan event to one sink: an e-mail over SMTP, a signed JSON POST to the webhook, or a
PagerDuty alert through the PagerDuty tool. Each is a job handler (bot/jobs.py): a failure that may
pass (a 5xx, a refused connection, a 429) raises RetryLater, honouring Retry-After; one that cannot
(a 4xx) raises GiveUp. The webhook body is signed with HMAC-SHA256 over its exact bytes, in
`X-Carapulse-Signature: sha256=<hex>`."""

from __future__ import annotations

import hashlib
import hmac
import json
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import aiosmtplib

from bot.clock import utcnow
from bot.escalation import PAGE_ACTION
from bot.jobs import GiveUp, Handler, Job, RetryLater
from bot.notification_rules import NotificationRoutes, Sink
from bot.notifications import KIND_PREFIX
from bot.settings import Settings
from bot.steps import run_action
from tools.common.registry import Registry

SIGNATURE_HEADER = "X-Carapulse-Signature"
TIMEOUT_SECONDS = 30.0


def email_message(job: Job, *, sender: str, to: list[str]) -> EmailMessage:
    event = job.payload
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = f"[carapulse] {_headline(event)}"
    lines = [
        _headline(event),
        "",
        f"Request: {event['request']}",
        f"Environment: {event['environment']}    Risk: {event['risk']}    Version: v{event['version']}",
        f"Requested by: {event['requester']}    Approved by: {', '.join(event['approvers']) or 'nobody'}",
    ]
    if event["reason"]:
        lines.append(f"Why: {event['reason']}")
    lines += ["", "Steps:"] + [
        f"  [{step['stage']}] {step['action']}: {step['state']}"
        + (f" ({step['summary']})" if step["summary"] else "")
        for step in event["steps"]
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Sinks:
    def __init__(
        self,
        *,
        routes: NotificationRoutes,
        registry: Registry,
        smtp: dict[str, Any],
        sender: str,
        webhook_url: str,
        webhook_secret: str,
    ) -> None:
        """`smtp` is aiosmtplib.send's connection arguments (hostname, port, username, ...)."""
        self._routes = routes
        self._registry = registry
        self._smtp = smtp
        self._sender = sender
        self._webhook_url = webhook_url
        self._webhook_secret = webhook_secret

    def handlers(self) -> dict[str, Handler]:
        return {
            KIND_PREFIX + "email": self.email,
            KIND_PREFIX + "webhook": self.webhook,
            KIND_PREFIX + "pagerduty": self.pagerduty,
        }

    async def email(self, job: Job) -> str:
        to = self._routes.email_to(job.payload["environment"])
        message = email_message(job, sender=self._sender, to=to)
        try:
            await aiosmtplib.send(message, timeout=TIMEOUT_SECONDS, **self._smtp)
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise RetryLater(f"SMTP: {type(exc).__name__}: {exc}") from exc
        return f"mailed {len(to)}"

    async def webhook(self, job: Job) -> str:
        body = json.dumps({"delivery": f"{job.plan_id}:{job.key}", **job.payload}, sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(self._webhook_secret, body),
            "X-Carapulse-Event": job.key,
            "User-Agent": "carapulse",
        }
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(self._webhook_url, data=body, headers=headers) as response,
            ):
                status, retry_after = response.status, response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryLater(f"webhook: {type(exc).__name__}: {exc}") from exc
        if status >= 500 or status == 429:
            raise RetryLater(f"webhook answered {status}", seconds=_retry_after(retry_after))
        if status >= 400:
            raise GiveUp(f"webhook refused the event with {status}")
        return f"delivered ({status})"

    async def pagerduty(self, job: Job) -> str:
        event = job.payload
        args = {
            "summary": _headline(event)[:1024],
            "source": "carapulse",
            "severity": "error",
            "dedup_key": f"carapulse-{job.team_id}-plan-{job.plan_id}-{job.key}",
            "component": event["target"]["name"][:255] or None,
            "custom_details": {
                "plan": str(job.plan_id),
                "environment": event["environment"],
                "why": event["reason"][:1000],
            },
        }
        outcome = await run_action(self._registry, PAGE_ACTION, args)
        if not outcome.ok:
            raise RetryLater(f"PagerDuty did not take the alert: {outcome.error}")
        return "paged"


def _headline(event: dict[str, Any]) -> str:
    what = event["event"].replace("_", " ")
    return f"Plan #{event['plan_id']} {what}: {event['summary']} ({event['environment']})"


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


def missing_settings(settings: Settings, registry: Registry) -> dict[Sink, str]:
    """For each sink, "" when it can send, else what is missing, as a start-up line ends."""
    email = (
        "SMTP_HOST is not set"
        if not settings.smtp_host
        else "SMTP_FROM is not set"
        if not settings.smtp_from
        else ""
    )
    webhook = (
        "NOTIFY_WEBHOOK_URL is not set"
        if not settings.notify_webhook_url
        else "NOTIFY_WEBHOOK_SECRET is not set (the body is signed with it)"
        if settings.notify_webhook_secret is None
        else ""
    )
    pagerduty = (
        ""
        if PAGE_ACTION in registry
        else "PagerDuty cannot send alerts here (set PAGERDUTY_TOKEN and PAGERDUTY_ROUTING_KEY)"
    )
    return {"email": email, "webhook": webhook, "pagerduty": pagerduty}


def from_settings(settings: Settings, *, routes: NotificationRoutes, registry: Registry) -> Sinks:
    smtp: dict[str, Any] = {
        "hostname": settings.smtp_host,
        "port": settings.smtp_port,
        "use_tls": settings.smtp_tls == "tls",
        "start_tls": settings.smtp_tls == "starttls",
    }
    if settings.smtp_username:
        smtp["username"] = settings.smtp_username
    if settings.smtp_password is not None:
        smtp["password"] = settings.smtp_password.get_secret_value()
    secret = settings.notify_webhook_secret
    return Sinks(
        routes=routes,
        registry=registry,
        smtp=smtp,
        sender=settings.smtp_from,
        webhook_url=settings.notify_webhook_url,
        webhook_secret=secret.get_secret_value() if secret else "",
    )
