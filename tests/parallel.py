"""How the suite is spread over worker processes (pytest-xdist, ``-n auto --dist loadscope``).

Each test module runs whole in one worker, so that its module fixtures are built once. Modules
that read the same costly result, built once per process (``SHARED``: the comparison of
``result_dir``, the Five Valleys-like result of the decision-grade tests), go to the same worker
as one unit instead of each worker simulating it again. Units are handed out in the order they
are collected (``--no-loadscope-reorder``): tests/e2e, with the longest modules, first, the short
unit tests last, so that the workers end close together.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from xdist.scheduler import LoadScopeScheduling

# the costly results built once per process, by the name the modules using them call them by
SHARED = ("five_valleys_result", "result_dir")


@cache
def shared_result(module: Path) -> str | None:
    """The first of ``SHARED`` that the test module ``module`` uses, if any."""
    try:
        text = module.read_text(encoding="utf-8")
    except OSError:
        return None
    return next((name for name in SHARED if re.search(rf"\b{name}\b", text)), None)


class SharedResultScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """``--dist loadscope`` with the modules of one shared result in one unit of work."""

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        self.root = Path(config.rootpath)

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return shared_result(self.root / module) or module
