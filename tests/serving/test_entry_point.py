"""The command's entry point: what it sets up before TensorFlow is imported."""

from __future__ import annotations

import importlib.util
import os

import pytest

from fashion.serving import __main__ as entry_point


def test_the_eager_keras_import_is_skipped_when_tf_keras_is_absent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TF_USE_LEGACY_KERAS", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)

    entry_point.skip_eager_keras_import()

    assert os.environ["TF_USE_LEGACY_KERAS"] == "1"


def test_a_value_the_user_gave_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "0")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)

    entry_point.skip_eager_keras_import()

    assert os.environ["TF_USE_LEGACY_KERAS"] == "0"


def test_nothing_is_set_when_tf_keras_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Then TensorFlow would import tf_keras instead: no gain, and tf.keras would change."""
    monkeypatch.delenv("TF_USE_LEGACY_KERAS", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())

    entry_point.skip_eager_keras_import()

    assert "TF_USE_LEGACY_KERAS" not in os.environ
