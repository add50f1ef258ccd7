"""Answers to planners' questions: fleet sizing, coalitions and fair cost sharing.

From Python::

    import sim.decide
    sizing = sim.decide.size("scenarios/five_valleys.yaml", "ambulance", replications=10)
    sizing.summary            # per option: units, cost per year, saved against the baseline
    game = sim.decide.coalitions("scenarios/five_valleys.yaml", "ambulance", fast=True)
    game.values, game.allocations, game.stability

Modules, one concept each: :mod:`.fleet` (candidate fleets, coalitions as scenario variants),
:mod:`.evaluate` (simulating candidates through the engine driver, the confidence-bound
verdict), :mod:`.analytic` (Erlang C sizing), :mod:`.search` (the greedy search and the
lockstep driver, on an executor of :mod:`sim.engine.execute`), :mod:`.sizing` and
:mod:`.coalition` (the two questions; the cooperative-game functions are in
:mod:`sim.analysis.shapley`), :mod:`.figures`, :mod:`.html` (``decision.html`` and the section
of ``report.html``) and :mod:`.output`. The commands are in :mod:`sim.cli.decide`.
"""

from __future__ import annotations

from .coalition import CoalitionResult, coalitions
from .sizing import SizingResult, size

__all__ = ["CoalitionResult", "SizingResult", "coalitions", "size"]
