"""The seed's two CNNs, tiny variants for tests, and a seeded training loop.

Keras is imported as ``keras``: Keras 2 on TensorFlow 2.15, Keras 3 from 2.16. The layers used
here exist, with the same meaning, in both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from fashion.data import CLASS_NAMES, Dataset
from fashion.preprocess import IMAGE_SHAPE, scale_images

if TYPE_CHECKING:
    import keras

__all__ = ["MODEL_BUILDERS", "TrainResult", "build", "train"]


def _seed_v1(keras_module, num_classes: int):
    layers = keras_module.layers
    inputs = keras_module.Input(shape=IMAGE_SHAPE, name="images")
    x = layers.Conv2D(32, (3, 3), strides=2, activation="relu")(inputs)
    x = layers.Conv2D(64, (3, 3), strides=2, activation="relu")(x)
    x = layers.Conv2D(128, (3, 3), strides=2, activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Dense(512, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras_module.Model(inputs, outputs, name="seed_v1")


def _one_conv(filters: int, kernel: int, stride: int, name: str) -> Callable:
    """Conv2D -> Flatten -> Dense softmax: the seed's version-2 shape, and the tiny test models."""

    def build_model(keras_module, num_classes: int):
        layers = keras_module.layers
        inputs = keras_module.Input(shape=IMAGE_SHAPE, name="images")
        x = layers.Conv2D(filters, (kernel, kernel), strides=stride, activation="relu")(inputs)
        x = layers.Flatten()(x)
        outputs = layers.Dense(num_classes, activation="softmax")(x)
        return keras_module.Model(inputs, outputs, name=name)

    return build_model


#: Model builders by name: the seed's version-1 and version-2 CNNs and two tiny variants that
#: train in seconds on the synthetic data set.
MODEL_BUILDERS: dict[str, Callable] = {
    "seed-v1": _seed_v1,
    "seed-v2": _one_conv(32, 3, 2, "seed_v2"),
    "tiny": _one_conv(8, 3, 2, "tiny"),
    "tiny-v2": _one_conv(4, 5, 3, "tiny_v2"),
}


def build(name: str, num_classes: int = len(CLASS_NAMES), *, seed: int = 0) -> keras.Model:
    """Build one of :data:`MODEL_BUILDERS`, with weights initialised from ``seed``.

    Raises:
        ValueError: unknown model name or fewer than two classes.
    """
    if name not in MODEL_BUILDERS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODEL_BUILDERS)}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    import keras

    keras.utils.set_random_seed(seed)
    return MODEL_BUILDERS[name](keras, num_classes)


@dataclass(frozen=True)
class TrainResult:
    """What training reached, per epoch, as Keras reported it."""

    accuracy: list[float]
    val_accuracy: list[float]

    @property
    def final_val_accuracy(self) -> float:
        """Validation accuracy after the last epoch."""
        return self.val_accuracy[-1]


def train(
    model: keras.Model,
    dataset: Dataset,
    *,
    epochs: int = 5,
    batch_size: int = 64,
    seed: int = 0,
    verbose: int | str = "auto",
) -> TrainResult:
    """Compile with Adam and sparse categorical cross-entropy, then fit, validating on the test set.

    Args:
        model: a model from :func:`build`.
        dataset: uint8 images; scaled here with :func:`fashion.preprocess.scale_images`.
        epochs: passes over the training set (at least 1).
        batch_size: samples per step.
        seed: seeds shuffling and dropout, so the same call gives the same weights.
        verbose: Keras' verbosity: "auto" shows the progress bar, 0 is quiet (tests).

    Raises:
        ValueError: ``epochs`` or ``batch_size`` is below 1.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
    import keras

    keras.utils.set_random_seed(seed)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        scale_images(dataset.x_train),
        dataset.y_train.astype(np.int64),
        validation_data=(scale_images(dataset.x_test), dataset.y_test.astype(np.int64)),
        epochs=epochs,
        batch_size=batch_size,
        verbose=verbose,
    )
    return TrainResult(
        accuracy=[float(v) for v in history.history["accuracy"]],
        val_accuracy=[float(v) for v in history.history["val_accuracy"]],
    )
