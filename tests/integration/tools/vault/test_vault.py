"""The Vault tool driven through hvac against the fake Vault HTTP API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.vault import FakeVault
from tools.common.base import Action, ActionResult, Effect, RiskHint, ToolError
from tools.common.redaction import Redactor
from tools.common.registry import Registry
from tools.common.retries import RetryPolicy
from tools.common.toolset import NotConfigured
from tools.vault import actions, toolset
from tools.vault.auth import AppRoleAuth, KubernetesAuth, TokenAuth, VaultAuth
from tools.vault.client import VaultClient

FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)
APP = {"path": "team/app"}
OLD_PASSWORD = "s3cr3t-old-value"
NEW_PASSWORD = "n3w-s3cr3t-value"


@pytest.fixture
async def fake() -> AsyncIterator[FakeVault]:
    async with FakeVault() as server:
        yield server


def connect(fake: FakeVault, auth: VaultAuth | None = None, **kwargs: Any) -> VaultClient:
    return VaultClient(fake.url, auth or TokenAuth(fake.root_token), **{"retry": FAST_RETRY, **kwargs})


@pytest.fixture
def vault(fake: FakeVault) -> Iterator[VaultClient]:
    client = connect(fake)
    yield client
    client.close()


@pytest.fixture
def registry(vault: VaultClient) -> Registry:
    return Registry(actions(vault))


async def run(registry: Registry, name: str, raw: dict[str, Any]) -> ActionResult:
    action: Action[Any] = registry.get(name)
    return await action.run(action.parse_args(raw))


async def dry_run(registry: Registry, name: str, raw: dict[str, Any]) -> ActionResult:
    action: Action[Any] = registry.get(name)
    return await action.dry_run(action.parse_args(raw))


async def failure(registry: Registry, name: str, raw: dict[str, Any]) -> ToolError:
    with pytest.raises(ToolError) as raised:
        await run(registry, name, raw)
    return raised.value


def writes(fake: FakeVault) -> list[Any]:
    return [r for r in fake.requests if r.method in ("POST", "PUT") and "/leases/lookup" not in r.path]


# --- status reads ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sealed", "standby", "state"),
    [(False, False, "active"), (False, True, "standby"), (True, False, "sealed")],
)
async def test_health_reports_the_state_vault_signals_with_its_status_code(
    registry: Registry, fake: FakeVault, sealed: bool, standby: bool, state: str
) -> None:
    fake.sealed, fake.standby = sealed, standby

    result = await run(registry, "vault.get_health", {})

    assert result.summary == f"vault 1.17.2 at {fake.url}: {state}"
    assert result.data["state"] == state
    assert result.data["sealed"] is sealed
    assert "X-Vault-Token" not in fake.requests[-1].headers


async def test_token_info_shows_policies_and_lifetime_but_never_the_token(fake: FakeVault) -> None:
    fake.approles["role-1"] = "secret-1"
    client = connect(fake, AppRoleAuth("role-1", "secret-1"))
    try:
        result = await run(Registry(actions(client)), "vault.get_token_info", {})
    finally:
        client.close()

    issued = next(t for t in fake.tokens if t != fake.root_token)
    assert result.summary == "vault token approle: policies default, carapulse; expires in 1h"
    assert issued not in str(result)
    assert "id" not in result.data
    assert "accessor" not in result.data
    assert result.data["policies"] == ["default", "carapulse"]


# --- KV v2 -----------------------------------------------------------------------------------------


async def test_metadata_lists_version_states_and_never_values(registry: Registry, fake: FakeVault) -> None:
    fake.put_secret("team/app", {"password": OLD_PASSWORD})
    fake.put_secret("team/app", {"password": NEW_PASSWORD})
    fake.secret("team/app").versions[1].deletion_time = "2024-05-01T10:00:00Z"

    result = await run(registry, "vault.get_secret_metadata", APP)

    assert result.summary == "secret/team/app at version 2, 2 kept (1 deleted)"
    assert result.data["versions"] == {"1": "deleted", "2": "live"}
    assert result.data["current_version"] == 2
    assert OLD_PASSWORD not in str(result) and NEW_PASSWORD not in str(result)


async def test_write_uses_check_and_set_on_the_version_read_and_echoes_no_value(
    registry: Registry, fake: FakeVault
) -> None:
    fake.put_secret("team/app", {"password": OLD_PASSWORD})
    action = registry.get("vault.write_secret")
    args = action.parse_args({**APP, "data": {"password": NEW_PASSWORD, "user": "app"}})

    result = await action.run(args)

    assert result.summary == "wrote version 2 of secret/team/app (2 keys, replacing version 1)"
    assert result.data == {
        "mount": "secret",
        "path": "team/app",
        "previous_version": 1,
        "previous_readable": True,
        "version": 2,
        "keys": 2,
        "generated_keys": [],
        "kept_keys": [],
    }
    [write] = writes(fake)
    assert write.path == "/v1/secret/data/team/app"
    assert write.body == {"options": {"cas": 1}, "data": {"password": NEW_PASSWORD, "user": "app"}}
    assert fake.secret("team/app").versions[2].data == {"password": NEW_PASSWORD, "user": "app"}
    for shown in (str(result), repr(args), str(args.model_dump()), str(action.rollback(args, result))):
        assert NEW_PASSWORD not in shown and OLD_PASSWORD not in shown


async def test_rolling_back_a_write_restores_the_replaced_version_as_a_new_one(
    registry: Registry, fake: FakeVault
) -> None:
    fake.put_secret("team/app", {"password": OLD_PASSWORD})
    action = registry.get("vault.write_secret")
    args = action.parse_args({**APP, "data": {"password": NEW_PASSWORD}})
    step = action.rollback(args, await action.run(args))

    assert step is not None
    assert step.action == "vault.restore_secret_version"
    assert step.args == {"mount": "secret", "path": "team/app", "version": 1, "expected_version": 2}

    undone = await run(registry, step.action, step.args)

    assert undone.summary == "restored version 1 of secret/team/app as version 3"
    assert fake.secret("team/app").versions[3].data == {"password": OLD_PASSWORD}
    assert OLD_PASSWORD not in str(undone)
    assert writes(fake)[-1].body["options"] == {"cas": 2}


async def test_rolling_back_the_creation_of_a_secret_soft_deletes_the_new_version(
    registry: Registry, fake: FakeVault
) -> None:
    action = registry.get("vault.write_secret")
    args = action.parse_args({**APP, "data": {"password": NEW_PASSWORD}})
    result = await action.run(args)
    step = action.rollback(args, result)

    assert result.summary == "wrote version 1 of secret/team/app (1 key, new secret)"
    assert writes(fake)[0].body["options"] == {"cas": 0}
    assert step is not None
    assert (step.action, step.args) == (
        "vault.delete_secret_version",
        {"mount": "secret", "path": "team/app", "versions": [1]},
    )

    await run(registry, step.action, step.args)

    assert fake.secret("team/app").versions[1].deletion_time != ""


async def test_write_dry_run_reads_the_version_and_writes_nothing(
    registry: Registry, fake: FakeVault
) -> None:
    fake.put_secret("team/app", {"password": OLD_PASSWORD})

    result = await dry_run(registry, "vault.write_secret", {**APP, "data": {"password": NEW_PASSWORD}})

    assert result.summary == "dry run: would write version 2 of secret/team/app (1 key, replacing version 1)"
    assert writes(fake) == []
    assert fake.secret("team/app").current_version == 1


async def test_a_rotation_generates_one_key_keeps_the_others_and_the_plan_holds_no_secret(
    registry: Registry, fake: FakeVault
) -> None:
    fake.put_secret("team/app", {"user": "app", "password": OLD_PASSWORD, "host": "db.internal"})
    action = registry.get("vault.write_secret")
    raw = {**APP, "generate": {"password": {"length": 40}}, "keep_other_keys": True}
    args = action.parse_args(raw)

    result = await action.run(args)

    written = fake.secret("team/app").versions[2].data
    assert written["user"] == "app" and written["host"] == "db.internal"
    assert re.fullmatch(r"[A-Za-z0-9]{40}", written["password"])
    assert written["password"] != OLD_PASSWORD
    assert (
        result.summary
        == "wrote version 2 of secret/team/app (3 keys: 1 generated, 2 kept, replacing version 1)"
    )
    assert (result.data["generated_keys"], result.data["kept_keys"]) == (["password"], ["host", "user"])
    assert writes(fake)[0].body["options"] == {"cas": 1}
    for shown in (str(result), str(args.model_dump()), str(raw)):
        assert written["password"] not in shown and OLD_PASSWORD not in shown


@pytest.mark.parametrize(
    ("alphabet", "pattern"), [("hex", r"[0-9a-f]{24}"), ("url_safe", r"[A-Za-z0-9_-]{24}")]
)
async def test_generated_values_follow_their_alphabet_and_differ_each_run(
    registry: Registry, fake: FakeVault, alphabet: str, pattern: str
) -> None:
    raw = {**APP, "generate": {"token": {"length": 24, "alphabet": alphabet}}}
    await run(registry, "vault.write_secret", raw)
    await run(registry, "vault.write_secret", raw)

    first, second = (fake.secret("team/app").versions[n].data["token"] for n in (1, 2))
    assert re.fullmatch(pattern, first) and re.fullmatch(pattern, second)
    assert first != second


async def test_a_rotation_dry_run_generates_nothing_and_writes_nothing(
    registry: Registry, fake: FakeVault
) -> None:
    fake.put_secret("team/app", {"user": "app", "password": OLD_PASSWORD})
    raw = {**APP, "generate": {"password": {}}, "keep_other_keys": True}

    result = await dry_run(registry, "vault.write_secret", raw)

    assert result.summary == (
        "dry run: would write version 2 of secret/team/app (2 keys: 1 generated, 1 kept, replacing version 1)"
    )
    assert writes(fake) == []
    assert fake.secret("team/app").current_version == 1


@pytest.mark.parametrize("rehearse", [False, True], ids=["run", "dry_run"])
async def test_a_pinned_rotation_refuses_once_the_secret_moved_and_writes_nothing(
    registry: Registry, fake: FakeVault, rehearse: bool
) -> None:
    fake.put_secret("team/app", {"user": "app", "password": OLD_PASSWORD})
    fake.put_secret("team/app", {"user": "someone-else", "password": NEW_PASSWORD})
    raw = {**APP, "generate": {"password": {}}, "keep_other_keys": True, "expected_version": 1}

    with pytest.raises(ToolError) as raised:
        await (dry_run if rehearse else run)(registry, "vault.write_secret", raw)

    assert raised.value.message == (
        "secret/team/app version changed since the plan was made (pinned 1, now 2); make a new plan"
    )
    assert raised.value.call == "GET /v1/secret/metadata/team/app"
    assert writes(fake) == []
    assert fake.secret("team/app").current_version == 2


async def test_a_pinned_rotation_writes_when_the_secret_is_still_at_its_version(
    registry: Registry, fake: FakeVault
) -> None:
    fake.put_secret("team/app", {"user": "app", "password": OLD_PASSWORD})
    raw = {**APP, "generate": {"password": {}}, "keep_other_keys": True, "expected_version": 1}

    result = await run(registry, "vault.write_secret", raw)

    assert result.data["version"] == 2
    assert fake.secret("team/app").versions[2].data["user"] == "app"


async def test_keeping_other_keys_of_a_deleted_version_is_refused(
    registry: Registry, fake: FakeVault
) -> None:
    fake.put_secret("team/app", {"user": "app", "password": OLD_PASSWORD})
    await run(registry, "vault.delete_secret_version", {**APP, "versions": [1]})

    error = await failure(
        registry, "vault.write_secret", {**APP, "generate": {"password": {}}, "keep_other_keys": True}
    )

    assert "version 1 of secret/team/app is deleted; undelete it first" in error.message
    assert fake.secret("team/app").current_version == 1


async def test_a_write_that_loses_the_check_and_set_race_says_so(registry: Registry, fake: FakeVault) -> None:
    fake.put_secret("team/app", {"password": OLD_PASSWORD})
    fake.fail_next(
        400,
        {"errors": ["check-and-set parameter did not match the current version"]},
        path_prefix="/v1/secret/data/",
    )

    error = await failure(registry, "vault.write_secret", {**APP, "data": {"password": NEW_PASSWORD}})

    assert error.message == (
        "secret/team/app changed while Carapulse wrote it (it is no longer at version 1); "
        "nothing was written, run the step again"
    )
    assert error.call == "POST /v1/secret/data/team/app"
    assert error.status == 400
    assert len(writes(fake)) == 1, "a check-and-set write is never retried"


async def test_a_restore_refuses_to_undo_a_later_change(registry: Registry, fake: FakeVault) -> None:
    for value in ("one", "two", "three"):
        fake.put_secret("team/app", {"password": value})

    error = await failure(
        registry, "vault.restore_secret_version", {**APP, "version": 1, "expected_version": 2}
    )

    assert error.message == (
        "secret/team/app is at version 3, not 2: it changed after the step being undone, "
        "so version 1 was not restored over it"
    )
    assert writes(fake) == []


@pytest.mark.parametrize(
    ("deleted", "destroyed", "message"),
    [
        (True, False, "version 1 of secret/team/app is deleted; undelete it first"),
        (False, True, "version 1 of secret/team/app is destroyed and cannot be recovered"),
    ],
)
async def test_a_version_that_is_gone_is_not_restored(
    registry: Registry, fake: FakeVault, deleted: bool, destroyed: bool, message: str
) -> None:
    fake.put_secret("team/app", {"password": OLD_PASSWORD})
    fake.put_secret("team/app", {"password": NEW_PASSWORD})
    fake.secret("team/app").versions[1].deletion_time = "2024-05-01T10:00:00Z" if deleted else ""
    fake.secret("team/app").versions[1].destroyed = destroyed

    error = await failure(registry, "vault.restore_secret_version", {**APP, "version": 1})

    assert error.message == message
    assert writes(fake) == []


async def test_restore_dry_run_checks_the_version_without_reading_its_data(
    registry: Registry, fake: FakeVault
) -> None:
    fake.put_secret("team/app", {"password": OLD_PASSWORD})
    fake.put_secret("team/app", {"password": NEW_PASSWORD})

    result = await dry_run(registry, "vault.restore_secret_version", {**APP, "version": 1})

    assert result.summary == "dry run: would restore version 1 of secret/team/app as version 3"
    assert [r.path for r in fake.requests] == ["/v1/secret/metadata/team/app"]


async def test_delete_and_undelete_are_each_others_rollback(registry: Registry, fake: FakeVault) -> None:
    for value in ("one", "two", "three"):
        fake.put_secret("team/app", {"password": value})
    fake.secret("team/app").versions[2].deletion_time = "2024-05-01T10:00:00Z"
    delete = registry.get("vault.delete_secret_version")
    args = delete.parse_args({**APP, "versions": [3, 2]})

    result = await delete.run(args)

    assert result.summary == "soft-deleted version 3 of secret/team/app (1 already deleted)"
    assert result.data["changed"] == [3]
    assert writes(fake)[-1].body == {"versions": [3]}
    step = delete.rollback(args, result)
    assert step is not None
    assert (step.action, step.args["versions"]) == ("vault.undelete_secret_version", [3])

    await run(registry, step.action, step.args)

    states = {n: v.deletion_time == "" for n, v in fake.secret("team/app").versions.items()}
    assert states == {1: True, 2: False, 3: True}, "only the version this step deleted comes back"


async def test_deleting_what_is_already_deleted_changes_nothing(registry: Registry, fake: FakeVault) -> None:
    fake.put_secret("team/app", {"password": "one"})
    fake.secret("team/app").versions[1].deletion_time = "2024-05-01T10:00:00Z"
    delete = registry.get("vault.delete_secret_version")
    args = delete.parse_args({**APP, "versions": [1]})

    result = await delete.run(args)

    assert result.summary == "soft-deleted nothing in secret/team/app (1 already deleted)"
    assert writes(fake) == []
    assert delete.rollback(args, result) is None


async def test_a_destroyed_version_cannot_be_undeleted(registry: Registry, fake: FakeVault) -> None:
    fake.put_secret("team/app", {"password": "one"})
    fake.secret("team/app").versions[1].destroyed = True

    error = await failure(registry, "vault.undelete_secret_version", {**APP, "versions": [1]})

    assert error.message == "version 1 of secret/team/app is destroyed and cannot be recovered"


async def test_unknown_secret_and_unknown_mount_are_not_found(registry: Registry) -> None:
    missing = await failure(registry, "vault.get_secret_metadata", APP)
    no_mount = await failure(registry, "vault.get_secret_metadata", {"mount": "kv", "path": "x"})

    assert missing.message == "secret secret/team/app not found in vault"
    assert missing.status == 404
    assert missing.call == "GET /v1/secret/metadata/team/app"
    assert no_mount.message == (
        'secret kv/x not found in vault (no handler for route "kv/metadata/x". route entry not found.)'
    )


# --- leases and database credentials ---------------------------------------------------------------

LEASE = "database/creds/readonly/2f6a614c-4aa2-7b19-24b9-ad944a8d4de6"


async def test_renew_extends_a_lease_and_reports_the_ttl_before_and_after(
    registry: Registry, fake: FakeVault
) -> None:
    fake.add_lease(LEASE, ttl=300)

    result = await run(registry, "vault.renew_lease", {"lease_id": LEASE, "increment_seconds": 7200})

    assert re.fullmatch(rf"renewed lease {re.escape(LEASE)}: ttl (5m|4m5\ds) → 2h", result.summary)
    assert result.data["ttl"] == 7200
    assert 290 <= result.data["previous_ttl"] <= 300
    assert writes(fake)[-1].body == {"lease_id": LEASE, "increment": 7200}
    renew = registry.get("vault.renew_lease")
    assert renew.rollback(renew.parse_args({"lease_id": LEASE}), result) is None


async def test_a_lease_that_cannot_be_renewed_is_refused_before_asking(
    registry: Registry, fake: FakeVault
) -> None:
    fake.add_lease(LEASE, renewable=False)

    error = await failure(registry, "vault.renew_lease", {"lease_id": LEASE})

    assert error.message == f"lease {LEASE} is not renewable"
    assert writes(fake) == []


async def test_revoke_looks_the_lease_up_first_so_an_unknown_id_is_an_error(
    registry: Registry, fake: FakeVault
) -> None:
    error = await failure(registry, "vault.revoke_lease", {"lease_id": LEASE})

    assert error.message == f"lease {LEASE} not found in vault"
    assert writes(fake) == [], "vault would have accepted the unknown id silently"


async def test_revoke_removes_the_lease_and_its_dry_run_does_not(registry: Registry, fake: FakeVault) -> None:
    fake.add_lease(LEASE, ttl=600)
    revoke = registry.get("vault.revoke_lease")

    rehearsal = await dry_run(registry, "vault.revoke_lease", {"lease_id": LEASE})
    assert rehearsal.summary.startswith(f"dry run: would revoke lease {LEASE} (")
    assert LEASE in fake.leases

    result = await run(registry, "vault.revoke_lease", {"lease_id": LEASE})

    assert result.summary.startswith(f"revoked lease {LEASE} (")
    assert LEASE not in fake.leases
    assert revoke.risk is RiskHint.HIGH
    assert revoke.rollback(revoke.parse_args({"lease_id": LEASE}), result) is None


async def test_rotate_root_reads_the_connection_then_rotates_once(
    registry: Registry, fake: FakeVault
) -> None:
    fake.add_connection("orders")

    rehearsal = await dry_run(registry, "vault.rotate_root_credentials", {"connection": "orders"})
    assert fake.root_rotations["orders"] == 0
    result = await run(registry, "vault.rotate_root_credentials", {"connection": "orders"})

    assert rehearsal.summary == (
        "dry run: would rotate the root credentials of database/orders (postgresql-database-plugin)"
    )
    assert result.summary == "rotated the root credentials of database/orders (postgresql-database-plugin)"
    assert fake.root_rotations["orders"] == 1
    assert "password" not in str(result.data) and "vault-admin" not in str(result)
    assert registry.get("vault.rotate_root_credentials").risk is RiskHint.HIGH


async def test_rotating_an_unknown_connection_is_not_found_and_rotates_nothing(
    registry: Registry, fake: FakeVault
) -> None:
    error = await failure(registry, "vault.rotate_root_credentials", {"connection": "orders"})

    assert error.message == "database connection orders not found in vault"
    assert error.call == "GET /v1/database/config/orders"
    assert writes(fake) == []


async def test_rotate_role_reports_the_rotation_time_before_and_after(
    registry: Registry, fake: FakeVault
) -> None:
    fake.add_static_role("orders-app", db_name="orders", username="orders_app")
    before = fake.static_roles["orders-app"]["last_vault_rotation"]

    result = await run(registry, "vault.rotate_role_credentials", {"role": "orders-app"})

    assert (
        result.summary
        == "rotated the password of static role database/orders-app (user orders_app on orders)"
    )
    assert result.data["previous_rotation"] == before
    assert result.data["last_rotation"] == fake.static_roles["orders-app"]["last_vault_rotation"] != before
    assert [r.path for r in writes(fake)] == ["/v1/database/rotate-role/orders-app"]


async def test_get_static_role_shows_user_database_and_last_rotation(
    registry: Registry, fake: FakeVault
) -> None:
    fake.add_static_role("orders-app", db_name="orders", username="orders_app")
    rotated = fake.static_roles["orders-app"]["last_vault_rotation"]

    result = await run(registry, "vault.get_static_role", {"role": "orders-app"})

    assert result.summary == (
        f"static role database/orders-app (user orders_app on orders, last rotated {rotated})"
    )
    assert result.data == {
        "mount": "database",
        "role": "orders-app",
        "db_name": "orders",
        "username": "orders_app",
        "last_rotation": rotated,
        "rotation_period": 86400,
    }
    assert registry.get("vault.get_static_role").effect is Effect.READ
    assert writes(fake) == []


async def test_an_unknown_static_role_is_not_found(registry: Registry) -> None:
    error = await failure(registry, "vault.get_static_role", {"role": "nope"})

    assert error.message == "database static role nope not found in vault"
    assert error.call == "GET /v1/database/static-roles/nope"


# --- failures --------------------------------------------------------------------------------------


async def test_a_wrong_token_is_denied_with_the_verb_and_target(fake: FakeVault) -> None:
    client = connect(fake, TokenAuth("hvs.not-a-real-token-000000000"))
    try:
        error = await failure(Registry(actions(client)), "vault.get_secret_metadata", APP)
    finally:
        client.close()

    assert error.message == (
        "vault denied read of secret secret/team/app: permission denied (check the token's policies)"
    )
    assert error.status == 403


async def test_throttling_is_retried_for_reads_and_reported_when_it_persists(
    registry: Registry, fake: FakeVault
) -> None:
    fake.put_secret("team/app", {"password": "one"})
    limited = {"errors": ['request path "secret/metadata/team/app": rate limit quota exceeded']}
    fake.fail_next(429, limited, headers={"Retry-After": "1"}, times=FAST_RETRY.attempts - 1)

    assert (await run(registry, "vault.get_secret_metadata", APP)).data["current_version"] == 1

    fake.fail_next(429, limited, times=FAST_RETRY.attempts)
    error = await failure(registry, "vault.get_secret_metadata", APP)

    assert error.message == (
        "vault is rate limiting requests; read of secret secret/team/app did not happen: "
        'request path "secret/metadata/team/app": rate limit quota exceeded'
    )
    assert error.status == 429


async def test_a_sealed_vault_is_named(registry: Registry, fake: FakeVault) -> None:
    fake.sealed = True

    error = await failure(registry, "vault.get_secret_metadata", APP)

    assert (
        error.message
        == "vault is unavailable (Vault is sealed); read of secret secret/team/app did not happen"
    )
    assert error.status == 503


async def test_a_slow_vault_times_out_readably(fake: FakeVault) -> None:
    fake.latency.seconds = 1.0
    client = connect(fake, timeout=0.2, retry=RetryPolicy(attempts=1))
    try:
        error = await failure(Registry(actions(client)), "vault.get_secret_metadata", APP)
    finally:
        client.close()

    assert error.message == "vault: GET /v1/secret/metadata/team/app timed out after 0.2s"


async def test_an_unreachable_vault_is_named(fake: FakeVault) -> None:
    client = VaultClient("http://127.0.0.1:9", TokenAuth("t"), retry=RetryPolicy(attempts=1))
    try:
        error = await failure(Registry(actions(client)), "vault.get_secret_metadata", APP)
    finally:
        client.close()

    assert error.message.startswith("vault: cannot reach http://127.0.0.1:9: ")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "<html>proxy error</html>",
            "vault: GET /v1/secret/metadata/team/app answered with something that is not a JSON object",
        ),
        (
            {"data": {"current_version": "three", "versions": {}}},
            "vault: GET /v1/secret/metadata/team/app answered with an unexpected document "
            "(data.current_version: Input should be a valid integer, unable to parse string as an integer)",
        ),
    ],
)
async def test_a_malformed_answer_is_a_readable_error(
    registry: Registry, fake: FakeVault, body: Any, message: str
) -> None:
    fake.fail_next(200, body)

    error = await failure(registry, "vault.get_secret_metadata", APP)

    assert error.message == message


# --- logging in ------------------------------------------------------------------------------------


async def test_kubernetes_login_reads_the_jwt_and_logs_in_again_when_the_token_expires(
    fake: FakeVault, tmp_path: Path
) -> None:
    jwt = tmp_path / "token"
    jwt.write_text("jwt-for-carapulse\n")
    fake.kubernetes_roles["carapulse"] = "jwt-for-carapulse"
    fake.put_secret("team/app", {"password": "one"})
    client = connect(fake, KubernetesAuth("carapulse", jwt))
    registry = Registry(actions(client))
    try:
        await run(registry, "vault.get_secret_metadata", APP)
        fake.revoke_all_tokens_but_root()
        await run(registry, "vault.get_secret_metadata", APP)
    finally:
        client.close()

    logins = fake.calls("POST", "/v1/auth/kubernetes/login")
    assert [r.body for r in logins] == [{"role": "carapulse", "jwt": "jwt-for-carapulse"}] * 2
    tokens = [r.headers["X-Vault-Token"] for r in fake.calls("GET", "/v1/secret/metadata/team/app")]
    assert tokens[0] != tokens[-1]
    assert len(tokens) == 3, "the refused read was sent once more after logging in again"


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (
            lambda jwt: KubernetesAuth("carapulse", jwt),
            "vault: kubernetes role carapulse login failed: permission denied",
        ),
        (
            lambda jwt: KubernetesAuth("other", jwt),
            'vault: kubernetes role other login failed: invalid role name "other"',
        ),
        (
            lambda jwt: AppRoleAuth("role-1", "wrong"),
            "vault: approle login failed: invalid role or secret ID",
        ),
        (
            lambda jwt: KubernetesAuth("carapulse", jwt.parent / "absent"),
            "vault: cannot read the service-account token",
        ),
    ],
)
async def test_a_failed_login_names_the_method_and_vaults_reason(
    fake: FakeVault, tmp_path: Path, auth: Any, message: str
) -> None:
    jwt = tmp_path / "token"
    jwt.write_text("a-stale-jwt")
    fake.kubernetes_roles["carapulse"] = "jwt-for-carapulse"
    fake.approles["role-1"] = "secret-1"
    client = connect(fake, auth(jwt))
    try:
        error = await failure(Registry(actions(client)), "vault.get_secret_metadata", APP)
    finally:
        client.close()

    assert error.message.startswith(message)
    assert fake.calls("GET", "/v1/secret/metadata/team/app") == []


# --- arguments and the entry point -----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        {"path": "../sys/policy"},
        {"path": "team/../../sys"},
        {"path": "/team/app"},
        {"path": "team//app"},
        {"path": "team/app", "mount": "sys/.."},
        {"path": "team/app", "data": {}},
        {"path": "team/app", "data": {"bad key": "x"}},
        {"path": "team/app", "data": {"password": "x"}, "cas": 3},
        {"path": "team/app", "data": {}, "generate": {}},
        {"path": "team/app", "data": {"password": "x"}, "generate": {"password": {}}},
        {"path": "team/app", "data": {}, "generate": {"password": {"length": 8}}},
        {"path": "team/app", "data": {}, "generate": {"password": {"alphabet": "emoji"}}},
    ],
)
def test_write_args_reject_unsafe_paths_and_empty_data(raw: dict[str, Any], vault: VaultClient) -> None:
    raw = {"data": {"password": "x"}} | raw
    with pytest.raises(ValidationError):
        Registry(actions(vault)).get("vault.write_secret").parse_args(raw)


def test_the_toolset_is_left_out_without_vault_addr() -> None:
    with pytest.raises(NotConfigured, match="set VAULT_ADDR to enable"):
        toolset({"VAULT_TOKEN": "t"})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"VAULT_ADDR": "vault:8200", "VAULT_TOKEN": "t"}, "vault: VAULT_ADDR: String should match pattern"),
        ({"VAULT_ADDR": "https://vault:8200"}, "vault: VAULT_ADDR is set but there is no way to log in"),
        (
            {
                "VAULT_ADDR": "https://vault:8200",
                "VAULT_TOKEN": "t",
                "VAULT_ROLE_ID": "r",
                "VAULT_SECRET_ID": "s",
            },
            "vault: set only one way to log in, not VAULT_TOKEN and VAULT_ROLE_ID",
        ),
        (
            {"VAULT_ADDR": "https://vault:8200", "VAULT_ROLE_ID": "r"},
            "vault: VAULT_ROLE_ID is set but VAULT_SECRET_ID is not",
        ),
        (
            {
                "VAULT_ADDR": "https://vault:8200",
                "VAULT_K8S_ROLE": "carapulse",
                "VAULT_K8S_JWT_PATH": "/nonexistent/jwt",
            },
            "vault: VAULT_K8S_JWT_PATH: file /nonexistent/jwt does not exist",
        ),
        (
            {"VAULT_ADDR": "https://vault:8200", "VAULT_TOKEN": "t", "VAULT_CLIENT_TIMEOUT": "0"},
            "vault: VAULT_CLIENT_TIMEOUT:",
        ),
    ],
)
def test_a_wrong_setting_stops_start_up_with_one_line_naming_it(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ToolError) as raised:
        toolset(environ)

    assert raised.value.message.startswith(message)
    assert "\n" not in raised.value.message


async def test_toolset_shares_one_client_and_lists_its_actions(fake: FakeVault, tmp_path: Path) -> None:
    jwt = tmp_path / "token"
    jwt.write_text("jwt-for-carapulse")
    fake.kubernetes_roles["carapulse"] = "jwt-for-carapulse"
    built = toolset({"VAULT_ADDR": fake.url, "VAULT_K8S_ROLE": "carapulse", "VAULT_K8S_JWT_PATH": str(jwt)})
    try:
        assert built.status == f"enabled, {fake.url} (kubernetes role carapulse)"
        assert [action.name for action in Registry(built.actions)] == [
            "vault.get_health",
            "vault.get_token_info",
            "vault.get_secret_metadata",
            "vault.write_secret",
            "vault.restore_secret_version",
            "vault.delete_secret_version",
            "vault.undelete_secret_version",
            "vault.renew_lease",
            "vault.revoke_lease",
            "vault.rotate_root_credentials",
            "vault.get_static_role",
            "vault.rotate_role_credentials",
        ]
        assert fake.requests == [], "building the toolset sends nothing"
        info = await run(Registry(built.actions), "vault.get_token_info", {})
        assert info.summary.startswith("vault token kubernetes-carapulse: policies default, carapulse")
    finally:
        await built.aclose()


async def test_summaries_of_a_path_that_ends_like_a_secret_key_survive_redaction(
    registry: Registry, fake: FakeVault
) -> None:
    fake.put_secret("team/db-password", {"password": OLD_PASSWORD})

    result = await run(registry, "vault.get_secret_metadata", {"path": "team/db-password"})

    assert (
        Redactor().redact(result.summary) == result.summary == "secret/team/db-password at version 1, 1 kept"
    )
