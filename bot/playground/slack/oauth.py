"""The fake Slack's side of OAuth installs: apps known by client id and secret, the codes Slack's
consent page would hand back, and oauth.v2.access turning a code into a workspace's bot token.

Slack authenticates oauth.v2.access with the app's client id and secret (HTTP Basic, as slack_sdk
sends them, or form fields), never with a token. Each issued bot token then identifies its own
workspace on auth.test.
"""

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.playground.slack.state import APP_ID, SlackError

# Methods authenticated by the app's credentials rather than a token.
CLIENT_AUTHENTICATED = frozenset({"oauth.v2.access"})


@dataclass(frozen=True)
class Grant:
    """What one person's consent in one workspace gives the app."""

    team_id: str
    team_name: str
    bot_token: str
    bot_user_id: str
    bot_id: str
    installer_id: str
    scopes: tuple[str, ...]
    redirect_uri: str | None = None


@dataclass
class OAuthApps:
    secrets: dict[str, str] = field(default_factory=dict)
    # code -> grant; a code is good for one exchange.
    codes: dict[str, Grant] = field(default_factory=dict)
    # bot token -> the grant that issued it.
    issued: dict[str, Grant] = field(default_factory=dict)

    def add_app(self, client_id: str, client_secret: str) -> None:
        self.secrets[client_id] = client_secret

    def consent(self, code: str, grant: Grant) -> None:
        """A person approved the install on Slack's page; Slack will redirect them with `code`."""
        self.codes[code] = grant

    def exchange(self, credentials: tuple[str, str] | None, args: Mapping[str, Any]) -> dict[str, Any]:
        client_id, client_secret = credentials or (args.get("client_id", ""), args.get("client_secret", ""))
        if client_id not in self.secrets:
            raise SlackError("invalid_client_id")
        if self.secrets[client_id] != client_secret:
            raise SlackError("bad_client_secret")
        grant = self.codes.pop(str(args.get("code", "")), None)
        if grant is None:
            raise SlackError("invalid_code")
        if grant.redirect_uri is not None and args.get("redirect_uri") != grant.redirect_uri:
            raise SlackError("bad_redirect_uri")
        self.issued[grant.bot_token] = grant
        return {
            "app_id": APP_ID,
            "authed_user": {"id": grant.installer_id},
            "scope": ",".join(grant.scopes),
            "token_type": "bot",
            "access_token": grant.bot_token,
            "bot_user_id": grant.bot_user_id,
            "team": {"id": grant.team_id, "name": grant.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def identity(self, token: str) -> dict[str, Any] | None:
        """auth.test's answer for a token an install issued; None for other tokens."""
        grant = self.issued.get(token)
        if grant is None:
            return None
        return {
            "url": f"https://{grant.team_name}.slack.com/",
            "team": grant.team_name,
            "user": "carapulse",
            "team_id": grant.team_id,
            "user_id": grant.bot_user_id,
            "bot_id": grant.bot_id,
            "is_enterprise_install": False,
        }


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """The client id and secret of an `Authorization: Basic …` header; None for other schemes."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise SlackError("invalid_client_id") from None
    return client_id, secret
