import pytest

from bot.cli import main
from tests.cli_output import refusal

OIDC = (
    '{"name": "github", "issuer": "https://token.actions.githubusercontent.com", "audience": "carapulse",'
    ' "jwks_url": "https://token.actions.githubusercontent.com/.well-known/jwks", "algorithms": ["RS256"],'
    ' "identities": [{"identity": "shop", "roles": ["operator"], "claims": {"repository": "acme/shop"}}]}'
)
CHECK = '[{"label": "errors", "expr": "up", "comparator": "<", "threshold": 1}]'


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "DATABASE_URL",
        "PORT",
        "KUBECONFIG",
        "APPROVALS",
        "NOTIFY",
        "SMTP_HOST",
        "SMTP_FROM",
        "NOTIFY_WEBHOOK_URL",
        "NOTIFY_WEBHOOK_SECRET",
        "PAGERDUTY_TOKEN",
        "API_CHANNEL",
        "API_TEAM_ID",
        "API_OIDC_PROVIDERS",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "SLACK_REDIRECT_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CARAPULSE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("environment", "argv", "line"),
    [
        ({}, ["serve"], "carapulse: SLACK_BOT_TOKEN is missing"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, ["serve"], "SLACK_BOT_TOKEN is invalid"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, ["serve"], "SLACK_SIGNING_SECRET is missing"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, ["serve", "--socket"], "SLACK_APP_TOKEN is missing"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "PORT": "http"}, ["migrate"], "PORT is invalid"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "DATABASE_URL": "mysql://x"}, ["migrate"], "DATABASE_URL is invalid"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "CARAPULSE_CONFIG": "nope.yaml"}, ["migrate"], "CARAPULSE_CONFIG"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "KUBECONFIG": "/nope/kubeconfig"},
            ["serve"],
            "KUBECONFIG: file /nope/kubeconfig does not exist",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "VERIFY_CHECKS": CHECK},
            ["serve"],
            "VERIFY_CHECKS: the checks need the prometheus tool; set PROMETHEUS_URL",
        ),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "VERIFY_CHECKS": '[{"label": "x"}]'}, ["migrate"], "VERIFY_CHECKS"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SECURITY_CHANNEL": "#security"}, ["migrate"], "SECURITY_CHANNEL"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "USERGROUP_ROLES": '{"sre": ["admin"]}'},
            ["migrate"],
            "USERGROUP_ROLES",
        ),
        *(
            ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "APPROVALS": value}, ["serve"], line)
            for value, line in (
                ('{"default": {"confirm_with": "name"}}', "APPROVALS is invalid"),
                ('{"default": {"usergroup": "approvers"}}', "APPROVALS is invalid"),
                ('{"default": {"pings_after_seconds": 60}}', "APPROVALS is invalid"),
                (
                    '{"default": {"ping_after_seconds": 600, "page_after_seconds": 60}}',
                    "page_after_seconds (60) must be later than ping_after_seconds (600)",
                ),
                (
                    '{"prod": {"expire_after_seconds": 600}}',
                    "APPROVALS: environment prod is not configured (ENVIRONMENTS has default)",
                ),
            )
        ),
        *(
            (
                {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "NOTIFY": value, **more},
                ["serve"],
                line,
            )
            for value, more, line in (
                (
                    '{"default": {"email": {"to": ["a@b.c"], "events": ["failed"]}}}',
                    {},
                    "SMTP_HOST is not set",
                ),
                (
                    '{"default": {"email": {"to": ["a@b.c"], "events": ["failed"]}}}',
                    {"SMTP_HOST": "mail"},
                    "NOTIFY: default sends to email, but SMTP_FROM is not set",
                ),
                ('{"default": {"email": {"to": ["nobody"], "events": ["failed"]}}}', {}, "NOTIFY is invalid"),
                ('{"default": {"webhook": {"events": ["exploded"]}}}', {}, "NOTIFY is invalid"),
                ('{"default": {"webhook": {"events": []}}}', {}, "NOTIFY is invalid"),
                (
                    '{"default": {"webhook": {"events": ["failed"]}}}',
                    {"NOTIFY_WEBHOOK_URL": "https://hooks.example.com/x"},
                    "NOTIFY: default sends to webhook, but NOTIFY_WEBHOOK_SECRET is not set",
                ),
                (
                    '{"default": {"webhook": {"events": ["failed"]}}}',
                    {"NOTIFY_WEBHOOK_URL": "ftp://x"},
                    "NOTIFY_WEBHOOK_URL",
                ),
                (
                    '{"default": {"pagerduty": {"events": ["created"]}}}',
                    {},
                    "PagerDuty takes only failed and rolled_back, not created",
                ),
                (
                    '{"default": {"pagerduty": {"events": ["failed"]}}}',
                    {},
                    "NOTIFY: default sends to pagerduty, but PagerDuty cannot send alerts here",
                ),
                (
                    '{"staging": {"webhook": {"events": ["failed"]}}}',
                    {},
                    "NOTIFY: environment staging is not configured",
                ),
            )
        ),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "API_CHANNEL": "#deploys"}, ["migrate"], "API_CHANNEL is invalid"),
        # OAuth installs: both credentials, not beside a bot token, and not with one-workspace features.
        ({"SLACK_CLIENT_ID": "1.2"}, ["migrate"], "carapulse: SLACK_CLIENT_SECRET is missing"),
        ({"SLACK_CLIENT_SECRET": "s"}, ["migrate"], "carapulse: SLACK_CLIENT_ID is missing"),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1"},
            ["migrate"],
            "SLACK_BOT_TOKEN is set beside SLACK_CLIENT_ID",
        ),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "ALERTMANAGER_HOOK_TOKEN": "t"},
            ["migrate"],
            "the webhooks post to one workspace; use SLACK_BOT_TOKEN",
        ),
        (
            {
                "SLACK_CLIENT_ID": "1.2",
                "SLACK_CLIENT_SECRET": "s",
                "USERGROUP_ROLES": '{"S0123SREONC": ["admin"]}',
            },
            ["migrate"],
            "USERGROUP_ROLES reads one workspace's user groups",
        ),
        (
            {
                "SLACK_CLIENT_ID": "1.2",
                "SLACK_CLIENT_SECRET": "s",
                "SLACK_REDIRECT_URI": "carapulse.example.com",
            },
            ["migrate"],
            "SLACK_REDIRECT_URI is invalid",
        ),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "API_TEAM_ID": "acme"}, ["migrate"], "API_TEAM_ID is invalid"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "API_CHANNEL": "C0123OPSCHN"},
            ["serve"],
            "carapulse: API_TEAM_ID is missing: the API acts in one workspace; set its Slack team id (T…)",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "API_OIDC_PROVIDERS": f"[{OIDC}, {OIDC}]"},
            ["migrate"],
            "API_OIDC_PROVIDERS is invalid: Value error, name github is listed twice",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "API_OIDC_PROVIDERS": OIDC.replace("RS256", "HS256")},
            ["migrate"],
            "API_OIDC_PROVIDERS is invalid",
        ),
    ],
)
def test_bad_settings_stop_start_up_with_one_line_naming_them(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    environment: dict[str, str],
    argv: list[str],
    line: str,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert main(argv) == 2

    assert line in refusal(capsys.readouterr().err)


def test_migrate_creates_the_schema(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")

    assert main(["migrate"]) == 0
    assert (tmp_path / "c.db").stat().st_size > 0
