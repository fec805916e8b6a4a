"""The one server ``fashion check``'s verdict tests share: six models from one config file.

A model server takes seconds to start, so the feature files that check exports against a
running server (``test_verdicts``, ``test_grpc_answers``, ``test_transports``) share one,
started the first time one of them asks (package scope: once per worker) and stopped once the
package's tests are done. It serves, from one model config file: the Keras export the project
makes, a TF1 graph with classify and regress signatures, a model with several inputs and outputs
of several dtypes, a model whose signature lies about its shapes, a model with everything that
only warns, and a model only gRPC can call. Checks find each model's name in that config file
and the gRPC target on the fixture's server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fashion.testing.plugin import ModelServerFactory
from fashion.testing.served import ServedModelServer
from tests.support.config_files import ModelEntry, write_model_config


def _writers() -> dict[str, Callable[[Path], Any]]:
    """Each served model's writer, by the model's name. Imported here: they import TensorFlow,
    which must not come before the root conftest's ``pytest_configure`` (this file is read
    before it runs)."""
    from tests.check.exports import (
        write_grpc_only_model,
        write_keras_export,
        write_lying_model,
        write_multi_io_model,
        write_warnings_model,
    )
    from tests.support.example_models import write_half_plus_two_model

    return {
        "keras_good": lambda path: write_keras_export(path.parent, int(path.name)),
        "tf1_examples": write_half_plus_two_model,
        "multi_io": write_multi_io_model,
        "lying": write_lying_model,
        "warnings": write_warnings_model,
        "grpc_only": write_grpc_only_model,
    }


@pytest.fixture(scope="package")
def served(
    serve_model: ModelServerFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServedModelServer, dict[str, Path]]]:
    """The one server, and each model's base path."""
    root = tmp_path_factory.mktemp("check-verdicts")
    writers = _writers()
    bases = {name: root / name for name in writers}
    for name, write in writers.items():
        write(bases[name] / "1")
    config = write_model_config(
        root / "models.config", [ModelEntry(name, base) for name, base in bases.items()]
    )
    # Ready once the first model serves; each check waits for its own model's versions.
    with serve_model.running(config_file=config, model_name="keras_good") as server:
        yield server, bases
