"""The fake Slack's oauth.v2.access, as slack_sdk calls it: the app's credentials (HTTP Basic), a
code good for one exchange, and a bot token that then identifies its own workspace."""

from collections.abc import AsyncIterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.playground.slack.oauth import Grant
from bot.playground.slack.web_api import FakeSlack

CLIENT_ID, CLIENT_SECRET = "1111.2222", "s3cret"
GRANT = Grant(
    team_id="T0456BETA00",
    team_name="beta",
    bot_token="xoxb-beta",
    bot_user_id="U0456BOTUSR",
    bot_id="B0456BOTID1",
    installer_id="U0456INSTAL",
    scopes=("chat:write", "commands"),
)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.oauth.add_app(CLIENT_ID, CLIENT_SECRET)
        fake.oauth.consent("code-1", GRANT)
        yield fake
        assert fake.violations == []


async def test_a_code_becomes_a_bot_token_that_identifies_its_workspace(slack: FakeSlack) -> None:
    client = AsyncWebClient(base_url=slack.api_url)

    answer = await client.oauth_v2_access(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code="code-1")

    assert answer["access_token"] == "xoxb-beta"
    assert answer["team"] == {"id": "T0456BETA00", "name": "beta"}
    assert answer["scope"] == "chat:write,commands"
    (call,) = slack.calls_to("oauth.v2.access")
    assert call.headers["authorization"].startswith("Basic ")
    identity = await AsyncWebClient(token="xoxb-beta", base_url=slack.api_url).auth_test()
    assert (identity["team_id"], identity["user_id"]) == ("T0456BETA00", "U0456BOTUSR")


@pytest.mark.parametrize(
    ("client_id", "client_secret", "code", "error"),
    [
        ("9999.0000", CLIENT_SECRET, "code-1", "invalid_client_id"),
        (CLIENT_ID, "wrong", "code-1", "bad_client_secret"),
        (CLIENT_ID, CLIENT_SECRET, "code-2", "invalid_code"),
    ],
)
async def test_bad_credentials_or_codes_are_refused(
    slack: FakeSlack, client_id: str, client_secret: str, code: str, error: str
) -> None:
    client = AsyncWebClient(base_url=slack.api_url)
    with pytest.raises(SlackApiError) as refused:
        await client.oauth_v2_access(client_id=client_id, client_secret=client_secret, code=code)
    assert refused.value.response["error"] == error
    assert "xoxb-beta" not in slack.tokens


async def test_a_code_is_good_for_one_exchange(slack: FakeSlack) -> None:
    client = AsyncWebClient(base_url=slack.api_url)
    await client.oauth_v2_access(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code="code-1")
    with pytest.raises(SlackApiError, match="invalid_code"):
        await client.oauth_v2_access(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code="code-1")
