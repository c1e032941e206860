"""Every refusal of /hooks/*, beside the accepted cases: status, reason, one WARNING line, no body."""

import json
import logging

import pytest

from bot.db.models import Incident
from bot.edge import DEFAULT_MAX_REQUEST_BYTES as MAX_BODY_BYTES
from tests.alerts import alert, webhook
from tests.harness import RunningBot
from tests.hooks import ALERTMANAGER_TOKEN, GITLAB_TOKEN, post, signed

BODY = webhook(alert(fingerprint="aa01"))


@pytest.mark.parametrize(
    ("headers", "bearer", "raw", "content_type", "status", "reason"),
    [
        ({}, None, None, "application/json", 401, "no credential matches"),
        ({}, "wrong-token", None, "application/json", 401, "no credential matches"),
        ({"X-Carapulse-Signature": "sha256=00"}, None, None, "application/json", 401, "no credential"),
        ({}, ALERTMANAGER_TOKEN, None, "text/plain", 415, "Content-Type must be application/json"),
        ({}, ALERTMANAGER_TOKEN, None, "application/json; charset=latin-1", 415, "charset must be utf-8"),
        ({}, ALERTMANAGER_TOKEN, b"", "application/json", 400, "body is empty"),
        ({}, ALERTMANAGER_TOKEN, b"\xff{}", "application/json", 400, "body is not UTF-8"),
        ({}, ALERTMANAGER_TOKEN, b"{not json", "application/json", 400, "body is not valid JSON"),
        ({}, ALERTMANAGER_TOKEN, b"[]", "application/json", 400, "body is not a JSON object"),
        (
            {},
            ALERTMANAGER_TOKEN,
            b'{"version": "4"}',
            "application/json",
            400,
            "not a AlertmanagerWebhook: status",
        ),
        ({}, ALERTMANAGER_TOKEN, b"x" * (MAX_BODY_BYTES + 1), "application/json", 413, "larger than"),
    ],
)
async def test_refused_alertmanager_deliveries(
    incident_bot: RunningBot,
    caplog: pytest.LogCaptureFixture,
    headers: dict[str, str],
    bearer: str | None,
    raw: bytes | None,
    content_type: str,
    status: int,
    reason: str,
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.hooks_http"):
        answer = await post(
            incident_bot.url,
            "alertmanager",
            BODY,
            headers=headers,
            bearer=bearer,
            raw=raw,
            content_type=content_type,
        )
    assert answer.status == status
    if status == 401:
        assert answer.json() == {"error": "invalid request"}
    else:
        assert reason in answer.text
    [line] = [r.getMessage() for r in caplog.records if r.name == "bot.hooks_http"]
    assert line.startswith(f"refused a webhook to /hooks/alertmanager: {status} ") and reason in line
    assert "ProbeAlwaysFiring" not in line
    assert await incident_bot.count(Incident) == 0


async def test_a_bad_alert_field_is_named_in_the_answer(incident_bot: RunningBot) -> None:
    body = webhook(alert(fingerprint="not a fingerprint!"))
    answer = await post(incident_bot.url, "alertmanager", body)
    assert answer.status == 400
    assert "alerts.0.fingerprint" in answer.text


async def test_an_hmac_signed_delivery_is_accepted(incident_bot: RunningBot) -> None:
    data, headers = signed(BODY)
    answer = await post(incident_bot.url, "alertmanager", None, raw=data, headers=headers, bearer=None)
    assert answer.status == 200, answer.text


async def test_a_signature_over_other_bytes_is_refused(incident_bot: RunningBot) -> None:
    _, headers = signed(BODY)
    answer = await post(
        incident_bot.url, "alertmanager", {**BODY, "receiver": "other"}, headers=headers, bearer=None
    )
    assert answer.status == 401


async def test_a_hook_without_credentials_answers_404_naming_them(bot: RunningBot) -> None:
    answer = await post(bot.url, "alertmanager", BODY)
    assert (answer.status, answer.text) == (
        404,
        "/hooks/alertmanager is not configured: set ALERTMANAGER_HOOK_TOKEN or ALERTMANAGER_HOOK_SECRET",
    )


async def test_an_argocd_sync_becomes_a_deploy_of_its_app(incident_bot: RunningBot) -> None:
    body = {
        "app": "checkout",
        "revision": "d" * 40,
        "phase": "Succeeded",
        "health": "Healthy",
        "sync": "Synced",
    }
    answer = await post(incident_bot.url, "argocd", body)
    assert answer.json() == {"status": "accepted", "service": "checkout", "kind": "deploy"}


@pytest.mark.parametrize(
    ("headers", "body", "service", "kind"),
    [
        (
            {"X-GitHub-Event": "push"},
            {
                "ref": "refs/heads/main",
                "after": "a" * 40,
                "repository": {"full_name": "acme/checkout"},
                "pusher": {"name": "alice"},
                "head_commit": {"id": "a" * 40, "message": "fix totals\n\nmore"},
            },
            "checkout",
            "push",
        ),
        (
            {"X-GitHub-Event": "deployment"},
            {
                "repository": {"full_name": "acme/payments"},
                "deployment": {
                    "sha": "b" * 40,
                    "ref": "v1.2.3",
                    "environment": "prod",
                    "creator": {"login": "bob"},
                },
            },
            "payments",
            "deploy",
        ),
    ],
)
async def test_github_events_become_service_events(
    incident_bot: RunningBot, headers: dict[str, str], body: dict, service: str, kind: str
) -> None:
    data, signature = signed(body, header="X-Hub-Signature-256")
    answer = await post(
        incident_bot.url, "git", None, raw=data, headers={**headers, **signature}, bearer=None
    )
    assert answer.status == 200, answer.text
    assert answer.json() == {"status": "accepted", "service": service, "kind": kind}


async def test_a_gitlab_deployment_becomes_a_deploy(incident_bot: RunningBot) -> None:
    body = {
        "object_kind": "deployment",
        "status": "success",
        "environment": "prod",
        "sha": "c" * 40,
        "ref": "main",
        "user": {"username": "carol"},
        "project": {"path_with_namespace": "acme/checkout"},
    }
    headers = {"X-Gitlab-Event": "Deployment Hook", "X-Gitlab-Token": GITLAB_TOKEN}
    answer = await post(incident_bot.url, "git", body, headers=headers, bearer=None)
    assert answer.json() == {"status": "accepted", "service": "checkout", "kind": "deploy"}
    wrong = await post(incident_bot.url, "git", body, headers={**headers, "X-Gitlab-Token": "x"}, bearer=None)
    assert wrong.status == 401


async def test_an_unknown_github_event_is_refused_with_the_reason(incident_bot: RunningBot) -> None:
    data, signature = signed({"repository": {"full_name": "a/b"}}, header="X-Hub-Signature-256")
    headers = {"X-GitHub-Event": "issues", **signature}
    answer = await post(incident_bot.url, "git", None, raw=data, headers=headers, bearer=None)
    assert (answer.status, answer.text) == (
        400,
        "X-GitHub-Event issues is not one of push, deployment, deployment_status",
    )


async def test_a_kubernetes_event_is_the_service_of_its_pod(incident_bot: RunningBot) -> None:
    event = {
        "involvedObject": {"kind": "Pod", "name": "checkout-7d9c5b6f4-x2x9z", "namespace": "shop"},
        "reason": "BackOff",
        "message": "Back-off restarting failed container",
        "type": "Warning",
        "count": 3,
        "lastTimestamp": "2026-11-26T04:00:00Z",
    }
    data, headers = signed(event)
    answer = await post(incident_bot.url, "k8s", None, raw=data, headers=headers, bearer=None)
    assert answer.json() == {"status": "accepted", "service": "checkout", "kind": "k8s_event"}
    assert json.loads(answer.text)["service"] == "checkout"
