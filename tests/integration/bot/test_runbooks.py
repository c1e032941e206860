import subprocess
from pathlib import Path

import pytest

from bot import library, library_files, playbooks, runbooks, workflows
from bot.db.engine import SessionFactory
from bot.domain import Actor
from bot.errors import CarapulseError, ConfigError, Conflict, NotFound
from bot.runbooks import RunbookDraft
from tests.builders import ALICE, ENVIRONMENTS, TEAM

OTHER = Actor(team_id="T0999OTHER9", user_id="U0999OTHER9")
CATALOG = workflows.build_catalog(None, environments=ENVIRONMENTS)
RESTART = {"remediation": "restart", "service": "checkout", "namespace": "shop"}

RUNBOOK_FILE = """---
kind: runbook
service: checkout
title: Checkout is slow
workflow: incident_remediation
inputs: {remediation: restart, service: checkout, namespace: shop}
alertnames: [CheckoutLatencyHigh]
---
1. Look at the p99 panel.
2. Restart if the pods are stuck.
"""
PLAYBOOK_FILE = """kind: playbook
name: restart-service
description: Restart a service and wait for it
inputs: [service]
target: {service: "{service}", namespace: shop}
steps:
  - action: kubernetes.rollout_restart
    args: {namespace: shop, name: "{service}"}
    description: Restart {service}
"""


def _draft(**changes: object) -> RunbookDraft:
    fields = {
        "service": "checkout",
        "title": "Slow checkout",
        "body": "1. look",
        "workflow": "incident_remediation",
        "inputs": RESTART,
        "alertnames": ["CheckoutLatencyHigh"],
    }
    return RunbookDraft.model_validate({**fields, **changes})


async def _save(sessions: SessionFactory, actor: Actor = ALICE, **changes: object) -> int:
    async with sessions.begin() as session:
        return (await runbooks.save(session, actor=actor, draft=_draft(**changes), catalog=CATALOG)).id


async def _sync(sessions: SessionFactory, directory: Path) -> library_files.Library:
    loaded = await library_files.load(directory, catalog=CATALOG)
    async with sessions.begin() as session:
        await library_files.sync(session, loaded)
    return loaded


def _git(directory: Path, *args: str) -> str:
    command = ["git", "-C", str(directory), "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


async def test_remediation_for_an_alert_is_its_runbooks_workflow(sessions: SessionFactory) -> None:
    runbook_id = await _save(sessions)

    async with sessions() as session:
        found = await runbooks.remediation_for(
            session, team_id=TEAM, service="checkout", alertname="CheckoutLatencyHigh"
        )
        other_alert = await runbooks.remediation_for(
            session, team_id=TEAM, service="checkout", alertname="Down"
        )
        other_team = await runbooks.remediation_for(
            session, team_id=OTHER.team_id, service="checkout", alertname="CheckoutLatencyHigh"
        )

    assert found == runbooks.RunbookRemediation(
        workflow="incident_remediation",
        inputs=RESTART,
        runbook_id=runbook_id,
        runbook_title="Slow checkout",
        runbook_version="v1",
    )
    assert other_alert is None and other_team is None


async def test_a_workspaces_own_runbook_wins_over_the_files_one(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    (tmp_path / "checkout.md").write_text(RUNBOOK_FILE)
    await _sync(sessions, tmp_path)
    own = await _save(sessions, title="Ours", inputs={"remediation": "scale_up", "service": "checkout"})

    async with sessions() as session:
        ours = await runbooks.remediation_for(
            session, team_id=TEAM, service="checkout", alertname="CheckoutLatencyHigh"
        )
        theirs = await runbooks.remediation_for(
            session, team_id=OTHER.team_id, service="checkout", alertname="CheckoutLatencyHigh"
        )

    assert ours is not None and ours.runbook_id == own and ours.inputs["remediation"] == "scale_up"
    assert theirs is not None and theirs.runbook_title == "Checkout is slow"


async def test_edits_count_versions_and_clashes_are_refused(sessions: SessionFactory) -> None:
    first = await _save(sessions)
    async with sessions.begin() as session:
        edited = await runbooks.save(
            session, actor=ALICE, draft=_draft(body="2. fixed"), catalog=CATALOG, runbook_id=first
        )
    with pytest.raises(Conflict, match="already has a runbook"):
        await _save(sessions, title="Other", alertnames=["CheckoutLatencyHigh"])
    with pytest.raises(Conflict):
        await _save(sessions, alertnames=[])
    async with sessions.begin() as session:
        with pytest.raises(NotFound):
            await runbooks.save(session, actor=OTHER, draft=_draft(), catalog=CATALOG, runbook_id=first)

    assert (edited.version, edited.body) == ("v2", "2. fixed")
    async with sessions() as session:
        assert [r.title for r in (await runbooks.listing(session, team_id=TEAM)).items] == ["Slow checkout"]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"workflow": "nonesuch"}, "There is no workflow `nonesuch`"),
        ({"inputs": {"colour": "red"}}, "colour: not an input"),
        ({"workflow": None}, "Name the remediation workflow"),
    ],
)
def test_a_runbooks_workflow_must_exist_and_take_its_inputs(changes: dict, problem: str) -> None:
    with pytest.raises(CarapulseError, match=problem):
        _draft(**changes).check_workflow(CATALOG)


