"""Random streams: one numpy Generator per random source, all from the scenario seed.

Streams are addressed, not spawned in sequence: ``(replication, kind, a, b)`` always gives the
same generator, whatever else is drawn, in whatever order or process. So every pooling option
of a replication sees identical incidents (common random numbers), and a replication can run
anywhere with the same result.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ARRIVALS", "BURSTS", "NOISE", "ZONES", "stream"]

ARRIVALS = 0  # arrival times and attributes drawn at arrival, per community x incident type
NOISE = 1  # travel-time noise, per community x incident type
BURSTS = 2  # mass-casualty bursts, per burst
ZONES = 3  # the zone of each incident inside its community, per community x incident type


def stream(seed: int, replication: int, kind: int, a: int = 0, b: int = 0) -> np.random.Generator:
    """The generator of one random source in one replication."""
    seq = np.random.SeedSequence(entropy=seed, spawn_key=(replication, kind, a, b))
    return np.random.Generator(np.random.PCG64(seq))
