"""Secrets in tool output are masked before anything stores or shows it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.common.redaction import MASK, Redactor

REDACTOR = Redactor.with_secrets(["s3cr3t-literal-value"], patterns=[r"internal-[0-9]{4}"])


@pytest.mark.parametrize(
    "secret",
    [
        "xoxb-1234567890-abcdefghijkl",
        "xapp-1-A0123-456-abcdef",
        "ghp_abcdefghijklmnopqrstuvwxyz0123",
        "glpat-abcdefghijklmnopqrst",
        "AKIAIOSFODNN7EXAMPLE",
        "hvs.CAESIJ1234567890abcdefghij",
        "cpt_Zx3kq0J8mB2vYt1-R_9wLhGfN5cUe7aPdSiO4TnKyXo",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
        "s3cr3t-literal-value",
        "internal-1234",
    ],
)
def test_known_secret_shapes_are_masked(secret: str) -> None:
    redacted = REDACTOR.redact(f"before {secret} after")

    assert secret not in redacted
    assert redacted.startswith("before ")
    assert redacted.endswith(" after")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password=hunter2 next", f"password={MASK} next"),
        ('{"api_key": "abc123"}', f'{{"api_key": "{MASK}"}}'),
        ("DB_PASSWORD: 'pw'", f"DB_PASSWORD: '{MASK}'"),
        ("Authorization: Bearer abcdefghijklmnopqrstuv", f"Authorization: {MASK}"),
    ],
)
def test_secret_assignments_keep_the_key_and_lose_the_value(text: str, expected: str) -> None:
    assert REDACTOR.redact(text) == expected


def test_a_secret_inside_a_json_string_keeps_the_document_valid() -> None:
    document = json.dumps({"manifest": "kind: Secret\ndata:\n  password: c2VjcmV0\n", "token_ttl": 5})

    redacted = json.loads(REDACTOR.redact(document))

    assert "c2VjcmV0" not in redacted["manifest"]
    assert redacted["manifest"].startswith("kind: Secret")


def test_ordinary_output_is_left_alone() -> None:
    text = "deployment shop/checkout scaled 2 -> 5; token_ttl 3600s; 3 pods ready"
    assert REDACTOR.redact(text) == text


def test_structured_data_masks_secret_keys_and_walks_containers() -> None:
    data = {
        "token": "abc",
        "token_ttl": 3600,
        "secrets": ["db-creds", "api"],
        "nested": [{"password": "pw", "note": "key=value password=pw2"}],
    }

    assert REDACTOR.redact_data(data) == {
        "token": MASK,
        "token_ttl": 3600,
        "secrets": ["db-creds", "api"],
        "nested": [{"password": MASK, "note": f"key=value password={MASK}"}],
    }


def test_short_literals_are_not_used() -> None:
    assert Redactor.with_secrets(["abc", None, ""]).literals == ()


@given(st.text(max_size=200))
def test_redaction_is_idempotent_and_never_reveals_a_literal(text: str) -> None:
    once = REDACTOR.redact(text + " s3cr3t-literal-value")
    assert "s3cr3t-literal-value" not in once
    assert REDACTOR.redact(once) == once
