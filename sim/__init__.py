"""intersim: simulate shared emergency and public services between neighbouring communities."""

from .errors import InputError, Problem, ScenarioError
from .schema import Scenario, load_scenario

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "Problem",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
]
