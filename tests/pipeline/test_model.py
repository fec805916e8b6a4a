"""The seed's model architectures, and training that learns and repeats itself."""

from __future__ import annotations

import numpy as np
import pytest

from fashion.data import Dataset
from fashion.model import MODEL_BUILDERS, build, train


@pytest.mark.parametrize(
    ("name", "parameters"),
    # Parameter counts the seed notebook printed for its two models.
    [("seed-v1", 360_458), ("seed-v2", 54_410)],
)
def test_seed_models_have_the_notebooks_parameter_counts(name: str, parameters: int) -> None:
    assert build(name).count_params() == parameters


def test_seed_v1_has_the_notebooks_layer_sequence() -> None:
    model = build("seed-v1")
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "InputLayer", "Conv2D", "Conv2D", "Conv2D", "Flatten",
        "Dropout", "Dense", "Dropout", "Dense",
    ]  # fmt: skip
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert [c.filters for c in convs] == [32, 64, 128]
    assert all(c.strides == (2, 2) and c.kernel_size == (3, 3) for c in convs)
    assert model.output_shape == (None, 10)
    assert model.layers[-1].get_config()["activation"] == "softmax"


@pytest.mark.parametrize("name", sorted(MODEL_BUILDERS))
def test_every_model_maps_a_batch_of_images_to_probabilities(name: str) -> None:
    model = build(name)
    out = np.asarray(model(np.zeros((2, 28, 28, 1), np.float32)))
    assert out.shape == (2, 10)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_unknown_model_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown model 'resnet'; choose one of seed-v1"):
        build("resnet")


def test_too_few_classes_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="num_classes must be at least 2"):
        build("tiny", 1)


def test_training_rejects_zero_epochs(synthetic_dataset: Dataset) -> None:
    with pytest.raises(ValueError, match="epochs and batch_size must be >= 1"):
        train(build("tiny"), synthetic_dataset, epochs=0)


def test_tiny_model_learns_the_synthetic_data(trained_tiny, synthetic_dataset: Dataset) -> None:
    from fashion.preprocess import scale_images

    predicted = np.asarray(trained_tiny(scale_images(synthetic_dataset.x_test))).argmax(axis=1)
    assert (predicted == synthetic_dataset.y_test).mean() > 0.9


def test_same_seed_trains_the_same_weights(synthetic_dataset: Dataset) -> None:
    small = Dataset(
        synthetic_dataset.x_train[:300], synthetic_dataset.y_train[:300],
        synthetic_dataset.x_test[:50], synthetic_dataset.y_test[:50], "synthetic", True,
    )  # fmt: skip
    weights = []
    for _ in range(2):
        model = build("tiny-v2", seed=4)
        train(model, small, epochs=1, batch_size=32, seed=4, verbose=0)
        weights.append(model.get_weights())
    for first, second in zip(*weights, strict=True):
        np.testing.assert_array_equal(first, second)
