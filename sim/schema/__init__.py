"""The scenario format: models, YAML reading and validation."""

from .load import load_scenario, scenario_from_data, scenario_from_dict
from .scenario import Scenario

__all__ = ["Scenario", "load_scenario", "scenario_from_data", "scenario_from_dict"]
