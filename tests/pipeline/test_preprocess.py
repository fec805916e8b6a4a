"""Scaling, validation and request-body builders."""

from __future__ import annotations

import numpy as np
import pytest

from fashion.preprocess import (
    PreprocessError,
    columnar_body,
    instances_body,
    scale_images,
    validate_model_input,
)


def test_uint8_images_become_float32_in_unit_range_with_channel_axis() -> None:
    images = np.array([[[0] * 28] * 28, [[255] * 28] * 28], dtype=np.uint8)
    images[0, 3, 4] = 51
    scaled = scale_images(images)
    assert scaled.shape == (2, 28, 28, 1)
    assert scaled.dtype == np.float32
    assert scaled[0, 3, 4, 0] == pytest.approx(0.2)
    assert scaled[1].min() == 1.0
    assert scaled[0].max() == pytest.approx(0.2)


def test_single_image_and_existing_channel_axis_are_accepted() -> None:
    assert scale_images(np.zeros((28, 28), np.uint8)).shape == (1, 28, 28, 1)
    assert scale_images(np.zeros((3, 28, 28, 1), np.uint8)).shape == (3, 28, 28, 1)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (
            np.zeros((2, 28, 27), np.uint8),
            r"shape \(N, 28, 28\) or \(N, 28, 28, 1\), got \(2, 28, 27\)",
        ),
        (np.zeros((2, 28, 28, 3), np.uint8), r"got \(2, 28, 28, 3\)"),
        (np.zeros((2, 28, 28), np.float32), "integer pixel values 0-255"),
        (np.zeros((2, 28, 28), bool), "integer pixel values 0-255"),
        (np.full((1, 28, 28), 256, np.int32), "within 0-255, got 256..256"),
        (np.full((1, 28, 28), -1, np.int32), "within 0-255, got -1..-1"),
    ],
)
def test_bad_images_are_rejected_with_the_reason(images: np.ndarray, message: str) -> None:
    with pytest.raises(PreprocessError, match=message):
        scale_images(images)


def test_model_input_validation_accepts_scaled_batches() -> None:
    batch = np.full((4, 28, 28, 1), 0.5, np.float64)
    checked = validate_model_input(batch)
    assert checked.dtype == np.float32
    assert checked.shape == (4, 28, 28, 1)


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        (np.zeros((4, 28, 28), np.float32), r"shape \(N, 28, 28, 1\), got \(4, 28, 28\)"),
        (np.zeros((4, 28, 28, 1), np.uint8), "got dtype uint8"),
        (np.full((1, 28, 28, 1), 2.0, np.float32), r"scaled to \[0, 1\]"),
        (np.full((1, 28, 28, 1), np.nan, np.float32), "NaN or infinity"),
    ],
)
def test_model_input_validation_rejects_unscaled_or_misshapen_batches(
    batch: np.ndarray, message: str
) -> None:
    with pytest.raises(PreprocessError, match=message):
        validate_model_input(batch)


def test_instances_body_is_row_format_with_optional_signature_name() -> None:
    batch = np.array([[0.5], [0.25]], np.float32)
    assert instances_body(batch) == {"instances": [[0.5], [0.25]]}
    assert instances_body(batch, signature_name="serving_default") == {
        "signature_name": "serving_default",
        "instances": [[0.5], [0.25]],
    }


def test_columnar_body_takes_a_tensor_or_named_tensors() -> None:
    assert columnar_body(np.array([1.0, 2.0])) == {"inputs": [1.0, 2.0]}
    assert columnar_body({"images": np.array([1.0])}, signature_name="s") == {
        "signature_name": "s",
        "inputs": {"images": [1.0]},
    }
