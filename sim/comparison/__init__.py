"""sim.comparison."""
