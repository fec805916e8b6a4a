"""Version labels: resolution, and the rules for assigning them at start-up and on reload.

As in ``model_servers/server_core.cc`` (``UpdateModelVersionLabelMap``,
``GetModelVersionForLabel``) and its test ``server_core_test.cc``: without
``--allow_version_labels_for_unavailable_models`` every label needs an AVAILABLE version; with
it, a new label may point anywhere but an existing one only moves to an AVAILABLE version.
Fixtures: ``conftest.py`` of this folder.
"""

from __future__ import annotations

import pytest

from fashion.serving.models.manager import ModelManager
from fashion.serving.models.model_spec import ModelSpec, VersionPolicy
from fashion.serving.status import Code, ServingStatusError
from tests.support.manager_kit import (
    FAST,
    LOADER,
    available,
    not_found,
    place,
    predict,
    status,
)


def test_labels_resolve_to_their_versions(start, builds, tmp_path, recorder):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    place(builds["triple"], base, 2)
    spec = ModelSpec(
        "m", str(base), VersionPolicy.all(), labels={"stable": 1, "canary": 2, "next": 9}
    )
    manager = start([spec], allow_version_labels_for_unavailable_models=True)
    recorder.wait_for(lambda: status(manager, "m") == available(2, 1), "both AVAILABLE")
    assert predict(manager, "m", label="stable") == (1, 2.5)
    assert predict(manager, "m", label="canary") == (2, 5.0)
    assert not_found(manager, "m", label="next") == "Servable not found for request: Specific(m, 9)"
    for model in ("m", "x"):
        with pytest.raises(ServingStatusError) as info:
            predict(manager, model, label="latest")
        assert info.value.code is Code.INVALID_ARGUMENT
        assert info.value.http_status == 400
        assert info.value.message == "Unrecognized servable version label: latest"


def test_labels_at_start_up_need_the_allow_flag(builds, tmp_path):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    manager = ModelManager([ModelSpec("m", str(base), labels={"stable": 1})], LOADER, FAST)
    try:
        with pytest.raises(ServingStatusError) as info:
            manager.start()
    finally:
        manager.stop()
    assert info.value.code is Code.FAILED_PRECONDITION
    assert info.value.message == (
        "Request to assign label to version 1 of model m, which is not currently available for "
        "inference"
    )


def test_label_rules_on_reload(start, builds, tmp_path, recorder):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    place(builds["triple"], base, 2)
    manager = start([ModelSpec("m", str(base), VersionPolicy.all())])
    recorder.wait_for(lambda: status(manager, "m") == available(2, 1), "both AVAILABLE")

    def config(**labels: int) -> ModelSpec:
        return ModelSpec("m", str(base), VersionPolicy.all(), labels=labels)

    def refused(models: list[ModelSpec], allow: bool, version: int) -> None:
        with pytest.raises(ServingStatusError) as info:
            manager.apply_config(models, allow)
        assert info.value.code is Code.FAILED_PRECONDITION
        assert info.value.message == (
            f"Request to assign label to version {version} of model m, which is not currently "
            "available for inference"
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
    with pytest.raises(ServingStatusError) as info:
        manager.resolve("m", label="canary")
    assert info.value.message == "Unrecognized servable version label: canary"
