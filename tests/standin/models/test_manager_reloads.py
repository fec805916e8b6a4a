"""Applying a new model config: models added and removed, and configs refused with their texts.

As ``model_servers/server_core.cc`` does it (``ReloadConfig``, ``AddModelsViaModelConfigList``,
``ValidateModelConfigList``): the reload waits for added models and reports those that did not
become available. Fixtures: ``conftest.py`` of this folder.
"""

from __future__ import annotations

import pytest

from fashion.serving.models.model_spec import ModelSpec
from fashion.serving.status import Code
from tests.support.manager_kit import (
    WAIT_SECONDS,
    available,
    ended,
    not_found,
    not_found_text,
    place,
    predict,
    start_error,
    status,
)
from tests.support.status_errors import code_and_message, status_error


def test_reload_adds_new_models_and_unloads_removed_ones(start, builds, tmp_path, recorder):
    first, second = tmp_path / "a", tmp_path / "b"
    place(builds["half"], first, 1)
    place(builds["triple"], second, 1)
    a, b = ModelSpec("a", str(first)), ModelSpec("b", str(second))
    manager = start([a])
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    recorder.messages.clear()
    manager.apply_config([a, b])
    assert status(manager, "b") == available(1)
    assert recorder.messages[:3] == [
        "Adding/updating models.",
        " (Re-)adding model: a",
        " (Re-)adding model: b",
    ]
    assert recorder.messages[-1] == "Finished adding/updating models"
    manager.apply_config([b])
    recorder.wait_for(lambda: status(manager, "a") == [ended(1)], "a 1 END")
    assert not_found(manager, "a") == "Servable not found for request: Latest(a)"
    assert predict(manager, "b") == (1, 5.0)
    assert set(manager.models) == {"b"}


def test_reload_reports_added_models_that_did_not_become_available(start, builds, tmp_path):
    first, third = tmp_path / "a", tmp_path / "c"
    place(builds["half"], first, 1)
    broken = place(builds["broken"], third, 1)
    a = ModelSpec("a", str(first))
    manager = start([a])
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    assert code_and_message(manager.apply_config, [a, ModelSpec("c", str(third))]) == (
        Code.UNKNOWN,
        "1 model(s) did not become available: {{{name: c version: 1} due to error: NOT_FOUND: "
        f"{not_found_text(broken)}}}, }}",
    )


@pytest.mark.parametrize(
    ("models", "message"),
    [
        (
            [ModelSpec("m", "/srv/m"), ModelSpec("m", "/srv/n")],
            "Illegal to list model m multiple times in config list",
        ),
        (
            [ModelSpec("m", "models/m")],
            "Expected model m to have an absolute path or URI; got base_path()=models/m",
        ),
        ([ModelSpec("m", "/srv/m", platform="onnx")], "Model m requests unsupported platform onnx"),
    ],
)
def test_invalid_configs_are_refused_with_server_core_texts(models, message):
    error = start_error(models)
    assert (error.code, error.message) == (Code.INVALID_ARGUMENT, message)


def test_a_model_may_not_change_platform_on_reload(start_m, base):
    manager = start_m({1: "half"})
    changed = ModelSpec("m", str(base), platform="tensorflow2")
    assert status_error(manager.apply_config, [changed]).message == (
        "Illegal to change a model's platform. For model m platform was tensorflow and new "
        "platform requested is tensorflow2"
    )
