"""Version labels: resolution, and the rules for assigning them at start-up and on reload.

As in ``model_servers/server_core.cc`` (``UpdateModelVersionLabelMap``,
``GetModelVersionForLabel``) and its test ``server_core_test.cc``: without
``--allow_version_labels_for_unavailable_models`` every label needs an AVAILABLE version; with
it, a new label may point anywhere but an existing one only moves to an AVAILABLE version.
Fixtures: ``conftest.py`` of this folder.
"""

from __future__ import annotations

from fashion.serving.models.model_spec import ModelSpec, VersionPolicy
from fashion.serving.status import Code
from tests.support.manager_kit import available, not_found, place, predict, start_error
from tests.support.status_errors import code_and_message, invalid_argument, status_error


def test_labels_resolve_to_their_versions(start_m, recorder):
    manager = start_m(
        {1: "half", 2: "triple"},
        VersionPolicy.all(),
        labels={"stable": 1, "canary": 2, "next": 9},
        allow_version_labels_for_unavailable_models=True,
    )
    recorder.wait_for_status(manager, "m", available(2, 1))
    assert predict(manager, "m", label="stable") == (1, 2.5)
    assert predict(manager, "m", label="canary") == (2, 5.0)
    assert not_found(manager, "m", label="next") == "Servable not found for request: Specific(m, 9)"
    for model in ("m", "x"):
        assert invalid_argument(predict, manager, model, label="latest") == (
            "Unrecognized servable version label: latest"
        )


def test_labels_at_start_up_need_the_allow_flag(builds, base):
    place(builds["half"], base, 1)
    error = start_error([ModelSpec("m", str(base), labels={"stable": 1})])
    assert error.code is Code.FAILED_PRECONDITION
    assert error.message == (
        "Request to assign label to version 1 of model m, which is not currently available for "
        "inference"
    )


def test_label_rules_on_reload(start_m, base, tmp_path, recorder):
    manager = start_m({1: "half", 2: "triple"}, VersionPolicy.all())
    recorder.wait_for_status(manager, "m", available(2, 1))

    def config(**labels: int) -> ModelSpec:
        return ModelSpec("m", str(base), VersionPolicy.all(), labels=labels)

    def refused(models: list[ModelSpec], allow: bool, version: int) -> None:
        assert code_and_message(manager.apply_config, models, allow) == (
            Code.FAILED_PRECONDITION,
            f"Request to assign label to version {version} of model m, which is not currently "
            "available for inference",
        )

    manager.apply_config([config(stable=1)], False)
    assert manager.labels("m") == {"stable": 1}
    # Without the flag every label needs an AVAILABLE version, and a refused config changes nothing.
    other = ModelSpec("other", str(tmp_path / "other"))
    refused([config(stable=1, canary=3), other], False, 3)
    assert manager.labels("m") == {"stable": 1}
    assert set(manager.models) == {"m"}
    # With the flag a new label may point at an unavailable version, and keep pointing there...
    manager.apply_config([config(stable=1, canary=3)], True)
    manager.apply_config([config(stable=1, canary=3)], True)
    assert not_found(manager, "m", label="canary") == (
        "Servable not found for request: Specific(m, 3)"
    )
    # ...but an existing label only moves to an AVAILABLE version.
    refused([config(stable=3, canary=3)], True, 3)
    manager.apply_config([config(stable=2, canary=3)], True)
    assert manager.labels("m") == {"stable": 2, "canary": 3}
    manager.apply_config([config(stable=2)], False)
    assert manager.resolve("m", label="stable") == 2
    assert status_error(manager.resolve, "m", label="canary").message == (
        "Unrecognized servable version label: canary"
    )
