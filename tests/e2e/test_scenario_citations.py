"""The shipped scenarios say where their figures come from, in the files themselves.

They must not cite a notes file users do not have (``DOMAIN.md``). Every line of data that holds
a number carries a comment, or sits in a commented block: under a key (below the top level) that
has a comment, a comment just above it, or a block opening with a comment; or right after a
commented line of its own block (``share: 0.9`` after the commented ``minutes:`` of a target).
Rates, populations, targets, shares, probabilities, multipliers and costs are held to more: the
comment must be on the line, on its own block, or just above it. Not figures, so not checked:
``priority:`` lines, the ``run:`` section, and text (``name:``, ``description:``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SHIPPED = sorted(SCENARIOS.glob("*.yaml"))

NUMBER = re.compile(r"(?<![A-Za-z_0-9.])[0-9]")  # a digit that does not continue a name
TEXT_KEYS = re.compile(r"^(- )?(name|description):")
SETTING_KEYS = re.compile(r"^(- )?priority:")
BLOCK_SCALAR = re.compile(r":\s*[>|][-+]?\s*$")
KEY_FIGURE = re.compile(
    r"\b(rate_per_1000|rate_per_year|population|minutes|share|probability|multiplier"
    r"|cost_per_unit_hour)\s*:\s*[\"']?[0-9]"
)


@dataclass(frozen=True)
class Line:
    number: int
    indent: int
    code: str  # the line without its comment, stripped; "" for a comment line
    comment: bool  # the line is or carries a comment


def _split(raw: str) -> tuple[str, bool]:
    """Code, and whether a comment follows (a '#' outside quotes, first or after a blank)."""
    quote = ""
    for i, ch in enumerate(raw):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or raw[i - 1] in " \t"):
            return raw[:i].strip(), True
    return raw.strip(), False


def parse(text: str) -> list[Line]:
    """The non-blank lines of a YAML text."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.strip():
            code, comment = _split(raw)
            lines.append(Line(number, len(raw) - len(raw.lstrip(" ")), code, comment))
    return lines


def _data_lines(lines: list[Line]) -> list[tuple[int, list[int]]]:
    """Each data line with a number (its index in ``lines``) and its enclosing lines."""
    out = []
    parents: list[int] = []  # indices of the enclosing lines, outermost first
    scalar_indent: int | None = None  # inside a block scalar (description: >-) deeper than this
    section = ""
    for i, line in enumerate(lines):
        if not line.code:
            continue
        if scalar_indent is not None and line.indent > scalar_indent:
            continue
        scalar_indent = None
        while parents and lines[parents[-1]].indent >= line.indent:
            parents.pop()
        if line.indent == 0:
            section = line.code.split(":", 1)[0]
        if BLOCK_SCALAR.search(line.code):
            scalar_indent = line.indent
        if (
            NUMBER.search(line.code)
            and section != "run"
            and not TEXT_KEYS.match(line.code)
            and not SETTING_KEYS.match(line.code)
        ):
            out.append((i, list(parents)))
        parents.append(i)
    return out


def _opens_with_comment(lines: list[Line], p: int) -> bool:
    """The key at ``p`` has a comment, or its block opens with a comment line."""
    return lines[p].comment or (p + 1 < len(lines) and not lines[p + 1].code)


def _comment_above(lines: list[Line], i: int) -> bool:
    """A comment line directly above line ``i``, at its indentation."""
    above = lines[i - 1] if i > 0 else None
    return above is not None and not above.code and above.indent == lines[i].indent


def _after_a_comment(lines: list[Line], parents: list[int], i: int) -> bool:
    """The line just above ``i``, inside the same block, is or carries a comment."""
    above = lines[i - 1] if i > 0 else None
    inside = not parents or i - 1 > parents[-1]
    return above is not None and above.comment and inside and above.indent >= lines[i].indent


def uncommented_figures(text: str) -> list[str]:
    """``line N: code`` for every data line with a number that no comment accounts for."""
    lines = parse(text)
    return [
        f"line {lines[i].number}: {lines[i].code}"
        for i, parents in _data_lines(lines)
        if not (
            lines[i].comment
            or _after_a_comment(lines, parents, i)
            or any(
                _opens_with_comment(lines, p) or _comment_above(lines, p)
                for p in parents
                if lines[p].indent > 0
            )
        )
    ]


def unsourced_key_figures(text: str) -> list[str]:
    """``line N: code`` for every rate, population, target, share, probability, multiplier or
    cost with no comment on the line, on its own block, or just above it."""
    lines = parse(text)
    return [
        f"line {lines[i].number}: {lines[i].code}"
        for i, parents in _data_lines(lines)
        if KEY_FIGURE.search(lines[i].code)
        and not (
            lines[i].comment
            or _after_a_comment(lines, parents, i)
            or (parents != [] and _opens_with_comment(lines, parents[-1]))
        )
    ]


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_scenario_cites_no_domain_notes(path: Path) -> None:
    hits = [
        f"line {n}: {text.strip()}"
        for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "domain" in text.lower()
    ]
    assert not hits, (
        f"{path.name} cites DOMAIN, a file users do not have; name the source itself: {hits}"
    )


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_figure_of_a_shipped_scenario_has_a_comment(path: Path) -> None:
    problems = uncommented_figures(path.read_text(encoding="utf-8"))
    assert not problems, (
        f"{path.name}: these figures have no comment naming their source (or [assumption]), "
        f"neither on the line nor on their block: {problems}"
    )


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_rate_target_and_share_has_its_own_comment(path: Path) -> None:
    problems = unsourced_key_figures(path.read_text(encoding="utf-8"))
    assert not problems, (
        f"{path.name}: these rates, targets or shares have no comment on the line, on their "
        f"own block or just above: {problems}"
    )


SNIPPET = """\
communities:
  # Populations [assumption]
  a:
    name: A 1
    population: 5000
  b:
    population: 800           # [assumption]
    location: {x: 1, y: 2}
travel:
  matrix:
    a: {a: 4, b: 8}
incident_types:
  # --- a heading over every type ---
  t:
    priority: 1
    description: >-
      Text with 12 numbers is not a figure.
    rate_per_1000: 90
    target:
      minutes: 12             # a standard
      share: 0.9
    on_scene:                 # [assumption]
      {dist: lognormal, median: 14, log_sd: 0.5}
    turnout:
      # [assumption] a block comment
      {dist: lognormal, median: 1, log_sd: 0.4}
    call_handling:
      {dist: lognormal, median: 1, log_sd: 0.4}
run:
  seed: 1
"""


def test_the_checks_find_uncommented_figures() -> None:
    assert uncommented_figures(SNIPPET) == ["line 11: a: {a: 4, b: 8}"]
    assert unsourced_key_figures(SNIPPET) == [
        "line 5: population: 5000",
        "line 18: rate_per_1000: 90",
    ]
    no_heading = SNIPPET.replace("  # --- a heading over every type ---\n", "")
    assert uncommented_figures(no_heading) == [
        "line 11: a: {a: 4, b: 8}",
        "line 17: rate_per_1000: 90",
        "line 27: {dist: lognormal, median: 1, log_sd: 0.4}",
    ]
