"""The documentation stays in step with the code: format reference, quick start, CI, exports."""

from __future__ import annotations

import re

import sim
from sim.schema.reference import BEGIN, END, format_reference
from tests.builders import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _code_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```(?:sh)?\n(.*?)```", text, flags=re.S)]


def test_readme_format_reference_is_generated_from_the_models() -> None:
    start, end = README.index(BEGIN) + len(BEGIN), README.index(END)
    assert README[start:end].strip() == format_reference().strip(), (
        "README's scenario reference should equal `intersim schema --markdown`; regenerate it"
    )


def test_quick_start_is_exactly_two_commands() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = _code_blocks(section)
    assert len(blocks) == 2, f"quick start should hold exactly two commands, found {blocks}"
    assert all("\n" not in b for b in blocks), "each quick-start command should be one line"
    main_job, tests = blocks
    assert "compare scenarios/five_valleys.yaml" in main_job, "first command runs the main job"
    assert "pytest" in tests, "second command runs the tests"


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    test_command = _code_blocks(section)[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci, f".ci/run should contain the README test command {test_command!r}"
    assert "set -euo pipefail" in ci, ".ci/run should fail on any failing step (pytest exit 5 too)"


def test_ci_runs_the_browser_test() -> None:
    """Without CI=true the browser test may skip; .ci/run sets it, so CI never skips it."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'export CI="${CI:-true}"' in ci, ".ci/run should set CI=true before the tests"
    assert ci.index("export CI=") < ci.index("-m pytest"), "CI=true is set before pytest runs"


def test_public_namespace_is_curated() -> None:
    exported = set(sim.__all__)
    public = {
        n
        for n in vars(sim)
        if not n.startswith("_") and n not in {"annotations", "TYPE_CHECKING", "Any"}
    }
    public -= {m for m in public if type(getattr(sim, m)).__name__ == "module"}
    assert public <= exported | {"__version__"}, (
        f"public names missing from __all__: {public - exported}"
    )
    for name in exported:
        assert hasattr(sim, name), f"sim.__all__ names {name}, which sim does not define"
