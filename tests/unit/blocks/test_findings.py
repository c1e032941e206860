"""Findings as a thread reply: every finding with the evidence it cites, every read with what it
said, inside Block Kit's limits, with the model's words unable to ping or link."""

from blocks.findings import findings_reply
from bot.domain import Evidence, Finding, Findings, PlannerRef
from bot.playground.slack.blockkit import check_blocks

MODEL = PlannerRef(name="anthropic", model="claude-sonnet-4-5")


def findings(**changes: object) -> Findings:
    base = Findings(
        question="Why is checkout failing?",
        summary="The database refuses checkout's connections.",
        findings=[Finding(text="Pods log connection refused", evidence=[1, 2])],
        evidence=[
            Evidence(
                number=1, action="kubernetes.list_pods", args={"namespace": "shop"}, ok=True, said="2 pods"
            ),
            Evidence(
                number=2, action="kubernetes.get_pod_logs", args={"name": "c-1"}, ok=False, said="timed out"
            ),
            Evidence(number=3, action="kubernetes.scale", args={}, ok=False, said="a write", refused=True),
        ],
        made_by=MODEL,
    )
    return base.model_copy(update=changes)


def test_reply_cites_evidence_and_lists_every_read() -> None:
    text, blocks = findings_reply(findings())

    rendered = str(blocks)
    assert text == "Investigation: Why is checkout failing?"
    assert "Pods log connection refused _(evidence #1, #2)_" in rendered
    assert ':white_check_mark: #1 `kubernetes.list_pods` `{"namespace": "shop"}`: 2 pods' in rendered
    assert ":x: #2 `kubernetes.get_pod_logs`" in rendered
    assert ":no_entry: #3 `kubernetes.scale`" in rendered
    assert "anthropic (claude-sonnet-4-5) · 2 reads · read-only: nothing was changed" in rendered
    assert check_blocks(blocks) == []


def test_model_words_cannot_ping_or_link() -> None:
    _, blocks = findings_reply(findings(summary="<!channel> see <https://evil.example|here>"))

    assert "&lt;!channel&gt; see &lt;https://evil.example|here&gt;" in str(blocks)


def test_a_long_investigation_stays_inside_block_kit_limits() -> None:
    many = [
        Evidence(
            number=n,
            action="kubernetes.list_events",
            args={"namespace": "shop" * 50},
            ok=True,
            said="x" * 300,
        )
        for n in range(1, 51)
    ]
    text, blocks = findings_reply(findings(evidence=many, summary="y" * 5000, note="stopped"))

    assert check_blocks(blocks) == []
    assert len(text) <= 4000
