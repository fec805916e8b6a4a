"""Fixtures shared by the reliability tests: test images, both versions' outputs, exports.

Versions 1 and 2 are exported once per session (``pristine_versions``) and copied into each
test's base path; only the swap test exports version 2 itself, because the export is what it is
about. The fault server (one server, several models, see ``tests.support.fault_server``) is
shared by the disk-fault tests, and the fuzz server by the REST and gRPC fuzz tests.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tensorflow_serving.apis import predict_pb2

from fashion.export import export_version
from fashion.preprocess import scale_images
from fashion.testing.served import ServedModelServer, running_model_server
from tests.support import MODEL_NAME
from tests.support.config_files import ModelEntry, write_model_config
from tests.support.example_models import write_half_plus_two_model
from tests.support.fault_server import FAULT_MODELS, FaultServer
from tests.support.fuzzing import EXAMPLE_MODEL, EXAMPLE_MODEL_VERSION, FUZZ_LABEL
from tests.support.grpc_predict import predict_request
from tests.support.rest_probe import serving
from tests.support.traffic import VersionMatcher


@pytest.fixture(scope="session")
def images(synthetic_dataset) -> np.ndarray:
    """A few test images, scaled as the model expects."""
    return scale_images(synthetic_dataset.x_test[:4])


@pytest.fixture(scope="session")
def predict_body(images: np.ndarray) -> bytes:
    """The row-format predict body for ``images``."""
    return json.dumps({"instances": images.tolist()}).encode()


@pytest.fixture(scope="session")
def predict_grpc_request(images: np.ndarray) -> predict_pb2.PredictRequest:
    """The same images as a gRPC PredictRequest for the latest version."""
    return predict_request(MODEL_NAME, {"images": images})


@pytest.fixture(scope="session")
def version_outputs(images: np.ndarray, trained_tiny, trained_tiny_v2) -> dict[str, np.ndarray]:
    """What version 1 (``trained_tiny``) and version 2 (``trained_tiny_v2``) answer for them."""
    return {
        "v1": np.asarray(trained_tiny(images), np.float32),
        "v2": np.asarray(trained_tiny_v2(images), np.float32),
    }


@pytest.fixture(scope="session")
def matcher(version_outputs: dict[str, np.ndarray]) -> VersionMatcher:
    """Names the version behind each predict answer (and refuses versions it cannot tell apart)."""
    return VersionMatcher(version_outputs)


@pytest.fixture(scope="session")
def pristine_versions(
    tmp_path_factory: pytest.TempPathFactory, trained_tiny, trained_tiny_v2
) -> dict[int, Path]:
    """Complete exports of version 1 and 2, to copy from (never served themselves)."""
    base = tmp_path_factory.mktemp("pristine") / MODEL_NAME
    return {1: export_version(trained_tiny, base, 1), 2: export_version(trained_tiny_v2, base, 2)}


@pytest.fixture
def base_path(tmp_path: Path, pristine_versions: dict[int, Path]) -> Path:
    """A fresh base path for ``fashion_model`` holding version 1 only."""
    base = tmp_path / MODEL_NAME
    shutil.copytree(pristine_versions[1], base / "1")
    return base


@contextmanager
def _serving_config(
    xprocess: Any,
    model_server_binary: Any,
    name: str,
    entries: list[ModelEntry],
    *,
    root: Path,
    versions: Mapping[str, int],
    extra_flags: list[str],
) -> Iterator[ServedModelServer]:
    """A server of ``entries`` from ``root/models.config``, ready once each model's version of
    ``versions`` is AVAILABLE (the server of a config file has no single model to wait for)."""
    config = write_model_config(root / "models.config", entries)
    with running_model_server(
        xprocess, model_server_binary, name, config_file=config, extra_flags=extra_flags,
        ready=serving({model: {version} for model, version in versions.items()}),
    ) as served:  # fmt: skip
        yield served


@pytest.fixture(scope="session")
def fault_server(
    xprocess,
    model_server_binary,
    tmp_path_factory: pytest.TempPathFactory,
    pristine_versions: dict[int, Path],
) -> Iterator[FaultServer]:
    """One server for the disk-fault tests: a model per fault plus ``steady``, never touched.

    A failed load ends at once (``--max_num_load_retries=0``) and the base paths are scanned
    every second.
    """
    root = tmp_path_factory.mktemp("faults")
    base_paths = {name: root / name for name in FAULT_MODELS}
    for name, versions in FAULT_MODELS.items():
        for version in versions:
            shutil.copytree(pristine_versions[version], base_paths[name] / str(version))
    with _serving_config(
        xprocess,
        model_server_binary,
        "reliability-fault-server",
        [ModelEntry(name, base) for name, base in base_paths.items()],
        root=root,
        versions={name: max(versions) for name, versions in FAULT_MODELS.items()},
        extra_flags=["--file_system_poll_wait_seconds=1", "--max_num_load_retries=0"],
    ) as served:
        yield FaultServer(served, base_paths)


@pytest.fixture(scope="session")
def fuzz_server(
    xprocess,
    model_server_binary,
    tmp_path_factory: pytest.TempPathFactory,
    pristine_versions: dict[int, Path],
) -> Iterator[ServedModelServer]:
    """The server of both fuzz tests, REST and gRPC: ``fashion_model`` version 1 (labelled
    ``stable``), whose input is a float image batch, and ``half_plus_two``, whose examples
    signatures take strings: strings, floats and ``tf.Example``s all reach a model that reads
    them."""
    root = tmp_path_factory.mktemp("fuzz")
    fashion = root / MODEL_NAME
    shutil.copytree(pristine_versions[1], fashion / "1")
    examples = root / EXAMPLE_MODEL
    write_half_plus_two_model(examples / str(EXAMPLE_MODEL_VERSION))
    with _serving_config(
        xprocess,
        model_server_binary,
        "reliability-fuzz-server",
        [
            ModelEntry(MODEL_NAME, fashion, labels={FUZZ_LABEL: 1}),
            ModelEntry(EXAMPLE_MODEL, examples),
        ],
        root=root,
        versions={MODEL_NAME: 1, EXAMPLE_MODEL: EXAMPLE_MODEL_VERSION},
        # The label is set before version 1 is loaded (server_core.cc refuses that otherwise).
        extra_flags=["--allow_version_labels_for_unavailable_models=true"],
    ) as served:
        yield served


@pytest.fixture
def faults(fault_server: FaultServer) -> FaultServer:
    """The fault server, checked to be alive (fails at once, with its log, if it died)."""
    fault_server.served.assert_alive()
    return fault_server
