"""A model config file: the ``all`` and ``specific`` policies keep both versions; labels route.

Every test runs over REST and over gRPC, against the same server.
"""

from __future__ import annotations

import numpy as np
import pytest

from fashion.clients import ServingClient, ServingError, VersionStatus
from fashion.export import export_version
from fashion.preprocess import scale_images
from fashion.testing.served import running_model_server
from tests.support.config_files import ModelEntry, write_model_config
from tests.support.transports import failure

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
                except ServingError:
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
    connect,
    images,
    trained_tiny,
    trained_tiny_v2,
    model: str,
) -> None:
    client = connect(server, model)
    np.testing.assert_allclose(
        client.predict(images, version=1), np.asarray(trained_tiny(images)), atol=1e-6
    )
    np.testing.assert_allclose(
        client.predict(images, version=2), np.asarray(trained_tiny_v2(images)), atol=1e-6
    )
    assert client.status() == [
        VersionStatus(version=2, state="AVAILABLE", error_code="OK", error_message=""),
        VersionStatus(version=1, state="AVAILABLE", error_code="OK", error_message=""),
    ]


@pytest.mark.parametrize(("label", "expected_model"), [("stable", "v1"), ("canary", "v2")])
def test_labels_route_to_their_versions(
    server,
    connect,
    images,
    trained_tiny,
    trained_tiny_v2,
    label: str,
    expected_model: str,
) -> None:
    model = trained_tiny if expected_model == "v1" else trained_tiny_v2
    client = connect(server, "fashion_specific")
    np.testing.assert_allclose(
        client.predict(images, label=label), np.asarray(model(images)), atol=1e-6
    )
    assert client.metadata(label=label)["model_spec"]["version"] == expected_model[1]


def test_unknown_label_is_400_unrecognized_label(server, connect, images) -> None:
    client = connect(server, "fashion_specific")
    assert failure(lambda: client.predict(images, label="beta"), code="INVALID_ARGUMENT") == (
        400,
        "Unrecognized servable version label: beta",
    )


def test_model_without_labels_rejects_any_label(server, connect, images) -> None:
    client = connect(server, "fashion_all")
    assert failure(lambda: client.predict(images, label="stable"), code="INVALID_ARGUMENT") == (
        400,
        "Unrecognized servable version label: stable",
    )


def test_default_route_answers_the_highest_version(
    server, connect, images, trained_tiny_v2
) -> None:
    client = connect(server, "fashion_all")
    np.testing.assert_allclose(
        client.predict(images), np.asarray(trained_tiny_v2(images)), atol=1e-6
    )


@pytest.mark.parametrize(
    ("route", "version"),
    [
        ({"version": 1}, "1"),
        ({"version": 2}, "2"),
        ({"label": "stable"}, "1"),
        ({"label": "canary"}, "2"),
    ],
    ids=["versions/1", "versions/2", "labels/stable", "labels/canary"],
)
def test_metadata_routes_to_the_version_asked_for(
    server, connect, route: dict[str, int | str], version: str
) -> None:
    """With two versions serving, the version (or label) asked for picks the one described."""
    assert connect(server, "fashion_specific").metadata(**route)["model_spec"] == {
        "name": "fashion_specific",
        "signature_name": "",
        "version": version,
    }
