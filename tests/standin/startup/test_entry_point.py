"""What a serving process sets up before TensorFlow is imported (``startup.tf_env``)."""

from __future__ import annotations

import importlib.util
import os

import pytest

from fashion.serving.startup import tf_env


def test_the_eager_keras_import_is_skipped_when_tf_keras_is_absent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TF_USE_LEGACY_KERAS", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)

    tf_env.skip_eager_keras_import()

    assert os.environ["TF_USE_LEGACY_KERAS"] == "1"


def test_a_value_the_user_gave_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "0")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)

    tf_env.skip_eager_keras_import()

    assert os.environ["TF_USE_LEGACY_KERAS"] == "0"


def test_nothing_is_set_when_tf_keras_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Then TensorFlow would import tf_keras instead: no gain, and tf.keras would change."""
    monkeypatch.delenv("TF_USE_LEGACY_KERAS", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())

    tf_env.skip_eager_keras_import()

    assert "TF_USE_LEGACY_KERAS" not in os.environ


def test_tensorflows_eigen_kernels_are_chosen_unless_the_user_chose(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    tf_env.use_eigen_kernels()
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"

    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    tf_env.use_eigen_kernels()
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1"


def test_the_command_prepares_both_before_the_server_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fashion.serving import __main__ as entry_point

    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    monkeypatch.delenv("TF_USE_LEGACY_KERAS", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    seen: dict[str, str | None] = {}

    def fake_main() -> int:
        names = ("TF_ENABLE_ONEDNN_OPTS", "TF_USE_LEGACY_KERAS")
        seen.update({name: os.environ.get(name) for name in names})
        return 0

    monkeypatch.setattr(entry_point, "main", fake_main)
    assert entry_point.run() == 0
    assert seen == {"TF_ENABLE_ONEDNN_OPTS": "0", "TF_USE_LEGACY_KERAS": "1"}
