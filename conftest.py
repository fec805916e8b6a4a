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


@pytest.fixture(scope="session")
def synthetic_dataset() -> Dataset:
    """A small synthetic split: enough for the tiny models to learn it."""
    return load_synthetic(train_count=3000, test_count=500, seed=0)


@pytest.fixture(scope="session")
def trained_tiny(synthetic_dataset: Dataset):
    """The ``tiny`` model trained for two epochs; version 1 of the test models."""
    from fashion.model import build, train

    model = build("tiny", synthetic_dataset.num_classes, seed=1)
    result = train(model, synthetic_dataset, epochs=2, batch_size=64, seed=1, verbose=0)
    assert result.final_val_accuracy > 0.9, f"tiny model did not learn: {result}"
    return model


@pytest.fixture(scope="session")
def trained_tiny_v2(synthetic_dataset: Dataset):
    """The ``tiny-v2`` model, architecturally different from ``tiny``; version 2."""
    from fashion.model import build, train

    model = build("tiny-v2", synthetic_dataset.num_classes, seed=2)
    result = train(model, synthetic_dataset, epochs=3, batch_size=64, seed=2, verbose=0)
    assert result.final_val_accuracy > 0.9, f"tiny-v2 model did not learn: {result}"
    return model


@pytest.fixture(scope="session")
def exported_v1(trained_tiny, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``trained_tiny`` exported as version 1 under a session temporary base path."""
    from fashion.export import export_version

    return export_version(trained_tiny, tmp_path_factory.mktemp("exported") / "base", 1)
