"""Where to put shared stations and units: exact location models confirmed by simulation.

From Python::

    import sim.siting
    result = sim.siting.site("scenarios/five_valleys.yaml", "ambulance", candidates="zones")
    result.siting            # one row per placement: sites, model objective, simulated metrics
    result.costs             # the chosen placement's cost split between the communities

Modules, one concept each, in the order the data flows: :mod:`.candidates` (candidate sites
and the scenario with them), :mod:`.instance` (the location problem as arrays, and what a
placement scores), :mod:`.milp` (programs for HiGHS), :mod:`.models` (MEXCLP, maximal
covering, p-median, the percentile centre), :mod:`.placements` (rules and stage 1),
:mod:`.options` (a placement as a scenario option), :mod:`.simulate` (stage 2), :mod:`.game`
(the location game and its Shapley value), :mod:`.tables`, :mod:`.site` (the whole
question), :mod:`.figures`, :mod:`.yamltext` (the scenario file with the chosen option) and
:mod:`.output`. The command is in :mod:`sim.cli.site`.
"""

from __future__ import annotations

from .placements import OBJECTIVES
from .site import SitingResult, site

__all__ = ["OBJECTIVES", "SitingResult", "site"]
