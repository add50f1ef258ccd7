"""The CSV files are written with their floats formatted beforehand (sim.results.files.csv_text):
the text is that of ``to_csv(float_format="%.6g")``, byte for byte, whatever the columns hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.results.files import csv_text


def _pandas(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, float_format="%.6g", lineterminator="\n")


def _mixed(rng: np.random.Generator, n: int) -> pd.DataFrame:
    floats = rng.normal(0, 1, n) * 10.0 ** rng.integers(-300, 300, n)
    special = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-7, 123456.5, 1234567.0]
    floats[: min(n, len(special))] = special[: min(n, len(special))]
    masked = pd.array(rng.random(n), dtype="Float64")
    masked[rng.random(n) < 0.3] = pd.NA
    unmasked_nan = pd.array(np.zeros(n), dtype="Float64") / pd.array(np.zeros(n), dtype="Float64")
    return pd.DataFrame(
        {
            "f": floats,
            "f32": rng.normal(0, 1e3, n).astype(np.float32),
            "masked": masked,
            "nan_not_na": unmasked_nan,
            "i": rng.integers(-5, 5, n),
            "b": rng.random(n) < 0.5,
            "s": rng.choice(["plain", "with, comma", 'with "quote"', ""], n),
            "o": pd.Series(rng.choice([1.5, "x", None], n), dtype=object),
            "c": pd.Categorical(rng.choice(["a", "b"], n)),
        }
    )


@pytest.mark.parametrize("n", [0, 1, 9, 500])
def test_csv_text_is_pandas_text(n: int) -> None:
    df = _mixed(np.random.default_rng(n), n)
    assert csv_text(df) == _pandas(df)


def test_duplicate_names_and_lone_missing_values() -> None:
    df = pd.DataFrame([[1.0, np.nan], [np.nan, 2.5]], columns=["x", "x"])
    assert csv_text(df) == _pandas(df)
    lone = pd.DataFrame({"only": [np.nan, 1.0, np.nan]})
    assert csv_text(lone) == _pandas(lone)
    assert csv_text(pd.DataFrame()) == _pandas(pd.DataFrame())
