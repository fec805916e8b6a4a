"""A gRPC answer that differs from the in-process one fails its own gRPC rows, and only those.

The real server's gRPC answers are changed on their way to the check (the gRPC client's
response methods are wrapped): a value, a dtype, the ``model_spec``'s version, a classify
score. Each must fail the gRPC rows it touches, saying what differs, while the REST rows of the
same requests still pass. Uses the package's shared server (``served`` in this folder's
conftest).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fashion.check import run_check_on_server
from fashion.testing.served import ServedModelServer

pytestmark = pytest.mark.server


def _perturbed(monkeypatch: pytest.MonkeyPatch, method: str, change: Callable[[Any], None]) -> None:
    """Make the gRPC client's ``method`` return its real response, changed in place."""
    from fashion.clients.grpc import GrpcServingClient

    real = getattr(GrpcServingClient, method)

    def changed(self: GrpcServingClient, *args: Any, **kwargs: Any) -> Any:
        response = real(self, *args, **kwargs)
        change(response)
        return response

    monkeypatch.setattr(GrpcServingClient, method, changed)


def _add_to_first_output(response: Any) -> None:
    import tensorflow as tf

    tensor = response.outputs["probabilities"]
    values = tf.make_ndarray(tensor)
    values.flat[0] += 1e-3
    tensor.CopyFrom(tf.make_tensor_proto(values))


def _as_double(response: Any) -> None:
    import tensorflow as tf

    tensor = response.outputs["probabilities"]
    tensor.CopyFrom(tf.make_tensor_proto(tf.make_ndarray(tensor).astype(np.float64)))


def _another_version(response: Any) -> None:
    response.model_spec.version.value = 7


_GRPC_REQUESTS = ["predict grpc batch 1", "predict grpc batch 4"]


@pytest.mark.parametrize(
    ("change", "failing", "says"),
    [
        (_add_to_first_output, _GRPC_REQUESTS, "probabilities[0][0]: expected "),
        (
            _as_double,
            [*_GRPC_REQUESTS, "declared shapes grpc"],
            "output 'probabilities' is served as float64, but in-process it is float32",
        ),
        (
            _another_version,
            _GRPC_REQUESTS,
            "the answer's model_spec names model 'keras_good' version 7 signature "
            "'serving_default'; asked: model 'keras_good' version 1 signature 'serving_default'",
        ),
    ],
    ids=["a value", "a dtype", "the version"],
)
def test_a_grpc_answer_that_differs_from_in_process_fails_its_grpc_rows_only(
    served: tuple[ServedModelServer, dict[str, Path]],
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[Any], None],
    failing: list[str],
    says: str,
) -> None:
    server, bases = served
    _perturbed(monkeypatch, "predict_response", change)

    report = run_check_on_server(bases["keras_good"], server)

    failed = {row.check: row.detail for row in report.failures()}
    assert sorted(failed) == sorted(failing), report.table()
    for check in _GRPC_REQUESTS:
        assert failed[check].startswith(says), failed[check]
    assert all(row.transport == "grpc" for row in report.failures())
    if "declared shapes grpc" in failed:  # a dtype the signature does not declare, over gRPC
        assert failed["declared shapes grpc"] == (
            "the signature lies about its outputs: output 'probabilities' is declared float but "
            "gRPC serves it as double"
        )


def test_a_classify_answer_that_differs_over_grpc_fails_its_row(
    served: tuple[ServedModelServer, dict[str, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, bases = served

    def lower_last_score(response: Any) -> None:
        response.result.classifications[-1].classes[0].score -= 0.25

    _perturbed(monkeypatch, "classify_response", lower_last_score)

    report = run_check_on_server(bases["tf1_examples"], server)

    failed = {(row.signature, row.check): row for row in report.failures()}
    assert sorted(failed) == [
        ("classify_x_to_y", "classify grpc batch 1"),
        ("classify_x_to_y", "classify grpc batch 4"),
    ]
    row = failed[("classify_x_to_y", "classify grpc batch 4")]
    assert row.detail.startswith("[3][0][1]: expected "), row.detail
    assert row.max_abs_diff == pytest.approx(0.25)
