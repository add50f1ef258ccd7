"""Dispatch rules of the compiled model: one plain frozen value per service of a fleet.

Compiled from the scenario's ``dispatch`` entries by
:func:`sim.model.compile.compile_dispatch`: community ids become community indices, a missing
``max_travel`` becomes infinity and the default "every other community" of ``partners`` is
spelled out, so that the engine's policies read numbers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["DispatchRule", "QueueRule"]

QueueRule = Literal["oldest", "nearest"]


@dataclass(frozen=True)
class DispatchRule:
    """How calls of one service are matched to units.

    ``policy`` names the dispatch policy; the engine maps it to the class registered under that
    name (:data:`sim.engine.policies.POLICIES`), which decides what the other fields mean for
    it. ``lenders[c]`` are the communities (indices) whose units community ``c`` may borrow
    under mutual aid, never ``c`` itself.
    """

    policy: str
    lenders: tuple[tuple[int, ...], ...]
    max_travel: float = float("inf")  # longest expected trip of a lent unit, minutes
    reserve: int = 0  # free units a lender always keeps
    request_delay: float = 0.0  # minutes before a lent unit leaves
    queue_rule: QueueRule = "oldest"  # which waiting call (of the highest priority) comes first
    from_road: bool = True  # a returning unit may be dispatched before it is back

    def borrowers(self) -> tuple[tuple[int, ...], ...]:
        """``borrowers()[o]``: the communities that may borrow units of community ``o``."""
        every = range(len(self.lenders))
        return tuple(tuple(c for c in every if o in self.lenders[c]) for o in every)
