"""A model config file: the ``all`` and ``specific`` policies keep both versions; labels route."""

from __future__ import annotations

import numpy as np
import pytest
import requests

from fashion.client import ServingClient, ServingHTTPError
from fashion.export import export_version
from fashion.harness import running_model_server
from fashion.preprocess import scale_images
from tests.support import REQUEST_TIMEOUT
from tests.support.config_files import ModelEntry, write_model_config

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(xprocess, model_server_binary, tmp_path_factory, trained_tiny, trained_tiny_v2):
    root = tmp_path_factory.mktemp("policies")
    base = root / "fashion"
    export_version(trained_tiny, base, 1)
    export_version(trained_tiny_v2, base, 2)
    config = write_model_config(
        root / "models.config",
        [
            ModelEntry("fashion_all", base, policy="all {}"),
            ModelEntry(
                "fashion_specific",
                base,
                policy="specific { versions: 1 versions: 2 }",
                labels={"stable": 1, "canary": 2},
            ),
        ],
    )

    def both_models_serve_both_versions(url: str) -> bool:
        for name in ("fashion_all", "fashion_specific"):
            with ServingClient(url, name, timeout=2) as client:
                try:
                    states = {e.version: e.state for e in client.status()}
                except Exception:
                    return False
            if states.get(1) != "AVAILABLE" or states.get(2) != "AVAILABLE":
                return False
        return True

    with running_model_server(
        xprocess, model_server_binary, "policies-server", config_file=config,
        extra_flags=["--allow_version_labels_for_unavailable_models"],
        ready=both_models_serve_both_versions,
    ) as served:  # fmt: skip
        yield served


@pytest.fixture(scope="module")
def images(synthetic_dataset) -> np.ndarray:
    return scale_images(synthetic_dataset.x_test[:3])


@pytest.mark.parametrize("model", ["fashion_all", "fashion_specific"])
def test_both_versions_answer_with_their_own_outputs(
    server,
    images,
    trained_tiny,
    trained_tiny_v2,
    model: str,
) -> None:
    with server.client(model) as client:
        np.testing.assert_allclose(
            client.predict(images, version=1), np.asarray(trained_tiny(images)), atol=1e-6
        )
        np.testing.assert_allclose(
            client.predict(images, version=2), np.asarray(trained_tiny_v2(images)), atol=1e-6
        )
        states = [(e.version, e.state) for e in client.status()]
    assert states == [(2, "AVAILABLE"), (1, "AVAILABLE")]


@pytest.mark.parametrize(("label", "expected_model"), [("stable", "v1"), ("canary", "v2")])
def test_labels_route_to_their_versions(
    server,
    images,
    trained_tiny,
    trained_tiny_v2,
    label: str,
    expected_model: str,
) -> None:
    model = trained_tiny if expected_model == "v1" else trained_tiny_v2
    with server.client("fashion_specific") as client:
        np.testing.assert_allclose(
            client.predict(images, label=label), np.asarray(model(images)), atol=1e-6
        )
        metadata = client.metadata(label=label)
    assert metadata["model_spec"]["version"] == expected_model[1]


def test_unknown_label_is_400_unrecognized_label(server, images) -> None:
    with server.client("fashion_specific") as client, pytest.raises(ServingHTTPError) as info:
        client.predict(images, label="beta")
    assert info.value.status_code == 400
    assert info.value.error == "Unrecognized servable version label: beta"


def test_model_without_labels_rejects_any_label(server, images) -> None:
    with server.client("fashion_all") as client, pytest.raises(ServingHTTPError) as info:
        client.predict(images, label="stable")
    assert info.value.status_code == 400
    assert info.value.error == "Unrecognized servable version label: stable"


def test_default_route_answers_the_highest_version(server, images, trained_tiny_v2) -> None:
    with server.client("fashion_all") as client:
        np.testing.assert_allclose(
            client.predict(images), np.asarray(trained_tiny_v2(images)), atol=1e-6
        )


@pytest.mark.parametrize(
    ("route", "version"),
    [("versions/1", "1"), ("versions/2", "2"), ("labels/stable", "1"), ("labels/canary", "2")],
)
def test_metadata_routes_to_the_version_asked_for(server, route: str, version: str) -> None:
    """With two versions serving, the version (or label) in the URL picks the one described."""
    response = requests.get(
        f"{server.url}/v1/models/fashion_specific/{route}/metadata", timeout=REQUEST_TIMEOUT
    )
    assert response.status_code == 200, response.text
    assert response.json()["model_spec"] == {
        "name": "fashion_specific",
        "signature_name": "",
        "version": version,
    }
