"""The static mapping file (CONTEXT_MAPPING_FILE): what no tool knows, written down by people.

```yaml
services:
  checkout:
    owner: "@payments-team"
    channel: C0123PAYMNT          # where incidents about it go
    environment: prod
    namespace: shop
    depends_on: [payments, inventory]
```

Read once at start-up; a file that cannot be read or a field that is wrong stops start-up with one
line naming the file and the field. Its facts win over what the tools say.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from bot.context.graph import Edge, Fragment, NodeKind, Relation, key, service
from bot.errors import ConfigError

ServiceName = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][\w.-]*$")]
ChannelId = Annotated[str, StringConstraints(pattern=r"^[CG][A-Z0-9]{8,}$")]


class MappedService(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    owner: Annotated[str, StringConstraints(max_length=200)] = ""
    channel: ChannelId | None = None
    environment: Annotated[str, StringConstraints(max_length=64)] = ""
    namespace: Annotated[str, StringConstraints(max_length=63)] = ""
    depends_on: list[ServiceName] = Field(default_factory=list, max_length=200)


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    services: dict[ServiceName, MappedService] = Field(default_factory=dict)

    def fragment(self) -> Fragment:
        fragment = Fragment()
        for name, mapped in self.services.items():
            attributes = {"channel": mapped.channel} if mapped.channel else {}
            fragment.nodes.append(
                service(
                    name,
                    namespace=mapped.namespace,
                    environment=mapped.environment,
                    owner=mapped.owner,
                    attributes=attributes,
                )
            )
            fragment.edges += [
                Edge(key(NodeKind.SERVICE, name), key(NodeKind.SERVICE, other), Relation.DEPENDS_ON)
                for other in mapped.depends_on
            ]
        return fragment


def load(path: Path | None) -> Mapping:
    """The mapping in `path` (an empty one when None); ConfigError names the file and the field."""
    if path is None:
        return Mapping()
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"CONTEXT_MAPPING_FILE: cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        raise ConfigError(f"CONTEXT_MAPPING_FILE: {path}{line} is not YAML") from None
    try:
        return Mapping.model_validate(document or {})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "the document"
        raise ConfigError(f"CONTEXT_MAPPING_FILE: {path}: {field}: {error['msg']}") from None
