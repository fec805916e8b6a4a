"""The ``fashion`` command: train, export, inspect and query models from the shell.

Errors the user can fix (a missing file, a bad version, an unreachable server) end as one line on
stderr and exit status 1; usage errors exit 2 as argparse does. No traceback for either.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fashion.clients.arguments import (
    DEFAULT_TIMEOUT,
    check_base_url,
    check_grpc_target,
    check_timeout,
)
from fashion.clients.errors import ServingError
from fashion.clients.rest import ServingClient
from fashion.data import CLASS_NAMES, Dataset, load_dataset, load_synthetic
from fashion.demo import DemoError
from fashion.export import ExportError, export_version, format_description, inspect, parse_version
from fashion.idx import IdxFormatError
from fashion.model import MODEL_BUILDERS
from fashion.preprocess import PreprocessError, scale_images
from fashion.servers.binary import MODEL_SERVER_CHOICES, ServerStartError

if TYPE_CHECKING:
    from fashion.clients.grpc import GrpcServingClient

__all__ = ["build_parser", "main"]

#: Where ``--grpc`` without a value sends: TF Serving's default ``--port`` on this machine.
DEFAULT_GRPC_TARGET = "127.0.0.1:8500"


class CommandError(Exception):
    """Raised by a subcommand for a failure the user can act on; printed as one line."""


def _positive_int(text: str) -> int:
    try:
        return parse_version(text)
    except ExportError as exc:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from exc


def _server_url(text: str) -> str:
    try:
        check_base_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _grpc_target(text: str) -> str:
    try:
        check_grpc_target(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
        check_timeout(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive number of seconds, got {text!r}"
        ) from None
    return seconds


def _add_server_options(parser: argparse.ArgumentParser) -> None:
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


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--data-dir", type=Path, help="directory of the four Fashion-MNIST IDX files"
    )
    source.add_argument(
        "--synthetic", action="store_true", help="use the synthetic look-alike data set"
    )


def _dataset(args: argparse.Namespace) -> Dataset:
    """The data set the options name; without options, real data if found, else synthetic."""
    if args.synthetic:
        return load_synthetic()
    dataset = load_dataset(args.data_dir, fallback_to_synthetic=True)
    if dataset.synthetic:
        print(
            "Fashion-MNIST not found in the Keras cache (pass --data-dir DIR to use the IDX "
            "files); using the SYNTHETIC look-alike data set",
            file=sys.stderr,
        )
    return dataset


def _cmd_train(args: argparse.Namespace) -> int:
    from fashion.model import build, train

    dataset = _dataset(args)
    print(
        f"data: {dataset.source}" + (" (SYNTHETIC, not Fashion-MNIST)" if dataset.synthetic else "")
    )
    model = build(args.model, dataset.num_classes, seed=args.seed)
    result = train(
        model,
        dataset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        verbose=0 if args.quiet else "auto",
    )
    print(f"validation accuracy: {result.final_val_accuracy:.4f}")
    if args.output:
        model.save(args.output)
        print(f"saved Keras model: {args.output}")
    if args.export_base:
        path = export_version(model, args.export_base, args.version, overwrite=args.overwrite)
        print(f"exported version {args.version}: {path}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    if not args.model_file.is_file():
        raise CommandError(f"{args.model_file}: no such file")
    import keras

    try:
        model = keras.models.load_model(args.model_file)
    # Keras reports a damaged or foreign file with whatever its format readers raise.
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CommandError(
            f"{args.model_file}: not a Keras model file Keras can load "
            f"({type(exc).__name__}{': ' + reason[:200] if reason else ''})"
        ) from exc
    path = export_version(model, args.base_path, args.version, overwrite=args.overwrite)
    print(f"exported version {args.version}: {path}")
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    print(format_description(inspect(args.path, args.tag_set), args.tag_set))
    return 0


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
    from fashion.servers.launcher import ServerProcess, free_port, plan_launch

    binary = resolve_model_server(
        args.model_server, container_engine=args.container_engine, docker_pull=args.docker_pull
    )
    rest_port, grpc_port = free_port(), free_port()
    launch = plan_launch(
        binary,
        rest_port=rest_port,
        grpc_port=grpc_port,
        model_name=args.model_name,
        base_path=args.serve,
    )
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


def _cmd_predict(args: argparse.Namespace) -> int:
    dataset = _dataset(args)
    images = dataset.x_test[: args.count]
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
    note = " (synthetic data)" if dataset.synthetic else ""
    for index, row in enumerate(probabilities):
        true_name = CLASS_NAMES[int(dataset.y_test[index])]
        predicted = CLASS_NAMES[int(row.argmax())]
        print(
            f"image {index}{note}: true {true_name!r}, predicted {predicted!r} (p={row.max():.3f})"
        )
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from fashion.quiet_tensorflow import import_tensorflow_quietly

    import_tensorflow_quietly()
    from fashion.demo import DemoOptions, run_demo

    return run_demo(
        DemoOptions(
            data_dir=args.data_dir,
            synthetic=args.synthetic,
            epochs=args.epochs,
            model_dir=args.model_dir,
            model_server=args.model_server,
            container_engine=args.container_engine,
            docker_pull=args.docker_pull,
            plot=args.plot,
            quiet=args.quiet,
        )
    )


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


def _cmd_check(args: argparse.Namespace) -> int:
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
    )
    report = run_check(args.path, options, progress=_say_progress)
    print(report.table())
    if args.json:
        args.json.write_text(report.to_json())
    if args.junit_xml:
        args.junit_xml.write_text(report.to_junit_xml())
    return report.exit_code


def _add_check_parser(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser(
        "check",
        help="check that a SavedModel serves what it computes",
        description=(
            "Check a model base path (integer version directories) or one SavedModel directory: "
            "its layout, that the model server loads every version, that its metadata and its "
            "answers to requests built from each signature equal the SavedModel's own (run "
            "in-process with TF Serving's loader), and the known traps. Exit status 0 when "
            "nothing FAILed, 1 otherwise."
        ),
    )
    check.add_argument("path", type=Path, help="a model base path or a SavedModel directory")
    _add_server_options(check)
    check.add_argument("--model-name", help="serve it under this name (default: the directory's)")
    check.add_argument(
        "--batch-size", type=_positive_int, default=4, metavar="N",
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
        "--repeat", type=_positive_int, default=3, metavar="N",
        help="send each built request N times, for the p50 column (default 3)",
    )  # fmt: skip
    check.add_argument("--seed", type=int, default=0, help="seeds the inputs' values (default 0)")
    check.add_argument(
        "--timeout", type=_seconds, default=120.0, metavar="SECONDS",
        help="wait this long for the versions to be AVAILABLE (default 120)",
    )  # fmt: skip
    check.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON")
    check.add_argument(
        "--junit-xml", type=Path, metavar="FILE", help="also write the report as JUnit XML"
    )
    check.add_argument(
        "--work-dir", type=Path, metavar="DIR",
        help="keep the server's log and staged base path here (default: removed)",
    )  # fmt: skip
    check.set_defaults(handler=_cmd_check)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, separate from :func:`main` so tests and docs can inspect it."""
    parser = argparse.ArgumentParser(
        prog="fashion", description="Fashion-MNIST through the TensorFlow 2 serving path."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="the seed's flow end to end against a model server")
    _add_data_options(demo)
    demo.add_argument("--epochs", type=_positive_int, default=5, help="per version (default 5)")
    demo.add_argument("--model-dir", type=Path, help="keep the exported versions here")
    _add_server_options(demo)
    demo.add_argument("--plot", type=Path, help="save the seed's picture of the 3 predictions")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(handler=_cmd_demo)

    train = commands.add_parser("train", help="train a model, optionally save and export it")
    _add_data_options(train)
    train.add_argument(
        "--model", choices=sorted(MODEL_BUILDERS), default="seed-v1", help="default seed-v1"
    )
    train.add_argument("--epochs", type=_positive_int, default=5, help="default 5")
    train.add_argument("--batch-size", type=_positive_int, default=64, help="default 64")
    train.add_argument("--seed", type=int, default=0, help="weights and shuffling (default 0)")
    train.add_argument("--output", type=Path, help="save the Keras model here (.keras)")
    train.add_argument(
        "--export-base", type=Path, help="export a SavedModel version under this base path"
    )
    train.add_argument(
        "--version", type=_positive_int, default=1, help="version to export (default 1)"
    )
    train.add_argument("--overwrite", action="store_true", help="replace an existing version")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(handler=_cmd_train)

    export = commands.add_parser("export", help="export a saved Keras model as a version")
    export.add_argument(
        "model_file", type=Path, help="a .keras file written by 'fashion train --output'"
    )
    export.add_argument("base_path", type=Path, help="the model's base path")
    export.add_argument("version", type=_positive_int, help="a positive integer")
    export.add_argument("--overwrite", action="store_true", help="replace an existing version")
    export.set_defaults(handler=_cmd_export)

    show = commands.add_parser(
        "inspect", help="show a SavedModel's signatures like saved_model_cli"
    )
    show.add_argument("path", type=Path, help="a SavedModel (version) directory")
    show.add_argument(
        "--tag-set", default="serve", help="the MetaGraph's tags, comma-separated (default serve)"
    )
    show.set_defaults(handler=_cmd_inspect)

    predict = commands.add_parser("predict", help="ask a running server about test images")
    _add_data_options(predict)
    transport = predict.add_mutually_exclusive_group()
    transport.add_argument(
        "--url", type=_server_url, default="http://127.0.0.1:8501", help="the server's REST API"
    )
    transport.add_argument(
        "--grpc",
        nargs="?",
        const=DEFAULT_GRPC_TARGET,
        type=_grpc_target,
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
    _add_server_options(predict)
    predict.add_argument("--model-name", default="fashion_model", help="the served model")
    pinned = predict.add_mutually_exclusive_group()
    pinned.add_argument("--version", type=_positive_int, help="ask this version (default: latest)")
    pinned.add_argument("--label", help="ask the version with this label")
    predict.add_argument("--signature-name", help="default: serving_default")
    predict.add_argument(
        "--count", type=_positive_int, default=3, help="how many test images (default 3)"
    )
    predict.add_argument(
        "--timeout", type=_seconds, default=DEFAULT_TIMEOUT, help="seconds for each request"
    )
    predict.set_defaults(handler=_cmd_predict)

    _add_check_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``fashion`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (
        DemoError,
        ServerStartError,
        CommandError,
        ExportError,
        IdxFormatError,
        PreprocessError,
        ServingError,
        OSError,
        ValueError,
    ) as exc:
        print(f"fashion {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"fashion {args.command}: interrupted", file=sys.stderr)
        return 130
