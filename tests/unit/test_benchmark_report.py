"""How ``python -m benchmarks`` reports: each repeated figure with its spread, a first line
naming the machine, and ``--readme`` replacing only what lies between the README's markers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from benchmarks.__main__ import END, START, machine_line, write_readme
from benchmarks.mainjob import spread


def test_a_spread_is_the_median_with_the_extremes() -> None:
    assert spread([3.0, 1.0, 2.0]) == "2.0 (min 1.0, max 3.0 over 3)"
    assert spread([1.234, 1.0], "{:.2f}") == "1.12 (min 1.00, max 1.23 over 2)"
    assert spread([5.0]) == "5.0 (1 run)"


def test_the_machine_line_names_cores_and_versions() -> None:
    line = machine_line()
    assert f"{os.cpu_count()} cores" in line
    assert f"numpy {np.__version__}" in line
    for name in ("Python ", "SimPy ", "pandas ", "matplotlib "):
        assert name in line, line


def test_the_readme_table_is_replaced_between_its_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{START}\nold table\n{END}\nafter\n", encoding="utf-8")
    write_readme("line one\nline two\n", readme)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("intro\n")
    assert text.endswith(f"{END}\nafter\n")
    assert "old table" not in text
    assert "```\nline one\nline two\n```" in text
    write_readme("again\n", readme)
    assert readme.read_text(encoding="utf-8").count(START) == 1


def test_a_readme_without_markers_is_left_alone(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="markers"):
        write_readme("x\n", readme)
    assert readme.read_text(encoding="utf-8") == "no markers\n"
