import pytest

from blocks import ids
from bot.playground.slack.state import ALICE
from tests.harness import RunningBot

PLAYBOOK = """description: Restart a service
inputs: [service]
target: {service: "{service}", namespace: shop}
steps:
  - action: kubernetes.rollout_restart
    args: {namespace: shop, name: "{service}"}
    description: Restart {service}
"""


def _input(value: str) -> dict:
    return {ids.FIELD_INPUT: {"type": "plain_text_input", "value": value}}


def _runbook_form(**changes: str) -> dict:
    values = {
        ids.RUNBOOK_SERVICE_BLOCK: "checkout",
        ids.RUNBOOK_TITLE_BLOCK: "Checkout is slow",
        ids.RUNBOOK_BODY_BLOCK: "1. Look at the *p99* panel",
        ids.RUNBOOK_WORKFLOW_BLOCK: "incident_remediation",
        ids.RUNBOOK_INPUTS_BLOCK: "remediation=restart service=checkout namespace=shop",
        ids.RUNBOOK_ALERTS_BLOCK: "CheckoutLatencyHigh, CheckoutDown",
    }
    return {block: _input(value) for block, value in {**values, **changes}.items()}


async def _opened(bot: RunningBot, count: int = 1) -> dict:
    calls = await bot.slack.wait_until(
        lambda: len(opened := [c for c in bot.slack.calls_to("views.open") if c.ok]) >= count and opened
    )
    return calls[count - 1].args["view"]


async def test_runbook_written_in_a_modal_is_shown_for_its_service(bot: RunningBot) -> None:
    await bot.driver.slash_command("runbook new checkout")
    view = await _opened(bot)
    submitted = await bot.driver.view_submission(ids.RUNBOOK_MODAL, _runbook_form(), user=ALICE)
    saved = await bot.slack.wait_for(lambda c: c.method == "chat.postEphemeral" and c.ok)

    await bot.driver.slash_command("runbook checkout")
    shown = await bot.slack.wait_until(lambda: bot.slack.responses)

    service_field = next(b for b in view["blocks"] if b["block_id"] == ids.RUNBOOK_SERVICE_BLOCK)
    assert service_field["element"]["initial_value"] == "checkout"
    assert submitted.status == 200 and submitted.body == ""
    assert saved.args["text"] == "Saved runbook 1, “Checkout is slow” of checkout (v1)."
    blocks = shown[0].body["blocks"]
    assert {"type": "markdown", "text": "1. Look at the *p99* panel"} in blocks
    assert "incident_remediation remediation=restart service=checkout namespace=shop" in str(blocks)
    assert "CheckoutDown, CheckoutLatencyHigh" in str(blocks)
    assert ids.RUNBOOK_EDIT in str(blocks)


@pytest.mark.parametrize(
    ("changes", "block", "message"),
    [
        ({ids.RUNBOOK_SERVICE_BLOCK: "Check Out"}, ids.RUNBOOK_SERVICE_BLOCK, "is not a service name"),
        ({ids.RUNBOOK_TITLE_BLOCK: ""}, ids.RUNBOOK_TITLE_BLOCK, "at least 1 character"),
        (
            {ids.RUNBOOK_WORKFLOW_BLOCK: "nonesuch"},
            ids.RUNBOOK_WORKFLOW_BLOCK,
            "There is no workflow `nonesuch`",
        ),
        ({ids.RUNBOOK_INPUTS_BLOCK: "colour=red"}, ids.RUNBOOK_INPUTS_BLOCK, "colour: not an input"),
        ({ids.RUNBOOK_INPUTS_BLOCK: "restart"}, ids.RUNBOOK_INPUTS_BLOCK, "is not `name=value`"),
        (
            {ids.RUNBOOK_WORKFLOW_BLOCK: "", ids.RUNBOOK_INPUTS_BLOCK: ""},
            ids.RUNBOOK_WORKFLOW_BLOCK,
            "Name the",
        ),
        ({ids.RUNBOOK_ALERTS_BLOCK: "bad-name"}, ids.RUNBOOK_ALERTS_BLOCK, "is not an alertname"),
    ],
)
async def test_runbook_modal_refuses_a_bad_field_beside_it(
    bot: RunningBot, changes: dict, block: str, message: str
) -> None:
    await bot.driver.slash_command("runbook new")
    await _opened(bot)

    response = await bot.driver.view_submission(ids.RUNBOOK_MODAL, _runbook_form(**changes), user=ALICE)

    answer = response.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [block] and message in answer["errors"][block]


