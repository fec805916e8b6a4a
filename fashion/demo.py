"""``fashion demo``: the seed notebook's flow end to end, with the checks it never made.

Load Fashion-MNIST (or, said loudly, the synthetic look-alike), train and export version 1, start
the model server (the same launcher the test fixtures use), predict three test images over REST
and the same three over gRPC (the answers must be equal), train and export version 2 while the
server runs, query it without a restart, ask for version 3 and show the error, and stop the
server. Every step prints what it saw; any surprise ends the demo with a non-zero status.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fashion.clients.errors import ServingHTTPError
from fashion.clients.rest import ServingClient
from fashion.data import CLASS_NAMES, Dataset, load_dataset, load_synthetic
from fashion.export import export_version
from fashion.preprocess import scale_images
from fashion.servers.binary import resolve_model_server
from fashion.servers.launcher import ServerProcess, plan_launch
from fashion.servers.waiting import wait_until

__all__ = ["DemoError", "DemoOptions", "run_demo"]

MODEL_NAME = "fashion_model"


class DemoError(RuntimeError):
    """Raised when the server does not behave as the seed's story says it should."""


@dataclass(frozen=True)
class DemoOptions:
    """What ``fashion demo`` was asked to do."""

    data_dir: Path | None = None
    synthetic: bool = False
    epochs: int = 5
    model_dir: Path | None = None
    model_server: str | None = None
    container_engine: str | None = None
    docker_pull: bool = False
    plot: Path | None = None
    quiet: bool = False


def _dataset(options: DemoOptions, say: Callable[[str], None]) -> Dataset:
    if options.synthetic:
        dataset = load_synthetic()
    else:
        dataset = load_dataset(options.data_dir, fallback_to_synthetic=True)
    if dataset.synthetic:
        say("*** Fashion-MNIST not found (Keras cache or --data-dir): using the SYNTHETIC ***")
        say("*** look-alike data set. Predictions below are on synthetic images.        ***")
    else:
        say(f"data: Fashion-MNIST from {dataset.source}")
    say(
        f"train {dataset.x_train.shape}, test {dataset.x_test.shape}, "
        f"classes K = {dataset.num_classes}"
    )
    return dataset


def _train(name: str, dataset: Dataset, options: DemoOptions, say: Callable[[str], None]):
    from fashion.model import build, train

    model = build(name, dataset.num_classes)
    say(f"model {name}: {model.count_params():,} parameters; training {options.epochs} epochs")
    result = train(model, dataset, epochs=options.epochs, verbose=0 if options.quiet else "auto")
    by_epoch = ", ".join(f"{accuracy:.3f}" for accuracy in result.val_accuracy)
    say(f"validation accuracy by epoch: {by_epoch}")
    return model


def _show_predictions(
    label: str, probabilities: np.ndarray, truth: np.ndarray, say: Callable[[str], None]
) -> list[str]:
    predicted = [CLASS_NAMES[index] for index in probabilities.argmax(axis=1)]
    for index, name in enumerate(predicted):
        say(f"  {label} image {index}: true {CLASS_NAMES[int(truth[index])]!r}, predicted {name!r}")
    return predicted


def _plot(
    path: Path, images: np.ndarray, truth: np.ndarray, predicted: list[str], note: str
) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise DemoError("--plot needs matplotlib: pip install 'fashion-serving[plot]'") from exc
    figure, axes = plt.subplots(1, len(images), figsize=(3 * len(images), 3.4))
    for axis, image, true_label, name in zip(axes, images, truth, predicted, strict=True):
        axis.imshow(image, cmap="gray")
        axis.set_title(f"True: {CLASS_NAMES[int(true_label)]}\nPredicted: {name}", fontsize=9)
        axis.axis("off")
    if note:
        figure.suptitle(note)
    figure.tight_layout(rect=(0, 0, 1, 0.9 if note else 1))
    figure.savefig(path)
    plt.close(figure)


def _expect_not_found(client: ServingClient, batch: np.ndarray, version: int, why: str) -> str:
    """Predict on a version that must not answer; return the error as the seed printed it."""
    try:
        client.predict(batch, version=version)
    except ServingHTTPError as exc:
        return f"{exc.status_code} {{'error': {exc.error!r}}}"
    raise DemoError(f"{why}, yet the server answered it")


