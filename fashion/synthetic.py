"""A synthetic, Fashion-MNIST-shaped dataset that a tiny CNN learns in seconds.

Tests and offline demos need images whose true labels a served model can be *asserted* to predict.
Real Fashion-MNIST cannot be downloaded at test time, so each class here is a crude silhouette of
its garment (trousers have two legs, bags a handle), shifted, scaled in brightness and noised per
sample. The data is uint8 28x28 with labels 0-9, exactly like the real loader's output, and it is
labelled synthetic wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["IMAGE_SIZE", "class_silhouettes", "make_synthetic_split"]

IMAGE_SIZE = 28

_Mask = np.ndarray


def _grid() -> tuple[np.ndarray, np.ndarray]:
    return np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE]


def _box(top: int, left: int, bottom: int, right: int) -> _Mask:
    rows, cols = _grid()
    return (rows >= top) & (rows < bottom) & (cols >= left) & (cols < right)


def _ellipse(row: float, col: float, radius_rows: float, radius_cols: float) -> _Mask:
    rows, cols = _grid()
    return ((rows - row) / radius_rows) ** 2 + ((cols - col) / radius_cols) ** 2 <= 1.0


def _tshirt() -> _Mask:
    return _box(6, 8, 24, 20) | _box(6, 3, 12, 25)


def _trouser() -> _Mask:
    return _box(3, 8, 25, 13) | _box(3, 15, 25, 20) | _box(3, 8, 7, 20)


def _pullover() -> _Mask:
    return _box(5, 8, 24, 20) | _box(5, 3, 22, 7) | _box(5, 21, 22, 25) | _box(5, 3, 8, 25)


def _dress() -> _Mask:
    rows, cols = _grid()
    half_width = 2 + (rows - 3) * 0.45
    return (rows >= 3) & (rows < 26) & (np.abs(cols - 13.5) <= half_width)


def _coat() -> _Mask:
    body = _box(3, 6, 26, 22) | _box(3, 2, 25, 6) | _box(3, 22, 25, 26)
    return body & ~_box(3, 13, 26, 15)


def _sandal() -> _Mask:
    straps = _box(14, 4, 16, 24) | _box(18, 4, 20, 24) | _box(22, 2, 24, 26)
    return straps | (_box(14, 4, 24, 6) & ~_box(16, 4, 18, 6))


def _shirt() -> _Mask:
    body = _box(7, 7, 25, 21) | _box(7, 3, 18, 7) | _box(7, 21, 18, 25) | _box(4, 11, 7, 17)
    buttons = np.zeros_like(body)
    buttons[9:24:3, 13:15] = True
    return body & ~buttons


def _sneaker() -> _Mask:
    return _box(17, 2, 24, 26) | _ellipse(16, 9, 4, 7)


def _bag() -> _Mask:
    handle = _ellipse(9, 14, 6, 7) & ~_ellipse(9, 14, 4, 5)
    return _box(11, 4, 25, 24) | (handle & _box(0, 0, 11, IMAGE_SIZE))


def _ankle_boot() -> _Mask:
    return _box(5, 10, 24, 18) | _box(17, 4, 24, 25) | _box(23, 4, 26, 25)


# In CLASS_NAMES order: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag,
# Ankle boot.
_SILHOUETTES: tuple[Callable[[], _Mask], ...] = (
    _tshirt,
    _trouser,
    _pullover,
    _dress,
    _coat,
    _sandal,
    _shirt,
    _sneaker,
    _bag,
    _ankle_boot,
)


def class_silhouettes() -> np.ndarray:
    """The ten class templates as a (10, 28, 28) float32 array in [0, 1]."""
    return np.stack([draw().astype(np.float32) for draw in _SILHOUETTES])


def make_synthetic_split(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``count`` labelled images, balanced over the ten classes, from ``seed``.

    Args:
        count: number of images.
        seed: seed for numpy's generator; the same seed gives the same bytes on every platform.

    Returns:
        ``(images, labels)``: uint8 (count, 28, 28) and uint8 (count,).

    Raises:
        ValueError: ``count`` is negative.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    rng = np.random.default_rng(seed)
    templates = class_silhouettes()
    labels = (np.arange(count) % len(templates)).astype(np.uint8)
    rng.shuffle(labels)
    shifts = rng.integers(-2, 3, size=(count, 2))
    images = np.empty((count, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    for index, (label, shift) in enumerate(zip(labels, shifts, strict=True)):
        images[index] = np.roll(templates[label], tuple(shift), axis=(0, 1))
    brightness = rng.uniform(0.55, 1.0, size=(count, 1, 1)).astype(np.float32)
    texture = rng.normal(0.0, 0.12, size=images.shape).astype(np.float32)
    background = rng.uniform(0.0, 0.15, size=images.shape).astype(np.float32)
    pixels = images * (brightness + texture) + (1.0 - images) * background
    return (np.clip(pixels, 0.0, 1.0) * 255).round().astype(np.uint8), labels
