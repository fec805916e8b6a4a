"""Tiny SavedModels for the model-manager tests, written with TensorFlow's TF1 builder.

The TF1 ``SavedModelBuilder`` writes a model in a few milliseconds (``tf.saved_model.save`` of a
``tf.Module`` needs about a second for tracing), so tests can afford one directory per case. No
Keras anywhere: the stand-in server must never import it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import tensorflow as tf
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2

__all__ = [
    "DTYPES_MODEL_INPUTS",
    "copy_version",
    "write_affine_model",
    "write_blocking_queue_model",
    "write_broken_version",
    "write_dtypes_model",
    "write_edge_signatures_model",
    "write_elementwise_affine_model",
    "write_example_parser_model",
    "write_half_plus_three_model",
    "write_half_plus_two_model",
    "write_identity_model",
    "write_matmul_model",
    "write_two_tensor_model",
    "write_uninitialized_variable_model",
]


def _save(
    path: Path, graph: tf.Graph, session: tf.compat.v1.Session, signatures: dict[str, object]
) -> Path:
    builder = tf.compat.v1.saved_model.Builder(str(path))
    builder.add_meta_graph_and_variables(session, ["serve"], signature_def_map=signatures)
    builder.save()
    return path


def write_affine_model(path: Path, scale: float, offset: float = 2.0) -> Path:
    """``y = scale * x + offset`` with both constants stored as variables (restored on load).

    Args:
        path: the version directory to create (must not exist).
        scale: multiplier, e.g. 0.5 for "half plus two", 3.0 to tell a second version apart.
        offset: addend.

    Returns:
        ``path``.
    """
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None], name="x")
        a = tf.compat.v1.get_variable("a", initializer=scale, use_resource=True)
        b = tf.compat.v1.get_variable("b", initializer=offset, use_resource=True)
        y = tf.identity(a * x + b, name="y")
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            signature = tf.compat.v1.saved_model.predict_signature_def({"x": x}, {"y": y})
            return _save(path, graph, session, {"serving_default": signature})


def write_blocking_queue_model(path: Path) -> Path:
    """Two signatures around a FIFO queue: ``serving_default`` blocks until ``push`` runs.

    ``serving_default``: ``y = x + dequeue()``; ``push``: enqueues ``x`` (a scalar) and returns it.
    A run of ``serving_default`` therefore waits for a concurrent ``push``, or for its deadline.
    """
    graph = tf.Graph()
    with graph.as_default():
        queue = tf.queue.FIFOQueue(10, [tf.float32], shapes=[[]], shared_name="q")
        x = tf.compat.v1.placeholder(tf.float32, [None], name="x")
        y = tf.identity(x + queue.dequeue(), name="y")
        value = tf.compat.v1.placeholder(tf.float32, [], name="value")
        with tf.control_dependencies([queue.enqueue([value])]):
            pushed = tf.identity(value, name="pushed")
        with tf.compat.v1.Session(graph=graph) as session:
            predict = tf.compat.v1.saved_model.predict_signature_def
            return _save(
                path,
                graph,
                session,
                {
                    "serving_default": predict({"x": x}, {"y": y}),
                    "push": predict({"value": value}, {"pushed": pushed}),
                },
            )


def write_uninitialized_variable_model(path: Path) -> Path:
    """Reads a resource variable ``dense/bias`` that nothing creates or restores.

    Loads fine and fails at run time with TensorFlow's ``Could not find variable dense/bias``, the
    way Keras 3 models exported with ``tf.saved_model.save`` fail in TF Serving.
    """
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None], name="x")
        # One real, restored variable, so the resource container exists as in a Keras model.
        scale = tf.compat.v1.get_variable("scale", initializer=1.0, use_resource=True)
        handle = tf.raw_ops.VarHandleOp(
            dtype=tf.float32, shape=[], shared_name="dense/bias", name="bias_handle"
        )
        bias = tf.raw_ops.ReadVariableOp(resource=handle, dtype=tf.float32, name="read_bias")
        y = tf.identity(scale * x + bias, name="y")
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(scale.initializer)
            signature = tf.compat.v1.saved_model.predict_signature_def({"x": x}, {"y": y})
            return _save(path, graph, session, {"serving_default": signature})


def write_broken_version(path: Path) -> Path:
    """A version directory without ``saved_model.pb`` (TF Serving's load fails with NOT_FOUND)."""
    (path / "variables").mkdir(parents=True)
    return path


def copy_version(source: Path, target: Path) -> Path:
    """Copy a built version directory into place (building once per module, copying per test)."""
    shutil.copytree(source, target)
    return target


# --- Writers for the process-level server tests (tests/server/) -------------------------------
# Every placeholder below has an unknown rank: TF Serving does not check request shapes against
# the signature (spec 7.3), so these models accept whatever shape a test sends.

_PREDICT = "tensorflow/serving/predict"


def _signature(
    inputs: dict[str, tf.Tensor], outputs: dict[str, tf.Tensor], method_name: str = _PREDICT
) -> object:
    build = tf.compat.v1.saved_model.build_signature_def
    to_info = tf.compat.v1.saved_model.build_tensor_info
    return build(
        inputs={key: to_info(value) for key, value in inputs.items()},
        outputs={key: to_info(value) for key, value in outputs.items()},
        method_name=method_name,
    )


def _placeholder(dtype: tf.DType, name: str) -> tf.Tensor:
    return tf.compat.v1.placeholder(dtype, None, name=name)


def _save_graph(path: Path, graph: tf.Graph, signatures: dict[str, object]) -> Path:
    with tf.compat.v1.Session(graph=graph) as session:
        return _save(path, graph, session, signatures)


def write_elementwise_affine_model(path: Path, scale: float, offset: float) -> Path:
    """``y = scale * x + offset`` elementwise on a float32 ``x`` of any shape (constants only).

    With ``scale=0.5, offset=2`` it is TF Serving's "half plus two"; with ``scale=v, offset=0`` a
    version ``v`` that answers ``[v]`` to ``[1.0]``, which tells versions apart.
    """
    graph = tf.Graph()
    with graph.as_default():
        x = _placeholder(tf.float32, "x")
        y = tf.identity(scale * x + offset, name="y")
        return _save_graph(path, graph, {"serving_default": _signature({"x": x}, {"y": y})})


def write_identity_model(path: Path) -> Path:
    """``y = x`` for a float32 ``x`` of any shape: the response shows exactly the values sent."""
    graph = tf.Graph()
    with graph.as_default():
        x = _placeholder(tf.float32, "x")
        y = tf.identity(x, name="y")
        return _save_graph(path, graph, {"serving_default": _signature({"x": x}, {"y": y})})


def write_matmul_model(path: Path) -> Path:
    """``q = p @ ones([2, 1])`` for a float32 ``p`` declared ``[None, 2]``.

    The declared shape is a promise the session does not check: only the MatMul kernel refuses a
    value it cannot multiply, with its own error naming node ``q``.
    """
    graph = tf.Graph()
    with graph.as_default():
        p = tf.compat.v1.placeholder(tf.float32, [None, 2], name="p")
        q = tf.matmul(p, tf.ones([2, 1]), name="q")
        return _save_graph(path, graph, {"serving_default": _signature({"p": p}, {"q": q})})


def write_two_tensor_model(path: Path) -> Path:
    """Two inputs, two outputs: float32 ``a`` and int32 ``b`` returned under their own names."""
    graph = tf.Graph()
    with graph.as_default():
        a = _placeholder(tf.float32, "a")
        b = _placeholder(tf.int32, "b")
        outputs = {"a": tf.identity(a, name="a_out"), "b": tf.identity(b, name="b_out")}
        return _save_graph(path, graph, {"serving_default": _signature({"a": a, "b": b}, outputs)})


#: Inputs of :func:`write_dtypes_model`: name → dtype; each output of the same name echoes it.
DTYPES_MODEL_INPUTS: dict[str, tf.DType] = {
    "f": tf.float32,
    "d": tf.float64,
    "i32": tf.int32,
    "i64": tf.int64,
    "u32": tf.uint32,
    "u64": tf.uint64,
    "b": tf.bool,
    "s": tf.string,
}


def write_dtypes_model(path: Path) -> Path:
    """One input per JSON-convertible dtype (:data:`DTYPES_MODEL_INPUTS`), each echoed back.

    The string input is also returned as ``s_bytes``, which TF Serving writes as ``{"b64": ...}``.
    """
    graph = tf.Graph()
    with graph.as_default():
        inputs = {name: _placeholder(dtype, name) for name, dtype in DTYPES_MODEL_INPUTS.items()}
        outputs = {name: tf.identity(value, name=f"{name}_out") for name, value in inputs.items()}
        outputs["s_bytes"] = tf.identity(inputs["s"], name="s_bytes_out")
        return _save_graph(path, graph, {"serving_default": _signature(inputs, outputs)})


def write_edge_signatures_model(path: Path) -> Path:
    """Signatures at the edges of the REST codec, one per case.

    - ``serving_default``: no inputs, one constant output ``c``;
    - ``no_outputs``: input ``x``, no outputs;
    - ``scalar_output``: ``total = sum(x)``, a rank-0 output;
    - ``uneven_outputs``: ``y = x`` and ``z = concat(x, x)`` (first dimensions n and 2n);
    - ``half_input``: a float16 input ``h`` (JSON cannot be converted to it);
    - ``half_output``: ``h = float16(x)`` (cannot be written as JSON);
    - ``empty_output``: ``y = x[:0]``, an output whose first dimension is 0;
    - ``strings``: string input ``text`` echoed as ``text`` and as ``text_bytes``.
    """
    graph = tf.Graph()
    with graph.as_default():
        constant = tf.constant([1.0], name="c")
        x = _placeholder(tf.float32, "x")
        total = tf.reduce_sum(x, name="total")
        y = tf.identity(x, name="y")
        z = tf.concat([x, x], axis=0, name="z")
        h_in = _placeholder(tf.float16, "h_in")
        h_as_float = tf.cast(h_in, tf.float32, name="h_as_float")
        h_out = tf.cast(x, tf.float16, name="h_out")
        emptied = tf.identity(x[:0], name="emptied")
        text = _placeholder(tf.string, "text")
        signatures = {
            "serving_default": _signature({}, {"c": constant}),
            "no_outputs": _signature({"x": x}, {}),
            "scalar_output": _signature({"x": x}, {"total": total}),
            "uneven_outputs": _signature({"x": x}, {"y": y, "z": z}),
            "half_input": _signature({"h": h_in}, {"y": h_as_float}),
            "half_output": _signature({"x": x}, {"h": h_out}),
            "empty_output": _signature({"x": x}, {"y": emptied}),
            "strings": _signature(
                {"text": text},
                {
                    "text": tf.identity(text, name="text_out"),
                    "text_bytes": tf.identity(text, name="text_bytes_out"),
                },
            ),
        }
        return _save_graph(path, graph, signatures)


def write_example_parser_model(path: Path) -> Path:
    """Parses serialised ``tf.Example``s with a required float feature ``x`` (shape [1]).

    Signatures (input key ``inputs`` = the serialised examples, unless stated otherwise):

    - ``serving_default``: classify, ``classes = [["neg", "pos"]] * n``, ``scores = [x, 2x]``;
    - ``classify_scores``: classify with ``scores = 0.5 x + 2`` only (labels are ``""``);
    - ``regress_x``: regress, ``outputs = 0.5 x + 2``;
    - ``three_outputs``: ``classes``, ``scores`` and ``extra``;
    - ``inputs_to_y``: the one output is named ``y``;
    - ``predict_x``: input ``x`` (float), output ``y`` (not an example signature at all);
    - ``two_inputs``: inputs ``inputs`` and ``x``;
    - ``regress_wide``, ``regress_doubled``, ``classify_flat``, ``classify_doubled``: outputs
      of the wrong shape for the checks after the run (shapes [n, 2], [2n, 1], [n], [2n, 2]).
    """
    graph = tf.Graph()
    with graph.as_default():
        examples = tf.compat.v1.placeholder(tf.string, [None], name="examples")
        x = tf.io.parse_example(examples, {"x": tf.io.FixedLenFeature([1], tf.float32)})["x"]
        scores = tf.concat([x, 2.0 * x], axis=1, name="scores")
        classes = tf.tile(
            tf.constant([["neg", "pos"]]), tf.stack([tf.shape(x)[0], 1]), name="classes"
        )
        half_plus_two = tf.identity(0.5 * x + 2.0, name="half_plus_two")
        doubled_scores = tf.concat([scores, scores], axis=0, name="doubled_scores")
        doubled_outputs = tf.concat([half_plus_two, half_plus_two], axis=0, name="doubled_hp2")
        flat_scores = tf.reshape(x, [-1], name="flat_scores")
        plain_x = _placeholder(tf.float32, "plain_x")
        plain_y = tf.identity(plain_x, name="plain_y")
        classify, regress = "tensorflow/serving/classify", "tensorflow/serving/regress"
        signatures = {
            "serving_default": _signature(
                {"inputs": examples}, {"classes": classes, "scores": scores}, classify
            ),
            "classify_scores": _signature(
                {"inputs": examples}, {"scores": half_plus_two}, classify
            ),
            "regress_x": _signature({"inputs": examples}, {"outputs": half_plus_two}, regress),
            "three_outputs": _signature(
                {"inputs": examples},
                {"classes": classes, "scores": scores, "extra": half_plus_two},
                classify,
            ),
            "inputs_to_y": _signature({"inputs": examples}, {"y": half_plus_two}),
            "predict_x": _signature({"x": plain_x}, {"y": plain_y}),
            "two_inputs": _signature(
                {"inputs": examples, "x": plain_x}, {"scores": scores}, classify
            ),
            "regress_wide": _signature({"inputs": examples}, {"outputs": scores}, regress),
            "regress_doubled": _signature(
                {"inputs": examples}, {"outputs": doubled_outputs}, regress
            ),
            "classify_flat": _signature({"inputs": examples}, {"scores": flat_scores}, classify),
            "classify_doubled": _signature(
                {"inputs": examples}, {"scores": doubled_scores}, classify
            ),
        }
        return _save_graph(path, graph, signatures)


def write_half_plus_two_model(
    path: Path, *, offset: float = 2.0, classify_x2_to_y3: bool = True
) -> Path:
    """A model built like TF Serving's own test model ``half_plus_two``, with our own code.

    The structure is the one ``saved_model_half_plus_two.py`` (TF Serving's testdata) describes,
    built here with the TF1 builder: a string placeholder ``tf_example`` of unknown rank, parsed
    by a v1 ``ParseExample`` op into a required float feature ``x`` and a feature ``x2``
    (default 0.0), both ``[1]`` per example; ``x`` and ``x2`` are Identity ops of those outputs,
    so they are declared ``[-1, 1]`` but are not placeholders. With variables a = 0.5, b =
    ``offset``, c = 3: ``y = a x + b``, ``y2 = a x + c``, ``y3 = a x2 + c``.

    Signatures: ``serving_default`` (predict, ``x`` -> ``y``), ``regress_x_to_y``,
    ``regress_x_to_y2`` and ``classify_x_to_y`` (``inputs`` = ``tf_example``, outputs ``y``,
    ``y2``, scores ``y``), ``regress_x2_to_y3`` (``inputs`` = ``x2`` -> ``y3``) and, unless
    ``classify_x2_to_y3`` is false, ``classify_x2_to_y3`` (``inputs`` = ``x2`` -> scores ``y3``):
    the six of ``saved_model_half_plus_two_2_versions``, or the five of
    ``saved_model_half_plus_two_cpu``. ``offset=3.0`` gives ``half_plus_three``'s arithmetic.
    """
    graph = tf.Graph()
    with graph.as_default():
        a = tf.compat.v1.Variable(0.5, name="a")
        b = tf.compat.v1.Variable(offset, name="b")
        c = tf.compat.v1.Variable(3.0, name="c")
        serialized = tf.compat.v1.placeholder(tf.string, None, name="tf_example")
        parsed = tf.raw_ops.ParseExample(
            serialized=serialized,
            names=tf.constant([], tf.string),
            sparse_keys=[],
            dense_keys=[tf.constant("x"), tf.constant("x2")],
            dense_defaults=[tf.constant([], tf.float32), tf.constant([0.0], tf.float32)],
            sparse_types=[],
            dense_shapes=[[1], [1]],
        ).dense_values
        x = tf.identity(parsed[0], name="x")
        x2 = tf.identity(parsed[1], name="x2")
        y = tf.identity(a * x + b, name="y")
        y2 = tf.identity(a * x + c, name="y2")
        y3 = tf.identity(a * x2 + c, name="y3")
        classify, regress = "tensorflow/serving/classify", "tensorflow/serving/regress"
        signatures = {
            "serving_default": _signature({"x": x}, {"y": y}),
            "regress_x_to_y": _signature({"inputs": serialized}, {"outputs": y}, regress),
            "regress_x_to_y2": _signature({"inputs": serialized}, {"outputs": y2}, regress),
            "regress_x2_to_y3": _signature({"inputs": x2}, {"outputs": y3}, regress),
            "classify_x_to_y": _signature({"inputs": serialized}, {"scores": y}, classify),
        }
        if classify_x2_to_y3:
            signatures["classify_x2_to_y3"] = _signature({"inputs": x2}, {"scores": y3}, classify)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            return _save(path, graph, session, signatures)


def write_half_plus_three_model(path: Path) -> Path:
    """A model built like TF Serving's ``saved_model_half_plus_three`` (``api_rest.md``'s example).

    ``y = 0.5 x + 3`` for a required float feature ``x`` parsed from ``tf_example``. Its
    signatures declare no shapes, and the regression signature's key is the method name itself,
    ``tensorflow/serving/regress``, with its ``inputs`` declared DT_FLOAT although ``tf_example``
    is a string placeholder: TF Serving never checks a declared dtype before the run.
    """
    graph = tf.Graph()
    with graph.as_default():
        a = tf.compat.v1.Variable(0.5, name="a")
        b = tf.compat.v1.Variable(3.0, name="b")
        serialized = tf.compat.v1.placeholder(tf.string, None, name="tf_example")
        parsed = tf.raw_ops.ParseExample(
            serialized=serialized,
            names=tf.constant([], tf.string),
            sparse_keys=[],
            dense_keys=[tf.constant("x")],
            dense_defaults=[tf.constant([], tf.float32)],
            sparse_types=[],
            dense_shapes=[[1]],
        ).dense_values
        x = tf.identity(parsed[0], name="x")
        y = tf.add(a * x, b, name="y")
        outputs = tf.identity(y, name="Identity")

        def info(tensor: tf.Tensor) -> meta_graph_pb2.TensorInfo:
            return meta_graph_pb2.TensorInfo(name=tensor.name, dtype=types_pb2.DT_FLOAT)

        regress = "tensorflow/serving/regress"
        signatures = {
            "serving_default": meta_graph_pb2.SignatureDef(
                inputs={"x": info(x)},
                outputs={"y": info(y)},
                method_name="tensorflow/serving/predict",
            ),
            regress: meta_graph_pb2.SignatureDef(
                inputs={"inputs": info(serialized)},
                outputs={"outputs": info(outputs)},
                method_name=regress,
            ),
        }
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            return _save(path, graph, session, signatures)
