"""sim.cli."""
