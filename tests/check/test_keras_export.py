"""The seed notebook's export, ``tf.saved_model.save(model, path)``, checked end to end.

On Keras 3 (TensorFlow 2.16 and later) TF Serving loads it and then fails every predict with
``Could not find variable ...`` (tensorflow/serving#2250): the check must FAIL, say why, and show
the export that works. On Keras 2 (TensorFlow 2.15) the same call exports a model that serves, and
the check must PASS. Which Keras runs is detected, never skipped over.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fashion.check import CheckOptions, Result, run_check
from fashion.check.traps import KERAS3_SAVED_MODEL_TRAP
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
    if keras_major_version() < 3:
        assert report.passed, report.table()
        return
    assert not report.passed
    (failure,) = report.failures()
    assert (failure.signature, failure.check) == ("serving_default", KERAS3_SAVED_MODEL_TRAP)
    explanation = failure.detail
    # The layer's name (dense, dense_1, ...) depends on what Keras built before in this process.
    assert re.match(
        r"A Keras 3 model saved with tf\.saved_model\.save\(model, path\): TF Serving loads it "
        r"\(the version is AVAILABLE\), then every predict fails with FAILED_PRECONDITION 'Could "
        r"not find variable dense(_\d+)?/bias' \(tensorflow/serving#2250\)\.\n",
        explanation,
    ), explanation
    assert "fashion.export.export_version(model, base_path, version)" in explanation
    assert "    module.serving_variables = list(concrete.variables)" in explanation.splitlines()
    assert (
        "    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, "
        'name="inputs")])'
    ) in explanation.splitlines()
    assert "The server answers the same 400." in explanation
    assert "[1] PASS" not in report.table()  # notes are for FAIL/WARN/SKIP rows only
