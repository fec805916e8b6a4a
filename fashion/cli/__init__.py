"""The ``fashion`` command: train, export, inspect and query models from the shell.

Errors the user can fix (a missing file, a bad version, an unreachable server) end as one line on
stderr and exit status 1; usage errors exit 2 as argparse does. No traceback for either.

One module per command or group of commands, each adding its own subparser:
:mod:`~fashion.cli.demo`, :mod:`~fashion.cli.models` (train, export, inspect),
:mod:`~fashion.cli.predict` and :mod:`~fashion.cli.check`; :mod:`~fashion.cli.options` holds
what they share.
"""

from __future__ import annotations

import argparse
import sys

from fashion.cli import check, demo, models, predict
from fashion.cli.options import CommandError
from fashion.clients.errors import ServingError
from fashion.demo import DemoError
from fashion.export import ExportError
from fashion.idx import IdxFormatError
from fashion.preprocess import PreprocessError
from fashion.servers.binary import ServerStartError

__all__ = ["build_parser", "main"]

#: What a command may raise for the user to act on: printed as one line, exit status 1.
_USER_ERRORS = (
    DemoError,
    ServerStartError,
    CommandError,
    ExportError,
    IdxFormatError,
    PreprocessError,
    ServingError,
    OSError,
    ValueError,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, separate from :func:`main` so tests and docs can inspect it."""
    parser = argparse.ArgumentParser(
        prog="fashion", description="Fashion-MNIST through the TensorFlow 2 serving path."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo.add_parser(commands)
    models.add_parsers(commands)
    predict.add_parser(commands)
    check.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``fashion`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except _USER_ERRORS as exc:
        print(f"fashion {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"fashion {args.command}: interrupted", file=sys.stderr)
        return 130
