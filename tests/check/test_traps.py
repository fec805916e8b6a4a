"""Run failures that are known traps get their cause and fix, read from the signature.

The Keras 3 export trap has its own file (``test_keras_export``); these need no server: the
in-process answer is the one the server is compared with, and it carries the same text.
"""

from __future__ import annotations

import json
from pathlib import Path

import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from fashion.check.reference import Reference
from fashion.check.traps import explain_run_failure
from tests.support.savedmodels import build_signature, save_graph


def _passthrough_model(path: Path) -> Path:
    """``passthrough``: input ``x``, outputs ``same`` (x's own tensor) and ``y = 3 x``."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 2], name="x")
        y = tf.identity(3.0 * x, name="y")
        return save_graph(
            path, graph, {"passthrough": build_signature({"x": x}, {"same": x, "y": y})}
        )


def test_an_output_that_is_an_input_names_both_and_says_to_export_it_through_identity(
    tmp_path: Path,
) -> None:
    version = _passthrough_model(tmp_path / "1")
    with Reference.load(str(version)) as reference:
        answer = reference.answer(
            "predict",
            json.dumps({"signature_name": "passthrough", "instances": [[1.0, 2.0]]}).encode(),
        )
    assert (answer.status, answer.error) == (400, "x:0 is both fed and fetched.")
    model = saved_model_pb2.SavedModel.FromString((version / "saved_model.pb").read_bytes())
    meta_graph = model.meta_graphs[0]
    explanation = explain_run_failure(
        answer.error, meta_graph, meta_graph.signature_def["passthrough"]
    )
    assert explanation is not None
    assert explanation.text.startswith("The signature's output 'same' is input 'x' (x:0): ")
    assert "tf.identity" in explanation.text
