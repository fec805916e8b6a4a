"""What the ``fashion`` commands share: their error, argument types, and option groups.

The same option reads the same way in every command (``--model-server`` as pytest takes it,
``--data-dir``/``--synthetic`` alike for demo, train and predict), and a bad value is an argparse
usage error (exit status 2) before anything runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from fashion.clients.arguments import check_base_url, check_grpc_target, check_timeout
from fashion.data import Dataset, load_dataset, load_synthetic
from fashion.export import ExportError, parse_version
from fashion.servers.binary import MODEL_SERVER_CHOICES

__all__ = [
    "CommandError",
    "add_data_options",
    "add_server_options",
    "dataset",
    "grpc_target",
    "positive_int",
    "seconds",
    "server_url",
]


class CommandError(Exception):
    """Raised by a subcommand for a failure the user can act on; printed as one line."""


def positive_int(text: str) -> int:
    """An argument type: a positive integer (a version, a count)."""
    try:
        return parse_version(text)
    except ExportError as exc:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from exc


def _checked_text(check: Callable[[str], object], name: str, doc: str) -> Callable[[str], str]:
    """An argument type that keeps the text once ``check`` accepts it (no TensorFlow needed)."""

    def argument_type(text: str) -> str:
        try:
            check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text

    argument_type.__name__ = argument_type.__qualname__ = name
    argument_type.__doc__ = doc
    return argument_type


server_url = _checked_text(
    check_base_url, "server_url", "An argument type: a REST server's ``http(s)://host:port``."
)
grpc_target = _checked_text(
    check_grpc_target, "grpc_target", "An argument type: a gRPC ``host:port`` or ``unix:/path``."
)


def seconds(text: str) -> float:
    """An argument type: a positive, finite number of seconds."""
    try:
        value = float(text)
        check_timeout(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive number of seconds, got {text!r}"
        ) from None
    return value


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """``--model-server``, ``--container-engine``, ``--docker-pull``: as pytest takes them."""
    parser.add_argument(
        "--model-server", help=f"{MODEL_SERVER_CHOICES}; also $FASHION_MODEL_SERVER"
    )
    parser.add_argument(
        "--container-engine",
        help="docker (default) or podman, for --model-server docker; also "
        "$FASHION_CONTAINER_ENGINE",
    )
    parser.add_argument(
        "--docker-pull", action="store_true", help="pull the server's image if it is missing"
    )


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """``--data-dir`` or ``--synthetic``: where the images come from."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--data-dir", type=Path, help="directory of the four Fashion-MNIST IDX files"
    )
    source.add_argument(
        "--synthetic", action="store_true", help="use the synthetic look-alike data set"
    )


def dataset(args: argparse.Namespace) -> Dataset:
    """The data set the options name; without options, real data if found, else synthetic."""
    if args.synthetic:
        return load_synthetic()
    found = load_dataset(args.data_dir, fallback_to_synthetic=True)
    if found.synthetic:
        print(
            "Fashion-MNIST not found in the Keras cache (pass --data-dir DIR to use the IDX "
            "files); using the SYNTHETIC look-alike data set",
            file=sys.stderr,
        )
    return found
