"""Finding Fashion-MNIST: IDX directories, the Keras cache, and the synthetic stand-in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fashion.data import (
    CLASS_NAMES,
    IDX_FILES,
    DatasetNotFoundError,
    load_dataset,
    load_from_directory,
    load_from_keras_cache,
    load_synthetic,
)
from fashion.idx import IdxFormatError, write_idx


def _write_split(directory: Path, *, gz: bool = True, train: int = 20, test: int = 10) -> tuple:
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    arrays = (
        rng.integers(0, 256, (train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, train, dtype=np.uint8),
        rng.integers(0, 256, (test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, test, dtype=np.uint8),
    )
    for name, array in zip(IDX_FILES, arrays, strict=True):
        write_idx(directory / (name if gz else name.removesuffix(".gz")), array)
    return arrays


def test_class_names_are_the_ten_fashion_mnist_labels_in_order() -> None:
    assert CLASS_NAMES == (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    )  # fmt: skip


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "plain"])
def test_directory_of_idx_files_loads_exactly(tmp_path: Path, gz: bool) -> None:
    arrays = _write_split(tmp_path / "fm", gz=gz)
    dataset = load_from_directory(tmp_path / "fm")
    for loaded, written in zip(
        (dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test), arrays, strict=True
    ):
        np.testing.assert_array_equal(loaded, written)
    assert dataset.source == str(tmp_path / "fm")
    assert not dataset.synthetic


def test_missing_idx_file_names_the_file(tmp_path: Path) -> None:
    _write_split(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"missing t10k-labels-idx1-ubyte\.gz"):
        load_from_directory(tmp_path)


def test_missing_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="no such directory"):
        load_from_directory(tmp_path / "nope")


def test_images_and_labels_of_different_lengths_are_rejected(tmp_path: Path) -> None:
    _write_split(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(19, np.uint8))
    with pytest.raises(IdxFormatError, match="20 images but labels of shape"):
        load_from_directory(tmp_path)


def test_labels_outside_0_to_9_are_rejected(tmp_path: Path) -> None:
    _write_split(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.full(10, 10, np.uint8))
    with pytest.raises(IdxFormatError, match="labels must be 0-9"):
        load_from_directory(tmp_path)


def test_images_that_are_not_28_by_28_are_rejected(tmp_path: Path) -> None:
    _write_split(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((20, 32, 32), np.uint8))
    with pytest.raises(IdxFormatError, match=r"shape \(N, 28, 28\), got \(20, 32, 32\)"):
        load_from_directory(tmp_path)


def test_keras_loader_reads_its_own_cache(tmp_path: Path) -> None:
    # Keras 3 reads $KERAS_HOME, Keras 2 only ~/.keras: point both at the same place.
    keras_home = tmp_path / "home" / ".keras"
    cache = keras_home / "datasets" / "fashion-mnist"
    arrays = _write_split(cache)
    code = (
        "import numpy as np\n"
        "from fashion.data import load_from_keras_cache\n"
        "d = load_from_keras_cache()\n"
        "np.savez('out.npz', x_train=d.x_train, y_test=d.y_test)\n"
        "print(d.source, d.synthetic)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={
            **os.environ,
            "HOME": str(tmp_path / "home"),
            "KERAS_HOME": str(keras_home),
            "TF_CPP_MIN_LOG_LEVEL": "2",
        },
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == f"Keras cache {cache} False"
    loaded = np.load(tmp_path / "out.npz")
    np.testing.assert_array_equal(loaded["x_train"], arrays[0])
    np.testing.assert_array_equal(loaded["y_test"], arrays[3])


def test_empty_keras_cache_fails_at_once_without_downloading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("fashion.data.keras_cache_dir", lambda: tmp_path / "empty-cache")
    with pytest.raises(DatasetNotFoundError, match="not in the Keras cache"):
        load_from_keras_cache()


def test_load_dataset_falls_back_to_synthetic_only_when_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("fashion.data.keras_cache_dir", lambda: tmp_path / "empty-cache")
    with pytest.raises(DatasetNotFoundError):
        load_dataset()
    dataset = load_dataset(fallback_to_synthetic=True)
    assert dataset.synthetic
    assert dataset.source == "synthetic"


def test_load_dataset_prefers_the_given_directory(tmp_path: Path) -> None:
    _write_split(tmp_path)
    assert load_dataset(tmp_path, fallback_to_synthetic=True).source == str(tmp_path)


def test_synthetic_data_has_fashion_mnist_shape_dtype_and_balanced_labels() -> None:
    dataset = load_synthetic(train_count=1000, test_count=200, seed=5)
    assert dataset.x_train.shape == (1000, 28, 28)
    assert dataset.x_test.shape == (200, 28, 28)
    assert dataset.x_train.dtype == np.uint8
    assert dataset.y_train.dtype == np.uint8
    assert np.bincount(dataset.y_train).tolist() == [100] * 10
    assert dataset.num_classes == 10
    assert dataset.x_train.max() > 200
    assert dataset.synthetic


def test_synthetic_data_is_reproducible_from_its_seed() -> None:
    first, second, other = (
        load_synthetic(50, 10, 7),
        load_synthetic(50, 10, 7),
        load_synthetic(50, 10, 8),
    )
    np.testing.assert_array_equal(first.x_train, second.x_train)
    np.testing.assert_array_equal(first.y_test, second.y_test)
    assert not np.array_equal(first.x_train, other.x_train)


def test_synthetic_train_and_test_splits_differ() -> None:
    dataset = load_synthetic(100, 100, 0)
    assert not np.array_equal(dataset.x_train, dataset.x_test)
