"""What a model's tokens cost, from the configured price table (PLANNER_PRICES)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

PER = 1_000_000


class ModelPrice(BaseModel):
    """US dollars per million input and output tokens, as the provider's price list gives them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)


def cost(
    prices: Mapping[str, ModelPrice], model: str, *, input_tokens: int, output_tokens: int
) -> float | None:
    """The request's cost in US dollars; None when the table has no price for `model`."""
    price = prices.get(model)
    if price is None:
        return None
    return (input_tokens * price.input + output_tokens * price.output) / PER
