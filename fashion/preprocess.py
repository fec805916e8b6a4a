"""Turning uint8 images into model input, and model input into TF Serving request bodies.

Validation is strict because the failure it prevents is silent: a model fed 0-255 floats or
images without the channel axis still answers, just wrongly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "IMAGE_SHAPE",
    "PreprocessError",
    "columnar_body",
    "instances_body",
    "scale_images",
    "validate_model_input",
]

#: Shape of one model input: 28x28 grey with a channel axis.
IMAGE_SHAPE: tuple[int, int, int] = (28, 28, 1)


class PreprocessError(ValueError):
    """Raised when images do not have the shape, dtype or value range the models expect."""


def scale_images(images: np.ndarray) -> np.ndarray:
    """Scale uint8 pixel values to float32 in [0, 1] and add the channel axis.

    Args:
        images: integer pixels 0-255, shaped (N, 28, 28), (N, 28, 28, 1) or a single (28, 28).

    Returns:
        float32 array of shape (N, 28, 28, 1).

    Raises:
        PreprocessError: wrong shape, a non-integer dtype (already scaled?) or values outside
            0-255.
    """
    array = np.asarray(images)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise PreprocessError(
            f"expected integer pixel values 0-255 (e.g. uint8), got dtype {array.dtype}; "
            "float images are taken to be scaled already: use validate_model_input"
        )
    if array.shape == (28, 28):
        array = array[np.newaxis]
    if array.ndim == 3 and array.shape[1:] == (28, 28):
        array = array[..., np.newaxis]
    if array.ndim != 4 or array.shape[1:] != IMAGE_SHAPE:
        raise PreprocessError(
            f"expected images of shape (N, 28, 28) or (N, 28, 28, 1), got {np.shape(images)}"
        )
    if array.size and (array.min() < 0 or array.max() > 255):
        raise PreprocessError(
            f"pixel values must be within 0-255, got {array.min()}..{array.max()}"
        )
    return array.astype(np.float32) / np.float32(255.0)


def validate_model_input(batch: np.ndarray) -> np.ndarray:
    """Check that ``batch`` is what the exported signature takes: float32 (N, 28, 28, 1) in [0, 1].

    Returns:
        The batch as a float32 array.

    Raises:
        PreprocessError: wrong shape, dtype, non-finite values or values outside [0, 1].
    """
    array = np.asarray(batch)
    if not np.issubdtype(array.dtype, np.floating):
        raise PreprocessError(
            f"model input must be float32 in [0, 1], got dtype {array.dtype} (use scale_images)"
        )
    if array.ndim != 4 or array.shape[1:] != IMAGE_SHAPE:
        raise PreprocessError(f"model input must have shape (N, 28, 28, 1), got {array.shape}")
    if array.size:
        if not np.isfinite(array).all():
            raise PreprocessError("model input contains NaN or infinity")
        if array.min() < 0.0 or array.max() > 1.0:
            raise PreprocessError(
                f"model input must be scaled to [0, 1], got {array.min()}..{array.max()}"
            )
    return array.astype(np.float32, copy=False)


def instances_body(
    instances: np.ndarray | list[Any], *, signature_name: str | None = None
) -> dict[str, Any]:
    """A row-format predict body: ``{"instances": [...]}`` (plus ``signature_name`` if given)."""
    body: dict[str, Any] = {}
    if signature_name is not None:
        body["signature_name"] = signature_name
    body["instances"] = (
        np.asarray(instances).tolist() if isinstance(instances, np.ndarray) else instances
    )
    return body


def columnar_body(
    inputs: np.ndarray | list[Any] | dict[str, Any], *, signature_name: str | None = None
) -> dict[str, Any]:
    """A columnar predict body: ``{"inputs": ...}``; pass a dict to name the inputs."""
    body: dict[str, Any] = {}
    if signature_name is not None:
        body["signature_name"] = signature_name
    if isinstance(inputs, dict):
        body["inputs"] = {
            name: value.tolist() if isinstance(value, np.ndarray) else value
            for name, value in inputs.items()
        }
    else:
        body["inputs"] = inputs.tolist() if isinstance(inputs, np.ndarray) else inputs
    return body
