"""Your own data: incident logs in and out of intersim.

- :mod:`sim.data.export`: a simulated run written as a CAD-style incident log (``export-log``).
- :mod:`sim.data.calibrate`: a commented, valid scenario fitted to a log (``calibrate``), with
  :mod:`sim.data.report` (the calibration report).
- :mod:`sim.replay`: a log's incidents drive the simulation (``run/compare --replay``), and
  :mod:`sim.data.backtest` compares simulated with recorded response times (``backtest``).

Reading a log: :mod:`sim.data.columns` (files and column names), :mod:`sim.data.times`
(timestamps and time zones), :mod:`sim.data.communities` (names and coordinates),
:mod:`sim.data.zones` (incidents at zones: named, or nearest to their coordinates),
:mod:`sim.data.log` (cleaning, with every row accounted for). Estimating:
:mod:`sim.data.parameters`, :mod:`sim.data.fitting`, :mod:`sim.data.travel`,
:mod:`sim.data.zonecounts` (calls per zone, the zone file written); writing:
:mod:`sim.data.writer`, :mod:`sim.data.yamlwrite`.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Calibration": "calibrate",
    "calibrate": "calibrate",
    "write_calibration": "calibrate",
    "Mapping": "columns",
    "load_mapping": "columns",
    "export_log": "export",
    "write_log": "export",
    "Log": "log",
    "read_log": "log",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    """Load submodules on first use: importing one module of this package (``sim.data.replay``
    for ``run --replay``) must not load the calibration and its figures, a second or more."""
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
