"""Move-up in the scenario format: relocating free units while others are busy.

A dispatch rule may name a relocation policy per service (``relocation: {policy:
compliance_table, table: {1: [hub], 2: [north, south]}}``). The policy moves free units
between posts: the stations of the scenario (a standby point without units of its own is a
station too, at coordinates or at a zone). Checks across the scenario (unknown posts, rows of
the wrong length, rows for more units than the fleet has) are in
:mod:`sim.schema.relocationcheck`.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .durations import Duration, PositiveDuration

__all__ = ["RELOCATION_POLICIES", "CrossBorder", "Relocation"]

RELOCATION_POLICIES = ("none", "compliance_table", "coverage")
RelocationPolicy = Literal["none", "compliance_table", "coverage"]
MAX_ROWS = 10_000  # rows of a compliance table (one per number of free units)


def _code_as_text(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Post = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$", max_length=64),
    BeforeValidator(_code_as_text),
]
CommunityId = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64)]


def _row_key(value: object) -> object:
    """Rows are keyed by the number of free units; YAML keys such as ``2`` are integers."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


FreeUnits = Annotated[int, BeforeValidator(_row_key), Field(ge=1, le=MAX_ROWS)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class CrossBorder(_Model):
    """Whether a community's free units may be moved to posts outside it, and how many."""

    move_out: bool = Field(
        True, description="Its units may be moved to posts outside the community"
    )
    max_out: int | None = Field(
        None,
        ge=0,
        le=10_000,
        description="At most this many of its free units at (or moving to) posts outside it",
    )


class Relocation(_Model):
    """Move-up: which free units move to which posts while others are busy."""

    policy: RelocationPolicy = Field(
        "none",
        description="none: units return to their station; compliance_table: restore the "
        "table's posts for the number of free units; coverage: greedily raise the expected "
        "covered demand (MEXCLP)",
    )
    posts: list[Post] | None = Field(
        None,
        max_length=MAX_ROWS,
        description="coverage: stations units may be moved to; default: the stations of the "
        "service's units",
    )
    table: dict[FreeUnits, list[Post]] | None = Field(
        None,
        description="compliance_table: number of free units -> the stations to occupy (a "
        "station listed twice holds two units)",
    )
    target: PositiveDuration | None = Field(
        None,
        description="coverage: the response target of covered demand; default: each "
        "community's target of the service's most urgent priority",
    )
    busy_probability: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] | None = Field(
        None,
        description="coverage: probability q that a unit is busy (MEXCLP); default: the "
        "offered load over the units",
    )
    max_moves: int | None = Field(
        None,
        ge=0,
        le=10_000,
        description="Moves at most per event; default: 1 for coverage, every move the table "
        "needs for compliance_table",
    )
    min_interval: Duration = Field(0, description="Minutes at least between two moves of one unit")
    min_gain: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = Field(
        0.01,
        description="coverage: a move must raise the expected covered demand by this share of "
        "the service's demand",
    )
    tick: PositiveDuration | None = Field(
        None, description="Also reconsider the posts every this many minutes"
    )
    return_to: Literal["home", "post"] = Field(
        "home", description="Where a unit heads after a job: its home station or its post"
    )
    cross_border: CrossBorder = Field(
        default_factory=CrossBorder, description="Rules for every community"
    )
    by_community: dict[CommunityId, CrossBorder] = Field(
        default_factory=dict, description="Community -> its own cross-border rules"
    )
    move_cost_per_hour: Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)] = Field(
        0, description="Running cost of an hour driven on a move, added to the unit's cost"
    )

    @model_validator(mode="after")
    def _fields_of_policy(self) -> Self:
        if self.policy == "compliance_table" and not self.table:
            raise ValueError("compliance_table needs a `table`: free units -> stations")
        if self.policy != "compliance_table" and self.table is not None:
            raise ValueError("`table` is for policy compliance_table")
        if self.policy != "coverage":
            for name in ("posts", "target", "busy_probability"):
                if getattr(self, name) is not None:
                    raise ValueError(f"`{name}` is for policy coverage")
        return self

    @property
    def moves(self) -> bool:
        """Whether the policy moves units at all."""
        return self.policy != "none"