async def test_playbook_defined_in_a_modal_starts_a_plan_that_needs_approval(bot: RunningBot) -> None:
    await bot.driver.slash_command("playbook new")
    await _opened(bot)
    await bot.driver.view_submission(
        ids.PLAYBOOK_MODAL,
        {ids.PLAYBOOK_NAME_BLOCK: _input("restart-service"), ids.PLAYBOOK_DEFINITION_BLOCK: _input(PLAYBOOK)},
        user=ALICE,
    )
    await bot.slack.wait_for(
        lambda c: c.method == "chat.postEphemeral" and "Saved playbook" in c.args["text"]
    )

    await bot.driver.slash_command("playbook start restart-service service=checkout")
    card = await bot.card_text(1, "Awaiting approval")

    assert "playbook:restart-service v1" in card
    assert 'kubernetes.rollout_restart` `{"name": "checkout", "namespace": "shop"}`' in card


async def test_starting_a_playbook_without_its_inputs_asks_for_them(bot: RunningBot) -> None:
    await bot.driver.slash_command("playbook new")
    await _opened(bot)
    await bot.driver.view_submission(
        ids.PLAYBOOK_MODAL,
        {ids.PLAYBOOK_NAME_BLOCK: _input("restart-service"), ids.PLAYBOOK_DEFINITION_BLOCK: _input(PLAYBOOK)},
        user=ALICE,
    )
    await bot.slack.wait_for(
        lambda c: c.method == "chat.postEphemeral" and "Saved playbook" in c.args["text"]
    )

    await bot.driver.slash_command("playbook start restart-service")
    form = await _opened(bot, 2)
    refused = await bot.driver.view_submission(ids.PLAYBOOK_START_MODAL, {"service": _input("")}, user=ALICE)
    accepted = await bot.driver.view_submission(
        ids.PLAYBOOK_START_MODAL, {"service": _input("checkout")}, user=ALICE
    )

    assert [b.get("block_id") for b in form["blocks"][1:]] == ["service"]
    assert refused.json() == {"response_action": "errors", "errors": {"service": "required"}}
    assert accepted.status == 200 and accepted.body == ""
    assert "playbook:restart-service" in await bot.card_text(1, "Awaiting approval")


@pytest.mark.parametrize(
    ("name", "definition", "block", "message"),
    [
        ("Bad Name", PLAYBOOK, ids.PLAYBOOK_NAME_BLOCK, "is not a playbook name"),
        ("ok", "steps: [", ids.PLAYBOOK_DEFINITION_BLOCK, "This is not YAML"),
        ("ok", "just text", ids.PLAYBOOK_DEFINITION_BLOCK, "A playbook is a mapping"),
        (
            "ok",
            PLAYBOOK.replace("inputs: [service]\n", ""),
            ids.PLAYBOOK_DEFINITION_BLOCK,
            "unknown placeholder",
        ),
        ("ok", "target: {service: x}\nsteps: []", ids.PLAYBOOK_DEFINITION_BLOCK, "steps: List should have"),
    ],
)
async def test_playbook_modal_refuses_a_bad_definition_beside_it(
    bot: RunningBot, name: str, definition: str, block: str, message: str
) -> None:
    await bot.driver.slash_command("playbook new")
    await _opened(bot)

    response = await bot.driver.view_submission(
        ids.PLAYBOOK_MODAL,
        {ids.PLAYBOOK_NAME_BLOCK: _input(name), ids.PLAYBOOK_DEFINITION_BLOCK: _input(definition)},
        user=ALICE,
    )

    answer = response.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [block] and message in answer["errors"][block]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("playbook start", "Use `/carapulse playbook list`"),
        ("playbook start Bad!", "is not a playbook name"),
        ("playbook start x service", "`service` is not `name=value`"),
        ("runbook checkout extra", "Use `/carapulse runbook <service>`"),
        ("runbook edit x", "needs a runbook id"),
    ],
)
async def test_bad_library_commands_are_answered_inside_the_ack(
    bot: RunningBot, text: str, expected: str
) -> None:
    response = await bot.driver.slash_command(text)

    assert expected in response.json()["text"]
