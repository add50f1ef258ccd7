"""sim.runs."""
