"""What this project's own suite needs beyond the fashion pytest plugin: its data and models.

The plugin (``fashion.testing.plugin``, installed with the package) brings ``--model-server``,
the report header, ``model_server_binary``, ``serve_model`` and the ``real_server_only`` rule;
this file keeps only what is fashion-specific: a synthetic data set, the tiny models trained on
it once per session, their exports, and the shared ``fashion_model`` server. Nothing touches the
network.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Quiet TensorFlow's C++ start-up chatter in test output; errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fashion.data import Dataset, load_synthetic
from fashion.servers import ModelServerBinary
from fashion.serving.startup.tf_env import use_eigen_kernels
from tests.support import MODEL_NAME

# Files that share a session server run on one xdist worker, so the server starts once.
pytest_plugins = ["tests.support.xdist_groups"]


def pytest_configure(config: pytest.Config) -> None:
    """In-process stand-in tests feed values of any shape, as the server does, so TensorFlow must
    run the kernels the stand-in (and TF Serving's release build) runs; set before TF's import."""
    use_eigen_kernels()


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
    from fashion.testing.served import running_model_server

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
