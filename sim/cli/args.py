"""The arguments the commands share, defined once: their types reject bad values with a clear
message that argparse turns into a one-line usage error (exit code 2), and every command that
takes ``--seed``, ``--replications``, ``--option``, ``--out``, ``--workers`` ... parses it the
same way (only the help says what it means for that command)."""

from __future__ import annotations

import argparse

__all__ = [
    "add_executor_arguments",
    "add_force",
    "add_option",
    "add_out",
    "add_overwrite",
    "add_quiet",
    "add_replications",
    "add_scenario",
    "add_seed",
    "confidence",
    "fraction",
    "non_negative_int",
    "positive_int",
    "serial_unless_asked",
    "share",
    "workers_for_run",
]


# --- types ------------------------------------------------------------------------------------
def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def fraction(text: str) -> float:
    """A number strictly between 0 and 1, such as a precision."""
    value = _number(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, e.g. 0.05: {text!r}")
    return value


def share(text: str) -> float:
    """A share of calls: more than 0, at most 1."""
    value = _number(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], e.g. 0.9: {text!r}")
    return value


def confidence(text: str) -> float:
    """A confidence level: at least 0.5, less than 1."""
    value = share(text)
    if not 0.5 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0.5, 1), e.g. 0.95: {text!r}")
    return value


# --- arguments --------------------------------------------------------------------------------
def add_scenario(p: argparse.ArgumentParser, help: str = "scenario file (YAML)") -> None:
    p.add_argument("scenario", metavar="SCENARIO", help=help)


def add_replications(
    p: argparse.ArgumentParser,
    help: str = "replications (default: the scenario's)",
    default: int | None = None,
) -> None:
    p.add_argument("--replications", type=positive_int, default=default, metavar="N", help=help)


def add_seed(
    p: argparse.ArgumentParser, help: str = "seed of the random numbers (default: the scenario's)"
) -> None:
    p.add_argument("--seed", type=non_negative_int, metavar="S", help=help)


def add_option(
    p: argparse.ArgumentParser,
    help: str = "only this pooling option (default: all)",
    repeatable: bool = False,
) -> None:
    p.add_argument(
        "--option", action="append" if repeatable else "store", metavar="NAME", help=help
    )


def add_out(
    p: argparse.ArgumentParser, help: str, metavar: str = "DIR", required: bool = False
) -> None:
    p.add_argument("--out", metavar=metavar, required=required, help=help)


def add_overwrite(
    p: argparse.ArgumentParser, help: str = "replace a non-empty output directory"
) -> None:
    p.add_argument("--overwrite", action="store_true", help=help)


def add_force(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true", help="run even when the estimate is huge")


def add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_executor_arguments(
    p: argparse.ArgumentParser, what: str = "tasks", serial: bool = False, default: str = ""
) -> None:
    """``--workers`` and ``--dask``: where the ``what`` of a command run; by default on every
    CPU, or with ``serial`` in this process (see :func:`serial_unless_asked`); ``default`` says
    otherwise in the help."""
    default = default or ("1: this process" if serial else "all CPUs; 1 runs in this process")
    p.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help=f"worker processes for the {what} (default {default}; "
        "with --dask local: Dask workers, default 2)",
    )
    p.add_argument(
        "--dask",
        metavar="local|ADDRESS",
        help="run on Dask: 'local' starts a local cluster, or a scheduler address",
    )


PARALLEL_SECONDS = 5.0  # the estimated run time above which compare runs on every CPU


def workers_for_run(args: argparse.Namespace, estimated_seconds: float) -> int | None:
    """``--workers`` of ``compare``: when neither ``--workers`` nor ``--dask`` is given, every
    CPU (``None``) for a run estimated at more than :data:`PARALLEL_SECONDS` in one process,
    else this process (starting worker processes would cost more than they save)."""
    if args.workers is not None or args.dask:
        return args.workers  # type: ignore[no-any-return]
    return None if estimated_seconds > PARALLEL_SECONDS else 1


def serial_unless_asked(args: argparse.Namespace) -> int | None:
    """``--workers`` of ``run`` and ``compare``: this process unless ``--workers`` or
    ``--dask`` ask for more (``None``: the executor's default)."""
    workers: int | None = args.workers
    return workers if workers is not None or args.dask else 1
