"""Installs to many workspaces through Bolt's OAuth flow, end to end over HTTP against the fake
Slack: the install page, Slack's redirect with a code, oauth.v2.access, the installation in the
database; then two workspaces side by side, each answered with its own token, neither seeing the
other's plans, status, audit or App Home."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from sqlalchemy import select

from blocks import ids
from bot.db import slack_tables
from bot.oauth import BOT_SCOPES
from bot.playground.slack.oauth import Grant
from bot.playground.slack.state import ALICE, BOB, OPS_CHANNEL, TEAM_ID
from bot.playground.slack.web_api import FakeSlack, RecordedCall
from tests.harness import RunningBot, running_bot

CLIENT_ID, CLIENT_SECRET = "1111.2222", "oauth-client-secret"
BETA_TEAM, BETA_CHANNEL, BETA_OPS = "T0456BETA00", "C0456BETAOP", "U0456BETAOP"
ALPHA = Grant(
    team_id=TEAM_ID,
    team_name="acme-sre",
    bot_token="xoxb-alpha",
    bot_user_id="U0123BOTUSR",
    bot_id="B0123BOTID1",
    installer_id=ALICE,
    scopes=BOT_SCOPES,
)
BETA = Grant(
    team_id=BETA_TEAM,
    team_name="beta",
    bot_token="xoxb-beta",
    bot_user_id="U0456BOTUSR",
    bot_id="B0456BOTID1",
    installer_id=BETA_OPS,
    scopes=BOT_SCOPES,
)
OAUTH_SETTINGS = {
    "SLACK_BOT_TOKEN": "",
    "SLACK_CLIENT_ID": CLIENT_ID,
    "SLACK_CLIENT_SECRET": CLIENT_SECRET,
    "ROLES": json.dumps(
        {
            ALICE: ["operator", "approver", "admin"],
            BOB: ["approver"],
            BETA_OPS: ["operator", "approver", "admin"],
        }
    ),
}


def _prepare(slack: FakeSlack) -> None:
    slack.oauth.add_app(CLIENT_ID, CLIENT_SECRET)
    slack.add_user(BETA_OPS, "bea")
    slack.add_channel(BETA_CHANNEL, "beta-ops")


@pytest.fixture
async def bot(database_url: str, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(
        database_url=database_url, tmp_path=tmp_path, overrides=OAUTH_SETTINGS, prepare_slack=_prepare
    ) as running:
        yield running


async def _start_install(http: aiohttp.ClientSession, bot: RunningBot) -> tuple[str, dict[str, list[str]]]:
    """Open the install page; the state cookie and the query of Slack's authorize link on it."""
    async with http.get(f"{bot.url}/slack/install") as page:
        assert page.status == 200
        body = await page.text()
        cookie = page.cookies["slack-app-oauth-state"].value
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', body)
    assert link is not None, body
    return cookie, parse_qs(urlparse(html.unescape(link[1])).query)


async def _come_back(
    http: aiohttp.ClientSession, bot: RunningBot, *, code: str, state: str, cookie: str
) -> tuple[int, str]:
    """Slack's redirect of the installer's browser, with the code and the state it was given."""
    async with http.get(
        f"{bot.url}/slack/oauth_redirect",
        params={"code": code, "state": state},
        headers={"Cookie": f"slack-app-oauth-state={cookie}"},
    ) as answer:
        return answer.status, await answer.text()


async def install(bot: RunningBot, grant: Grant) -> None:
    code = f"code-{grant.team_id}"
    async with aiohttp.ClientSession() as http:
        cookie, query = await _start_install(http, bot)
        bot.slack.oauth.consent(code, grant)
        status, body = await _come_back(http, bot, code=code, state=query["state"][0], cookie=cookie)
    assert status == 200, body


async def _stored_bots(bot: RunningBot) -> list[tuple[str, str, str]]:
    async with bot.carapulse.runtime.sessions() as session:
        rows = await session.execute(
            select(
                slack_tables.bots.c.team_id, slack_tables.bots.c.bot_token, slack_tables.bots.c.bot_user_id
            )
        )
        return sorted(tuple(row) for row in rows)


def _token_of(call: RecordedCall) -> str:
    return call.headers["authorization"].removeprefix("Bearer ")


async def test_an_install_stores_the_workspace_and_its_token_answers_it(bot: RunningBot) -> None:
    async with aiohttp.ClientSession() as http:
        cookie, query = await _start_install(http, bot)
        assert query["client_id"] == [CLIENT_ID]
        assert query["scope"][0].split(",") == list(BOT_SCOPES)
        assert query["state"] == [cookie]
        bot.slack.oauth.consent("code-alpha", ALPHA)
        status, _ = await _come_back(http, bot, code="code-alpha", state=cookie, cookie=cookie)

    assert status == 200
    (exchange,) = bot.slack.calls_to("oauth.v2.access")
    assert exchange.ok and exchange.args["code"] == "code-alpha"
    assert await _stored_bots(bot) == [(TEAM_ID, "xoxb-alpha", "U0123BOTUSR")]

    await bot.driver.slash_command("scale checkout to 5 in shop", user=ALICE)
    card = await bot.slack.wait_for(lambda c: c.method == "chat.postMessage" and c.ok)
    assert _token_of(card) == "xoxb-alpha"