def _predict_over_grpc(port: int, batch: np.ndarray) -> np.ndarray:
    # Imported here: the gRPC client imports TensorFlow, and the CLI imports this module early.
    from fashion.clients.grpc import GrpcServingClient

    with GrpcServingClient(f"127.0.0.1:{port}", MODEL_NAME) as client:
        answer = client.predict(batch, signature_name="serving_default")
    if not isinstance(answer, np.ndarray):
        raise DemoError(f"gRPC answered several outputs: {sorted(answer)}")
    return answer


def run_demo(options: DemoOptions, say: Callable[[str], None] = print) -> int:
    """Run the demo; returns 0 when every step behaved as TF Serving should.

    Raises:
        DemoError: the server misbehaved (the message says how).
    """
    dataset = _dataset(options, say)
    work = Path(tempfile.mkdtemp(prefix="fashion-demo-"))
    base = (options.model_dir or work / "models") / MODEL_NAME
    try:
        return _run(options, dataset, base, work, say)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(
    options: DemoOptions, dataset: Dataset, base: Path, work: Path, say: Callable[[str], None]
) -> int:
    test_images = dataset.x_test[:3]
    truth = dataset.y_test[:3]
    batch = scale_images(test_images)

    if base.exists():
        say(f"removing the previous run's versions under {base}")
        shutil.rmtree(base)
    say("== 1. train and export version 1 (the seed's CNN)")
    model_v1 = _train("seed-v1", dataset, options, say)
    say(f"exported: {export_version(model_v1, base, 1, overwrite=True)}")

    binary = resolve_model_server(
        options.model_server,
        container_engine=options.container_engine,
        docker_pull=options.docker_pull,
    )
    say(f"== 2. start the model server: {binary.description}")
    launch = plan_launch(binary, model_name=MODEL_NAME, base_path=base)
    rest_port, grpc_port = launch.rest_port, launch.grpc_port
    say("   $ " + " ".join(launch.args))
    with (
        ServerProcess(launch, work / "server.log") as server,
        ServingClient(f"http://127.0.0.1:{rest_port}", MODEL_NAME) as client,
    ):
        client.wait_until_available(1, timeout=120)
        server.check_alive()
        pid = server.pid
        say(f"   server pid {pid}: version 1 AVAILABLE")

        say(f"== 3. POST /v1/models/{MODEL_NAME}:predict with 3 test images")
        served_v1 = client.predict(batch, signature_name="serving_default")
        predicted = _show_predictions("v1", served_v1, truth, say)
        if options.plot:
            note = "SYNTHETIC data, not Fashion-MNIST" if dataset.synthetic else ""
            _plot(options.plot, test_images, truth, predicted, note)
            say(f"   plot saved: {options.plot}")
        in_process = np.asarray(model_v1(batch))
        if not np.allclose(served_v1, in_process, atol=1e-5):
            raise DemoError("served version 1 differs from the model it was exported from")

        say(f"== 4. the same 3 images over gRPC: PredictionService/Predict at port {grpc_port}")
        if not np.array_equal(_predict_over_grpc(grpc_port, batch), served_v1):
            raise DemoError("gRPC answered differently from REST")
        say("   same answer as REST")

        say(f"== 5. the same request to /v1/models/{MODEL_NAME}/versions/1:predict")
        if not np.array_equal(client.predict(batch, version=1), served_v1):
            raise DemoError("/versions/1 answered differently from the default route")
        say("   same answer")

        say("== 6. train and export version 2 (the seed's smaller model) while the server runs")
        model_v2 = _train("seed-v2", dataset, options, say)
        export_version(model_v2, base, 2, overwrite=True)
        client.wait_until_available(2, timeout=120)
        server.check_alive()  # our child since step 2, never restarted: the same process
        say(f"== 7. POST /versions/2:predict, same server process (pid {pid}, still running)")
        served_v2 = client.predict(batch, version=2)
        _show_predictions("v2", served_v2, truth, say)
        if not np.allclose(served_v2, np.asarray(model_v2(batch)), atol=1e-5):
            raise DemoError("served version 2 differs from the model it was exported from")

        say("== 8. POST /versions/3:predict")
        say("   " + _expect_not_found(client, batch, 3, "version 3 does not exist"))

        say("== 9. the default policy (latest 1) unloads version 1 once version 2 serves")
        wait_until(
            lambda: any(e.version == 1 and e.state == "END" for e in client.status()),
            60,
            "version 1 to be unloaded",
        )
        states = ", ".join(f"version {e.version}: {e.state}" for e in client.status())
        say(f"   status: {states}")
        answer = _expect_not_found(client, batch, 1, "version 1 was unloaded")
        say(f"   /versions/1:predict now: {answer}")
    say("== server stopped")
    return 0
