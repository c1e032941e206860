"""No code path edits or removes an audit event: read every module of the service and refuse an
UPDATE or DELETE aimed at audit_events, whether built with SQLAlchemy or written as SQL text.
(Migrations before 0015 are history and are not read; the database trigger backs this up.)"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("bot", "actions", "blocks", "tools")
_SQL = re.compile(r"\b(UPDATE|DELETE\s+FROM|TRUNCATE)\s+(TABLE\s+)?audit_events\b", re.IGNORECASE)
_WRITERS = {"update", "delete"}


def modules() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def offences(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _called(node) in _WRITERS and _names_audit_events(node):
            found.append(f"line {node.lineno}: {_called(node)}() of audit events")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.search(node.value):
            found.append(f"line {node.lineno}: SQL {_SQL.search(node.value)[0]!r}")
    return found


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _names_audit_events(call: ast.Call) -> bool:
    """update(AuditEvent), delete(AuditEvent.__table__), AuditEvent.__table__.update(), …"""
    targets = [*call.args, call.func.value] if isinstance(call.func, ast.Attribute) else list(call.args)
    return any(
        "AuditEvent" in ast.unparse(target) or "audit_events" in ast.unparse(target) for target in targets
    )


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_module_edits_or_removes_audit_events(path: Path) -> None:
    assert offences(path.read_text()) == []


@pytest.mark.parametrize(
    "source",
    [
        "session.execute(update(AuditEvent).values(actor_id='x'))",
        "session.execute(delete(AuditEvent).where(AuditEvent.id == 1))",
        "session.execute(sa.delete(AuditEvent))",
        "conn.execute(AuditEvent.__table__.update())",
        "conn.execute(text('DELETE FROM audit_events WHERE id = 1'))",
        "conn.execute(text('update audit_events set kind = 1'))",
        "conn.execute(text('TRUNCATE TABLE audit_events'))",
    ],
)
def test_the_check_catches_each_way_of_writing_it(source: str) -> None:
    assert offences(source)


def test_moving_a_chain_head_is_allowed() -> None:
    assert offences("session.execute(update(AuditChain).values(seq=2))") == []