async def test_a_forged_state_or_an_unknown_code_installs_nothing(bot: RunningBot) -> None:
    async with aiohttp.ClientSession() as http:
        cookie, _ = await _start_install(http, bot)
        bot.slack.oauth.consent("code-alpha", ALPHA)
        forged, _ = await _come_back(http, bot, code="code-alpha", state="forged", cookie="forged")
        unknown, _ = await _come_back(http, bot, code="code-never-given", state=cookie, cookie=cookie)

    assert (forged, unknown) == (401, 401)
    # The forged state never reached Slack; the unknown code did, and Slack refused it.
    (exchange,) = bot.slack.calls_to("oauth.v2.access")
    assert exchange.response["error"] == "invalid_code"
    assert await _stored_bots(bot) == []


async def test_a_workspace_that_never_installed_is_not_answered(bot: RunningBot) -> None:
    await install(bot, ALPHA)

    answer = await _answer(bot, "scale checkout to 5 in shop", user=BETA_OPS, team=BETA_TEAM)

    assert "reinstall this app" in answer
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_two_workspaces_each_see_only_their_own_plans(bot: RunningBot) -> None:
    await install(bot, ALPHA)
    await install(bot, BETA)
    assert [team for team, _, _ in await _stored_bots(bot)] == sorted([TEAM_ID, BETA_TEAM])

    await bot.driver.slash_command("scale checkout to 5 in shop", user=ALICE, channel=OPS_CHANNEL)
    await bot.card_text(1, "Awaiting approval")
    await bot.driver.slash_command(
        "scale checkout to 3 in shop", user=BETA_OPS, channel=BETA_CHANNEL, team_id=BETA_TEAM
    )
    await bot.card_text(2, "Awaiting approval")

    # Each workspace's cards went out with its own token.
    posts = {c.args["channel"]: _token_of(c) for c in bot.slack.calls_to("chat.postMessage") if c.ok}
    assert posts == {OPS_CHANNEL: "xoxb-alpha", BETA_CHANNEL: "xoxb-beta"}

    assert "There is no plan #1" in await _answer(bot, "status 1", user=BETA_OPS, team=BETA_TEAM)
    assert "There is no plan #2" in await _answer(bot, "status 2", user=ALICE, team=TEAM_ID)
    assert "Awaiting approval" in await _answer(bot, "status 2", user=BETA_OPS, team=BETA_TEAM)

    assert "(0 events)" in await _answer(bot, "audit #1", user=BETA_OPS, team=BETA_TEAM)
    assert "(0 events)" not in await _answer(bot, "audit #2", user=BETA_OPS, team=BETA_TEAM)

    # A click in one workspace cannot approve the other's plan.
    payload = bot.driver.block_action_payload(ids.PLAN_APPROVE, "1", user=BETA_OPS, channel=BETA_CHANNEL)
    payload["team"] = {"id": BETA_TEAM, "domain": "beta"}
    payload["user"]["team_id"] = BETA_TEAM
    before = len(bot.slack.responses)
    await bot.driver.interactive_request(payload).send()
    refusal = await bot.slack.wait_until(lambda: bot.slack.responses[before:] or None)
    assert "There is no plan #1" in refusal[0].body["text"]
    assert "Awaiting approval" in await _answer(bot, "status 1", user=ALICE, team=TEAM_ID)


async def test_app_home_shows_a_workspace_only_its_own_plans(bot: RunningBot) -> None:
    await install(bot, ALPHA)
    await install(bot, BETA)
    await bot.driver.slash_command("scale checkout to 5 in shop", user=ALICE, channel=OPS_CHANNEL)
    await bot.card_text(1, "Awaiting approval")

    beta = await _home_of(bot, BETA_OPS, BETA_TEAM)
    alpha = await _home_of(bot, ALICE, TEAM_ID)

    assert (_token_of(beta), _token_of(alpha)) == ("xoxb-beta", "xoxb-alpha")
    assert "checkout" in json.dumps(alpha.args["view"])
    assert "checkout" not in json.dumps(beta.args["view"])


async def _home_of(bot: RunningBot, user: str, team: str) -> RecordedCall:
    """The App Home tab published for `user` of `team` once they open it."""
    envelope = bot.driver.event_envelope({"type": "app_home_opened", "user": user, "tab": "home"})
    envelope["team_id"] = team
    await bot.driver.json_request(envelope).send()
    return await bot.slack.wait_for(
        lambda c: c.method == "views.publish" and c.ok and c.args["user_id"] == user
    )


async def _answer(bot: RunningBot, text: str, *, user: str, team: str) -> str:
    """The ephemeral answer (text and blocks) to `/carapulse <text>` from `user` of `team`."""
    before = len(bot.slack.responses)
    ack = await bot.driver.slash_command(text, user=user, team_id=team)
    if ack.body:
        return ack.body
    responses = await bot.slack.wait_until(lambda: bot.slack.responses[before:] or None)
    return responses[0].body["text"] + json.dumps(responses[0].body.get("blocks", []))


async def test_readiness_asks_no_single_token_about_slack(bot: RunningBot) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{bot.url}/readyz") as answer:
        body = await answer.json()
    assert answer.status == 200, body
    assert body["checks"]["slack"]["detail"].startswith("OAuth installs:")
    assert bot.slack.calls_to("auth.test") == []
