"""What a saved terraform plan would do, read from `terraform show -json <planfile>`: the resource
addresses under each action and terraform's own counts (a replacement is one add and one destroy).
Attribute values are left out on purpose: they can be sensitive."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tools.common.wording import listing

# Addresses kept per action in a step's data; the counts are always exact.
ADDRESS_LIMIT = 100
_NOTHING = (("no-op",), ("read",))
_KINDS = {
    ("create",): "creates",
    ("update",): "updates",
    ("delete", "create"): "replaces",  # the default: destroy, then create
    ("create", "delete"): "replaces",  # create_before_destroy
    ("delete",): "deletes",
    ("forget",): "forgets",  # a `removed` block: leaves state, the object stays
}
_SYMBOLS = {"creates": "+", "updates": "~", "replaces": "-/+", "deletes": "-", "forgets": "forget"}


@dataclass(frozen=True)
class PlanSummary:
    creates: tuple[str, ...]
    updates: tuple[str, ...]
    replaces: tuple[str, ...]
    deletes: tuple[str, ...]
    forgets: tuple[str, ...]
    imports: tuple[str, ...]
    terraform_version: str

    @property
    def add(self) -> int:
        return len(self.creates) + len(self.replaces)

    @property
    def change(self) -> int:
        return len(self.updates)

    @property
    def destroy(self) -> int:
        return len(self.deletes) + len(self.replaces)

    @property
    def empty(self) -> bool:
        return not any(getattr(self, kind) for kind in (*_SYMBOLS, "imports"))

    @property
    def counts(self) -> str:
        """Terraform's own "Plan:" line: "1 to import, 2 to add, 0 to change, 1 to destroy"."""
        imports = f"{len(self.imports)} to import, " if self.imports else ""
        forgets = f", {len(self.forgets)} to forget" if self.forgets else ""
        return f"{imports}{self.add} to add, {self.change} to change, {self.destroy} to destroy{forgets}"

    def changes(self, shown: int = 4) -> str:
        """The first addresses with terraform's symbols: "+ aws_instance.web, -/+ aws_eip.web and 3 more"."""
        marked = [f"{_SYMBOLS[kind]} {address}" for kind in _SYMBOLS for address in getattr(self, kind)]
        return listing(marked, shown) if marked else "no changes"

    def as_data(self) -> dict[str, Any]:
        lists = {kind: list(getattr(self, kind)[:ADDRESS_LIMIT]) for kind in (*_SYMBOLS, "imports")}
        return {
            "add": self.add,
            "change": self.change,
            "destroy": self.destroy,
            **lists,
            "terraform_version": self.terraform_version,
        }


def read_plan(document: Mapping[str, Any]) -> PlanSummary:
    """The summary of a plan in terraform's JSON plan format. An action list this code does not know
    is a ValueError: a plan that cannot be summarised faithfully must not be approved on a guess."""
    found: dict[str, list[str]] = {kind: [] for kind in (*_SYMBOLS, "imports")}
    for resource in document.get("resource_changes") or []:
        address, change = resource["address"], resource["change"]
        if change.get("importing"):
            found["imports"].append(address)
        kind = _kind(tuple(change["actions"]))
        if kind is not None:
            found[kind].append(address)
    return PlanSummary(
        **{kind: tuple(addresses) for kind, addresses in found.items()},
        terraform_version=str(document["terraform_version"]),
    )


def _kind(actions: tuple[str, ...]) -> str | None:
    if actions in _NOTHING:
        return None
    if actions not in _KINDS:
        raise ValueError(f"unknown resource change actions {list(actions)}")
    return _KINDS[actions]
