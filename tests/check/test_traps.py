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


def test_a_graph_that_calls_python_is_named_as_the_cause_of_its_run_failures(
    tmp_path: Path,
) -> None:
    import numpy as np

    class CallsPython(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
        def serve(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
            doubled = tf.numpy_function(lambda a: (2 * a).astype(np.float32), [x], tf.float32)
            return {"y": doubled}

    # In this process the function is still registered, so the run would succeed here; the
    # stand-in and the real server (no kernel at all) load it in a process that does not have it.
    module = CallsPython()
    version = tmp_path / "1"
    tf.saved_model.save(module, str(version), signatures={"serving_default": module.serve})
    model = saved_model_pb2.SavedModel.FromString((version / "saved_model.pb").read_bytes())
    meta_graph = model.meta_graphs[0]
    error = "ValueError: Could not find callback with key=pyfunc_0 in the registry."
    explanation = explain_run_failure(
        error, meta_graph, meta_graph.signature_def["serving_default"]
    )
    assert explanation is not None
    assert explanation.text.startswith("The graph calls Python (PyFunc: tf.py_function, ")


def test_a_tf1_graph_that_calls_python_and_fails_to_load_is_explained_on_theload_row(
    tmp_path: Path,
) -> None:
    # The real server fails the load of such a graph (no kernel to place the node on); the
    # stand-in, a Python process, loads it. The row is built from the server's outcome.
    from fashion.check.readiness import LoadOutcome, load_row
    from fashion.check.version_checks import PreparedVersion

    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None], name="x")
        y = tf.compat.v1.py_func(lambda a: a, [x], tf.float32, name="y")
        version = save_graph(
            tmp_path / "1", graph, {"serving_default": build_signature({"x": x}, {"y": y})}
        )
    model = saved_model_pb2.SavedModel.FromString((version / "saved_model.pb").read_bytes())
    prepared = PreparedVersion(1, version, model.meta_graphs[0])
    failed = LoadOutcome(
        False, 3.0, "INVALID_ARGUMENT: No OpKernel was registered to support Op 'PyFunc'"
    )

    row = load_row(prepared, failed)

    assert row.result.value == "FAIL"
    assert "The graph calls Python (PyFunc: " in row.detail
    assert "Python (" not in load_row(prepared, LoadOutcome(True, 3.0)).detail
