"""``fashion check``: does a SavedModel serve, and serve what it computes? From the shell.

The checks are :mod:`fashion.check`; this module is their command line: the table on stdout,
progress on stderr, ``--json``/``--junit-xml`` reports, exit status 0 when nothing FAILed.
:mod:`fashion.check` is imported inside the calls, so ``fashion --help`` does not load it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fashion.cli.options import add_server_options, positive_int, seconds

__all__ = ["add_parser"]


def add_parser(commands: argparse._SubParsersAction) -> None:
    """``check`` and its options."""
    check = commands.add_parser(
        "check",
        help="check that a SavedModel serves what it computes",
        description=(
            "Check a model base path (integer version directories) or one SavedModel directory: "
            "its layout, that the model server loads every version, that its metadata and its "
            "answers to requests built from each signature, over REST and gRPC, equal the "
            "SavedModel's own (run in-process with TF Serving's loader), and the known traps. "
            "Exit status 0 when nothing FAILed, 1 otherwise."
        ),
    )
    check.add_argument("path", type=Path, help="a model base path or a SavedModel directory")
    add_server_options(check)
    check.add_argument("--model-name", help="serve it under this name (default: the directory's)")
    check.add_argument(
        "--batch-size", type=positive_int, default=4, metavar="N",
        help="requests are built for batch sizes 1 and N (default 4)",
    )  # fmt: skip
    check.add_argument(
        "--dim", type=_dim, action="append", default=[], metavar="NAME=SIZE",
        help="size of the unknown (-1) dimensions after the first of input NAME "
        "(NAME:AXIS=SIZE for one axis); default: the batch size. Repeatable",
    )  # fmt: skip
    check.add_argument(
        "--rtol", type=_tolerance, default=1e-6, help="relative tolerance (default 1e-6)"
    )
    check.add_argument(
        "--atol", type=_tolerance, default=0.0, help="absolute tolerance (default 0)"
    )
    check.add_argument(
        "--requests", type=Path, metavar="FILE",
        help="golden cases: JSON lines of TF Serving request bodies, each with optional "
        "'expected', 'rtol', 'atol', 'version' and 'api'",
    )  # fmt: skip
    check.add_argument(
        "--new-version", type=Path, metavar="DIR",
        help="afterwards, hot-load this SavedModel as the next version and check it too",
    )  # fmt: skip
    check.add_argument(
        "--repeat", type=positive_int, default=3, metavar="N",
        help="send each built request N times, for the p50 column (default 3)",
    )  # fmt: skip
    check.add_argument(
        "--transport", choices=("rest", "grpc", "both"), default="both",
        help="ask the server over REST, gRPC (its --port) or both (default both: every TF "
        "Serving serves both, and most production clients use gRPC)",
    )  # fmt: skip
    check.add_argument("--seed", type=int, default=0, help="seeds the inputs' values (default 0)")
    check.add_argument(
        "--timeout", type=seconds, default=120.0, metavar="SECONDS",
        help="wait this long for the versions to be AVAILABLE (default 120)",
    )  # fmt: skip
    check.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON")
    check.add_argument(
        "--junit-xml", type=Path, metavar="FILE", help="also write the report as JUnit XML"
    )
    check.add_argument(
        "--server-flag", action="append", default=[], metavar="--FLAG[=VALUE]",
        help="one more tensorflow_model_server flag for the server the check starts, as "
        "production runs it; write it with '=': --server-flag=--enable_batching. Repeatable. "
        "--saved_model_tags is honoured in-process too",
    )  # fmt: skip
    check.add_argument(
        "--work-dir", type=Path, metavar="DIR",
        help="keep the server's log and staged base path here (default: removed)",
    )  # fmt: skip
    check.set_defaults(handler=_check)


def _dim(text: str) -> object:
    from fashion.check import CheckInputError, parse_dim

    try:
        return parse_dim(text)
    except CheckInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}")
    return value


def _say_progress(line: str) -> None:
    print(f"fashion check: {line}", file=sys.stderr, flush=True)


def _check(args: argparse.Namespace) -> int:
    import logging

    from fashion.check import CheckOptions, run_check

    # The session loader's "load (from tensorflow.python.saved_model.loader_impl) is deprecated"
    # notice, through TensorFlow's Python logger: TF Serving uses that loader on purpose.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    options = CheckOptions(
        model_server=args.model_server,
        container_engine=args.container_engine,
        docker_pull=args.docker_pull,
        model_name=args.model_name,
        batch_size=args.batch_size,
        dims=tuple(args.dim),
        rtol=args.rtol,
        atol=args.atol,
        requests=args.requests,
        new_version=args.new_version,
        repeat=args.repeat,
        seed=args.seed,
        ready_timeout=args.timeout,
        work_dir=args.work_dir,
        transport=args.transport,
        server_flags=tuple(args.server_flag),
    )
    report = run_check(args.path, options, progress=_say_progress)
    print(report.table())
    if args.json:
        args.json.write_text(report.to_json())
    if args.junit_xml:
        args.junit_xml.write_text(report.to_junit_xml())
    return report.exit_code
