"""``fashion predict``: ask a model server about test images, over REST or gRPC.

The server is a running one (``--url``, ``--grpc``) or, with ``--serve BASE_PATH``, one started
for the request with the chosen ``--model-server`` and stopped after it. The gRPC client (and so
TensorFlow) is imported only with ``--grpc``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fashion.cli.options import (
    CommandError,
    add_data_options,
    add_server_options,
    dataset,
    grpc_target,
    positive_int,
    seconds,
    server_url,
)
from fashion.clients.arguments import DEFAULT_TIMEOUT
from fashion.clients.errors import ServingError
from fashion.clients.rest import ServingClient
from fashion.data import CLASS_NAMES
from fashion.preprocess import scale_images

if TYPE_CHECKING:
    from fashion.clients.grpc import GrpcServingClient

__all__ = ["DEFAULT_GRPC_TARGET", "add_parser"]

#: Where ``--grpc`` without a value sends: TF Serving's default ``--port`` on this machine.
DEFAULT_GRPC_TARGET = "127.0.0.1:8500"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """``predict`` and its options."""
    predict = commands.add_parser("predict", help="ask a running server about test images")
    add_data_options(predict)
    transport = predict.add_mutually_exclusive_group()
    transport.add_argument(
        "--url", type=server_url, default="http://127.0.0.1:8501", help="the server's REST API"
    )
    transport.add_argument(
        "--grpc",
        nargs="?",
        const=DEFAULT_GRPC_TARGET,
        type=grpc_target,
        metavar="HOST:PORT|unix:PATH",
        help="ask over gRPC (PredictionService/Predict) instead of REST; "
        f"without a target, {DEFAULT_GRPC_TARGET}",
    )
    predict.add_argument(
        "--serve",
        type=Path,
        metavar="BASE_PATH",
        help="start a model server on this base path for the request, and stop it after "
        "(instead of asking a running one at --url/--grpc)",
    )
    add_server_options(predict)
    predict.add_argument("--model-name", default="fashion_model", help="the served model")
    pinned = predict.add_mutually_exclusive_group()
    pinned.add_argument("--version", type=positive_int, help="ask this version (default: latest)")
    pinned.add_argument("--label", help="ask the version with this label")
    predict.add_argument("--signature-name", help="default: serving_default")
    predict.add_argument(
        "--count", type=positive_int, default=3, help="how many test images (default 3)"
    )
    predict.add_argument(
        "--timeout", type=seconds, default=DEFAULT_TIMEOUT, help="seconds for each request"
    )
    predict.set_defaults(handler=_predict)


def _client(args: argparse.Namespace) -> ServingClient | GrpcServingClient:
    """The REST client, or with ``--grpc`` the gRPC one: same calls, same errors."""
    if args.grpc is None:
        return ServingClient(args.url, args.model_name, timeout=args.timeout)
    from fashion.quiet_tensorflow import import_tensorflow_quietly

    import_tensorflow_quietly()
    from fashion.clients.grpc import GrpcServingClient

    return GrpcServingClient(args.grpc, args.model_name, timeout=args.timeout)


@contextmanager
def _served(args: argparse.Namespace) -> Iterator[None]:
    """With ``--serve``: the chosen server on that base path, ``--url``/``--grpc`` pointed at it."""
    if args.serve is None:
        yield
        return
    import tempfile

    from fashion.servers.binary import resolve_model_server
    from fashion.servers.launcher import ServerProcess, plan_launch

    binary = resolve_model_server(
        args.model_server, container_engine=args.container_engine, docker_pull=args.docker_pull
    )
    launch = plan_launch(binary, model_name=args.model_name, base_path=args.serve)
    rest_port, grpc_port = launch.rest_port, launch.grpc_port
    print(f"serving {args.serve} as {args.model_name}: {binary.description}", file=sys.stderr)
    with (
        tempfile.TemporaryDirectory(prefix="fashion-predict-") as work,
        ServerProcess(launch, Path(work) / "server.log") as server,
    ):
        args.url = f"http://127.0.0.1:{rest_port}"
        if args.grpc is not None:
            args.grpc = f"127.0.0.1:{grpc_port}"
        with ServingClient(args.url, args.model_name, timeout=args.timeout) as client:
            try:
                client.wait_until_available(args.version, timeout=120)
            except ServingError:
                server.check_alive()  # a server that died says so, with its log
                raise
        yield


def _predict(args: argparse.Namespace) -> int:
    data = dataset(args)
    images = data.x_test[: args.count]
    with _served(args), _client(args) as client:
        probabilities = client.predict(
            scale_images(images),
            version=args.version,
            label=args.label,
            signature_name=args.signature_name,
        )
    if not hasattr(probabilities, "argmax"):
        raise CommandError(f"model {args.model_name} has several outputs; expected one")
    expected_shape = (len(images), len(CLASS_NAMES))
    if probabilities.dtype.kind != "f" or probabilities.shape != expected_shape:
        raise CommandError(
            f"model {args.model_name} answered {probabilities.dtype} values of shape "
            f"{probabilities.shape}; expected float class probabilities of shape {expected_shape}"
        )
    note = " (synthetic data)" if data.synthetic else ""
    for index, row in enumerate(probabilities):
        true_name = CLASS_NAMES[int(data.y_test[index])]
        predicted = CLASS_NAMES[int(row.argmax())]
        print(
            f"image {index}{note}: true {true_name!r}, predicted {predicted!r} (p={row.max():.3f})"
        )
    return 0
