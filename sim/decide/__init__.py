"""Answers to planners' questions: fleet sizing, coalitions and fair cost sharing.

From Python::

    import sim.decide
    sizing = sim.decide.size("scenarios/five_valleys.yaml", "ambulance", replications=10)
    sizing.summary            # per option: units, cost per year, saved against the baseline
    game = sim.decide.coalitions("scenarios/five_valleys.yaml", "ambulance", fast=True)
    game.values, game.allocations, game.stability

Modules, one concept each: :mod:`.fleet` (candidate fleets, coalitions as scenario variants),
:mod:`.evaluate` (simulating candidates, the confidence-bound verdict), :mod:`.analytic`
(Erlang C sizing), :mod:`.search` (the greedy search and the lockstep driver),
:mod:`.parallel` (the sweep's executors), :mod:`.sizing` and :mod:`.coalition` (the two
questions), :mod:`.shapley` (pure cooperative-game functions), :mod:`.figures`, :mod:`.html`
(``decision.html`` and the section of ``report.html``), :mod:`.output` and :mod:`.cli`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .coalition import CoalitionResult
    from .sizing import SizingResult

__all__ = ["coalitions", "size"]


def size(scenario: Any, service: str, **kwargs: Any) -> SizingResult:
    """The smallest fleet per pooling option; see :func:`sim.decide.sizing.size`."""
    from .sizing import size as _size

    return _size(scenario, service, **kwargs)


def coalitions(scenario: Any, service: str, **kwargs: Any) -> CoalitionResult:
    """The coalition game and its cost sharing; see :func:`sim.decide.coalition.coalitions`."""
    from .coalition import coalitions as _coalitions

    return _coalitions(scenario, service, **kwargs)