async def test_files_record_their_git_commit_or_content_hash(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "checkout.md").write_text(RUNBOOK_FILE)
    (tmp_path / "restart.yaml").write_text(PLAYBOOK_FILE)
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "library")
    commit = _git(tmp_path, "rev-parse", "HEAD")
    (tmp_path / "restart.yaml").write_text(PLAYBOOK_FILE.replace("and wait for it", "now"))

    await _sync(sessions, tmp_path)

    async with sessions() as session:
        [runbook] = (await runbooks.for_service(session, team_id=TEAM, service="checkout")).items
        playbook = await playbooks.by_name(session, team_id=OTHER.team_id, name="restart-service")
    assert (runbook.source, runbook.version) == ("runbooks/checkout.md", commit)
    assert runbook.body == "1. Look at the p99 panel.\n2. Restart if the pods are stuck."
    assert playbook.version.startswith("sha256:") and playbook.description == "Restart a service now"


async def test_a_new_sync_replaces_what_files_said_and_keeps_ids(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    (tmp_path / "checkout.md").write_text(RUNBOOK_FILE)
    (tmp_path / "restart.yaml").write_text(PLAYBOOK_FILE)
    await _sync(sessions, tmp_path)
    async with sessions() as session:
        before = (await runbooks.listing(session, team_id=TEAM)).items[0]
    (tmp_path / "checkout.md").write_text(RUNBOOK_FILE.replace("CheckoutLatencyHigh", "CheckoutDown"))
    (tmp_path / "restart.yaml").unlink()

    await _sync(sessions, tmp_path)

    async with sessions() as session:
        after = (await runbooks.listing(session, team_id=TEAM)).items
        assert (await playbooks.listing(session, team_id=TEAM)).items == []
        old_alert = await runbooks.remediation_for(
            session, team_id=TEAM, service="checkout", alertname="CheckoutLatencyHigh"
        )
    assert [(r.id, r.alertnames) for r in after] == [(before.id, ["CheckoutDown"])]
    assert old_alert is None
    with pytest.raises(Conflict, match=r"comes from `checkout\.md`"):
        library.require_editable("Runbook", after[0].source, after[0].version)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("a.md", "no front matter", "a.md: must start with front matter"),
        ("a.md", "---\nkind: runbook\nservice: x\n---\n", "a.md: title: Field required"),
        ("a.yaml", "kind: recipe", "a.yaml: kind: must be runbook or playbook"),
        ("a.yaml", "kind: [", "a.yaml: not YAML"),
        (
            "a.md",
            RUNBOOK_FILE.replace("incident_remediation", "nonesuch"),
            "a.md: workflow: There is no workflow",
        ),
        ("a.md", RUNBOOK_FILE.replace("service: checkout", "service: Check Out"), "a.md: service:"),
        ("a.yaml", PLAYBOOK_FILE.replace("name: restart-service", "name: Bad Name"), "a.yaml: name:"),
        (
            "a.yaml",
            PLAYBOOK_FILE.replace('{service: "{service}"', '{service: "{svc}"'),
            "a.yaml: target.service: unknown placeholder",
        ),
        ("a.yaml", PLAYBOOK_FILE.replace("kubernetes.rollout_restart", "restart"), "a.yaml: steps.0.action"),
    ],
)
async def test_a_bad_file_is_one_line_naming_the_file_and_field(
    tmp_path: Path, name: str, content: str, problem: str
) -> None:
    (tmp_path / name).write_text(content)

    with pytest.raises(ConfigError) as raised:
        await library_files.load(tmp_path, catalog=CATALOG)

    assert problem in raised.value.message and "\n" not in raised.value.message


async def test_two_files_claiming_one_alert_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(RUNBOOK_FILE)
    (tmp_path / "b.md").write_text(RUNBOOK_FILE.replace("Checkout is slow", "Another"))

    with pytest.raises(
        ConfigError, match=r"b.md: alertnames: CheckoutLatencyHigh of checkout is already in a.md"
    ):
        await library_files.load(tmp_path, catalog=CATALOG)
