"""Session fixtures shared by the whole suite: data, trained tiny models, exported versions.

Training happens once per session on the synthetic data set (seconds), and the tests that need a
model share it. Exports go into temporary directories; nothing touches the network.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Quiet TensorFlow's C++ start-up chatter in test output; errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fashion.data import Dataset, load_synthetic
from fashion.launcher import (
    MODEL_SERVER_ENV,
    ModelServerBinary,
    ServerStartError,
    resolve_model_server,
)
from fashion.serving.startup.tf_env import use_eigen_kernels
from tests.support import MODEL_NAME

_BINARY_KEY = pytest.StashKey["ModelServerBinary | ServerStartError"]()


def pytest_configure(config: pytest.Config) -> None:
    """In-process stand-in tests feed values of any shape, as the server does, so TensorFlow must
    run the kernels the stand-in (and TF Serving's release build) runs; set before TF's import."""
    use_eigen_kernels()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--model-server",
        default=None,
        help=(
            "which model server the serving tests run: 'auto' (default: tensorflow_model_server "
            "if on PATH, else the stand-in), 'stand-in', or a path to a binary taking "
            f"tensorflow_model_server's flags. Also ${MODEL_SERVER_ENV}."
        ),
    )


def _binary(config: pytest.Config) -> ModelServerBinary:
    if _BINARY_KEY not in config.stash:
        try:
            config.stash[_BINARY_KEY] = resolve_model_server(config.getoption("--model-server"))
        except ServerStartError as exc:
            config.stash[_BINARY_KEY] = exc
    found = config.stash[_BINARY_KEY]
    if isinstance(found, ServerStartError):
        raise found
    return found


def pytest_report_header(config: pytest.Config) -> list[str]:
    try:
        return [f"model server: {_binary(config).description}"]
    except ServerStartError as exc:
        return [f"model server: UNUSABLE: {exc}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked real_server_only are expected to fail (never skipped) on the stand-in."""
    if not any(item.get_closest_marker("real_server_only") for item in items):
        return
    try:
        kind = _binary(config).kind
    except ServerStartError:
        return
    if kind == "real":
        return
    for item in items:
        if item.get_closest_marker("real_server_only"):
            item.add_marker(
                pytest.mark.xfail(
                    reason="only the real tensorflow_model_server can satisfy this test",
                    strict=True,
                    run=True,
                )
            )


@pytest.fixture(scope="session")
def model_server_binary(pytestconfig: pytest.Config) -> ModelServerBinary:
    """The server the serving tests run against (see ``--model-server``)."""
    return _binary(pytestconfig)


@pytest.fixture(scope="session")
def synthetic_dataset() -> Dataset:
    """A small synthetic split: enough for the tiny models to learn it."""
    return load_synthetic(train_count=3000, test_count=500, seed=0)


def _trained(name: str, dataset: Dataset, *, epochs: int, seed: int):
    from fashion.model import build, train

    model = build(name, dataset.num_classes, seed=seed)
    result = train(model, dataset, epochs=epochs, batch_size=64, seed=seed, verbose=0)
    assert result.final_val_accuracy > 0.9, f"{name} model did not learn: {result}"
    return model


@pytest.fixture(scope="session")
def trained_tiny(synthetic_dataset: Dataset):
    """The ``tiny`` model trained for two epochs; version 1 of the test models."""
    return _trained("tiny", synthetic_dataset, epochs=2, seed=1)


@pytest.fixture(scope="session")
def trained_tiny_v2(synthetic_dataset: Dataset):
    """The ``tiny-v2`` model, architecturally different from ``tiny``; version 2."""
    return _trained("tiny-v2", synthetic_dataset, epochs=3, seed=2)


@pytest.fixture(scope="session")
def exported_v1(trained_tiny, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``trained_tiny`` exported as version 1 under a session temporary base path."""
    from fashion.export import export_version

    return export_version(trained_tiny, tmp_path_factory.mktemp("exported") / "base", 1)


@pytest.fixture(scope="session")
def fashion_server(
    xprocess,
    model_server_binary: ModelServerBinary,
    trained_tiny,
    tmp_path_factory: pytest.TempPathFactory,
):
    """A server for ``fashion_model`` with version 1 only, shared by read-only tests.

    Tests that change what is on disk use their own server (see tests/suite/test_versions.py).
    """
    from fashion.export import export_version
    from fashion.harness import running_model_server

    base = tmp_path_factory.mktemp("served") / MODEL_NAME
    export_version(trained_tiny, base, 1)
    with running_model_server(
        xprocess, model_server_binary, "fashion-server", model_name=MODEL_NAME, base_path=base
    ) as server:
        yield server


@pytest.fixture
def fashion_client(fashion_server):
    """A client for the shared server; fails at once, with the log, if the server died."""
    fashion_server.assert_alive()
    with fashion_server.client(MODEL_NAME) as client:
        yield client
