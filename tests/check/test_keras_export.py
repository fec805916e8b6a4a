"""The seed notebook's export, ``tf.saved_model.save(model, path)``, checked end to end.

On Keras 3 (TensorFlow 2.16 and later) TF Serving loads it and then fails every predict with
``Could not find variable ...`` (tensorflow/serving#2250), over REST and gRPC alike: the check
must FAIL on both, say why, and show the export that works. On Keras 2 (TensorFlow 2.15) the
same call exports a model that serves, and the check must PASS. Which Keras runs is detected,
never skipped over.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fashion.check import CheckOptions, Result, run_check
from fashion.check.traps import KERAS3_SAVED_MODEL_TRAP, same_failure
from fashion.servers import ModelServerBinary
from tests.check.exports import keras_major_version, write_seed_style_keras_export

pytestmark = pytest.mark.server


def test_the_seed_style_export_fails_with_the_explanation_on_keras_3_and_passes_on_keras_2(
    tmp_path: Path, model_server_binary: ModelServerBinary
) -> None:
    base = tmp_path / "seed_model"
    write_seed_style_keras_export(base)

    report = run_check(base, CheckOptions(), binary=model_server_binary)

    results = {(row.signature, row.check): row.result for row in report.rows}
    assert results[("", "load")] is Result.PASS  # AVAILABLE: the trap springs at predict time
    assert results[("", "metadata")] is Result.PASS
    assert results[("", "metadata grpc")] is Result.PASS
    if keras_major_version() < 3:
        assert report.passed, report.table()
        assert results[("serving_default", "predict grpc batch 4")] is Result.PASS
        return
    assert not report.passed
    # The trap springs over both APIs, with the same explanation: a gRPC client is not spared.
    rest, grpc = report.failures()
    assert (rest.signature, rest.check, rest.transport) == (
        "serving_default", KERAS3_SAVED_MODEL_TRAP, "rest",
    )  # fmt: skip
    assert (grpc.signature, grpc.check, grpc.transport) == (
        "serving_default", f"{KERAS3_SAVED_MODEL_TRAP} grpc", "grpc",
    )  # fmt: skip
    explanation = rest.detail
    # The variable named is the first missing one the run met (reads run in parallel), and the
    # layers' names (dense, dense_1, ...) depend on what Keras built before in this process.
    assert re.match(
        r"A Keras 3 model saved with tf\.saved_model\.save\(model, path\): TF Serving loads it "
        r"\(the version is AVAILABLE\), then every predict fails with FAILED_PRECONDITION 'Could "
        r"not find variable (dense|conv2d)(_\d+)?/(bias|kernel)' \(tensorflow/serving#2250\)\.\n",
        explanation,
    ), explanation
    assert "fashion.export.export_version(model, base_path, version)" in explanation
    assert "    module.serving_variables = list(concrete.variables)" in explanation.splitlines()
    assert (
        "    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, "
        'name="inputs")])'
    ) in explanation.splitlines()
    assert "The server answers the same 400." in explanation
    # Over gRPC: the same explanation and fix, and the server's own status code.
    assert grpc.detail.split("\nIn-process")[0] == explanation.split("\nIn-process")[0]
    assert "predict grpc batch 1 built from the signature's declared inputs" in grpc.detail
    assert "fails: FAILED_PRECONDITION Could not find variable dense" in grpc.detail
    assert "The server answers the same FAILED_PRECONDITION over gRPC." in grpc.detail
    assert "[1] PASS" not in report.table()  # notes are for FAIL/WARN/SKIP rows only


def test_runs_that_miss_different_variables_failed_the_same_way() -> None:
    # TensorFlow reads independent variables in parallel: the first missing one it meets, and so
    # the variable the text names, may differ from run to run of one request (seen in CI).
    bias = "Could not find variable dense/bias. This could mean that the variable has been deleted."
    kernel = "Could not find variable conv2d_4/kernel. This could mean that ..."
    assert same_failure(bias, kernel)
    assert same_failure("Expects arg[0] to be float", "Expects arg[0] to be float")
    assert not same_failure(bias, "Expects arg[0] to be float but double is provided")
