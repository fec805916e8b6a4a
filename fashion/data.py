"""Fashion-MNIST: the class names, the real loaders and the synthetic stand-in.

Where the data comes from is always said: ``Dataset.source`` names the directory, the Keras cache
or "synthetic", because a demo that predicts synthetic images must not pass for one on the real
data set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fashion.idx import IdxFormatError, read_idx
from fashion.synthetic import make_synthetic_split

__all__ = [
    "CLASS_NAMES",
    "IDX_FILES",
    "Dataset",
    "DatasetNotFoundError",
    "keras_cache_dir",
    "load_dataset",
    "load_from_directory",
    "load_from_keras_cache",
    "load_synthetic",
]

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: The four files of the standard distribution, in the order train images, train labels, test
#: images, test labels. Each may also be stored without its ``.gz``.
IDX_FILES: tuple[str, ...] = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


class DatasetNotFoundError(FileNotFoundError):
    """Raised when the real data set is not where it was looked for (and nothing may download)."""


@dataclass(frozen=True)
class Dataset:
    """A train/test split of uint8 28x28 images with labels 0-9, and where it came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    synthetic: bool

    @property
    def num_classes(self) -> int:
        """Number of classes, counted as the seed counts them: ``len(set(y_train))``."""
        return len(set(self.y_train.tolist()))


def _check_split(images: np.ndarray, labels: np.ndarray, where: str) -> None:
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise IdxFormatError(f"{where}: images must have shape (N, 28, 28), got {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise IdxFormatError(
            f"{where}: {images.shape[0]} images but labels of shape {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= len(CLASS_NAMES)):
        raise IdxFormatError(
            f"{where}: labels must be 0-9, got {int(labels.min())}..{int(labels.max())}"
        )


def _find_idx_file(directory: Path, name: str) -> Path:
    for candidate in (directory / name, directory / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    raise DatasetNotFoundError(
        f"{directory}: missing {name} (or {name.removesuffix('.gz')}); a Fashion-MNIST directory "
        f"holds {', '.join(IDX_FILES)}"
    )


def load_from_directory(directory: str | Path) -> Dataset:
    """Load Fashion-MNIST from a directory of the four IDX files, gzipped or not.

    Raises:
        DatasetNotFoundError: the directory or one of the files is missing.
        IdxFormatError: a file is not a valid IDX file, or the files do not fit together.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetNotFoundError(f"{directory}: no such directory")
    paths = [_find_idx_file(directory, name) for name in IDX_FILES]
    x_train, y_train, x_test, y_test = (read_idx(path) for path in paths)
    _check_split(x_train, y_train, f"{paths[0]} + {paths[1]}")
    _check_split(x_test, y_test, f"{paths[2]} + {paths[3]}")
    return Dataset(
        x_train.astype(np.uint8, copy=False),
        y_train.astype(np.uint8, copy=False),
        x_test.astype(np.uint8, copy=False),
        y_test.astype(np.uint8, copy=False),
        source=str(directory),
        synthetic=False,
    )


def keras_cache_dir() -> Path:
    """Where Keras' own loader keeps Fashion-MNIST, decided the way that Keras decides it.

    Keras 3 fixes its home when first imported (``$KERAS_HOME``, else ``~/.keras``); Keras 2's
    loader ignores ``$KERAS_HOME`` and uses ``~/.keras``. Both fall back to ``/tmp/.keras`` when
    that is not writable.
    """
    try:
        from keras.src.backend.config import keras_home
    except ImportError:  # Keras 2
        home = os.path.join(os.path.expanduser("~"), ".keras")
    else:
        home = keras_home()
    if not os.access(os.path.expanduser(home), os.W_OK):
        home = os.path.join("/tmp", ".keras")
    return Path(os.path.expanduser(home)) / "datasets" / "fashion-mnist"


def load_from_keras_cache(*, allow_download: bool = False) -> Dataset:
    """Load Fashion-MNIST through Keras' own loader, reading its cache.

    Keras downloads missing files; that is refused unless ``allow_download`` is set, so that tests
    and offline machines fail at once with a clear message instead of hanging on the network.

    Raises:
        DatasetNotFoundError: the cache lacks a file and downloading is not allowed.
    """
    cache = keras_cache_dir()
    missing = [name for name in IDX_FILES if not (cache / name).is_file()]
    if missing and not allow_download:
        raise DatasetNotFoundError(
            f"Fashion-MNIST is not in the Keras cache {cache} (missing {', '.join(missing)})"
        )
    import keras  # Keras only here: the server and client never need it.

    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    _check_split(x_train, y_train, f"{cache} (train)")
    _check_split(x_test, y_test, f"{cache} (test)")
    return Dataset(x_train, y_train, x_test, y_test, source=f"Keras cache {cache}", synthetic=False)


def load_synthetic(train_count: int = 6000, test_count: int = 1000, seed: int = 0) -> Dataset:
    """The synthetic Fashion-MNIST look-alike (see :mod:`fashion.synthetic`)."""
    x_train, y_train = make_synthetic_split(train_count, seed)
    x_test, y_test = make_synthetic_split(test_count, seed + 1)
    return Dataset(x_train, y_train, x_test, y_test, source="synthetic", synthetic=True)


def load_dataset(
    data_dir: str | Path | None = None, *, fallback_to_synthetic: bool = False
) -> Dataset:
    """Find Fashion-MNIST: the given directory, else the Keras cache, else (if allowed) synthetic.

    Args:
        data_dir: a directory of IDX files; when given it must hold the data set.
        fallback_to_synthetic: when no real data is found, return the synthetic set instead of
            raising. Callers that show results must then say so (``Dataset.synthetic``).

    Raises:
        DatasetNotFoundError: no real data was found and no fallback was allowed.
    """
    if data_dir is not None:
        return load_from_directory(data_dir)
    try:
        return load_from_keras_cache()
    except DatasetNotFoundError:
        if not fallback_to_synthetic:
            raise
    return load_synthetic()
