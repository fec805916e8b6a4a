"""Tiny SavedModels written with TensorFlow's TF1 builder, for the stand-in's and servers' tests.

The TF1 ``SavedModelBuilder`` writes a model in a few milliseconds (``tf.saved_model.save`` of a
``tf.Module`` needs about a second for tracing), so tests can afford one directory per case. No
Keras anywhere: the stand-in server must never import it. Models that parse ``tf.Example``s are
in :mod:`tests.support.example_models`. Imports TensorFlow.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import tensorflow as tf

__all__ = [
    "DTYPES_MODEL_INPUTS",
    "PREDICT_METHOD",
    "any_shape_placeholder",
    "build_signature",
    "copy_version",
    "save_graph",
    "save_session",
    "write_affine_model",
    "write_blocking_queue_model",
    "write_broken_version",
    "write_dtypes_model",
    "write_edge_signatures_model",
    "write_elementwise_affine_model",
    "write_identity_model",
    "write_matmul_model",
    "write_slow_model",
    "write_two_tensor_model",
    "write_uninitialized_variable_model",
]

#: The method name of a predict signature.
PREDICT_METHOD = "tensorflow/serving/predict"


def save_session(
    path: Path, graph: tf.Graph, session: tf.compat.v1.Session, signatures: dict[str, object]
) -> Path:
    """Write ``graph`` with ``session``'s variables and ``signatures`` under the ``serve`` tag."""
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
            return save_session(path, graph, session, {"serving_default": signature})


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
            return save_session(
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
            return save_session(path, graph, session, {"serving_default": signature})


def write_broken_version(path: Path) -> Path:
    """A version directory without ``saved_model.pb`` (TF Serving's load fails with NOT_FOUND)."""
    (path / "variables").mkdir(parents=True)
    return path


def copy_version(source: Path, target: Path) -> Path:
    """Copy a built version directory into place (building once per module, copying per test)."""
    shutil.copytree(source, target)
    return target


# --- Writers for the process-level server tests (tests/conformance/) --------------------------
# Every placeholder below has an unknown rank: TF Serving does not check request shapes against
# the signature (json_tensor.cc converts the JSON as it stands, and http_rest_api_handler_test.cc
# feeds a [2, 2] tensor to a signature declared [-1, 1]), so these models accept any shape.


def build_signature(
    inputs: dict[str, tf.Tensor], outputs: dict[str, tf.Tensor], method_name: str = PREDICT_METHOD
) -> object:
    """A ``SignatureDef`` from graph tensors, keyed as given."""
    build = tf.compat.v1.saved_model.build_signature_def
    to_info = tf.compat.v1.saved_model.build_tensor_info
    return build(
        inputs={key: to_info(value) for key, value in inputs.items()},
        outputs={key: to_info(value) for key, value in outputs.items()},
        method_name=method_name,
    )


def any_shape_placeholder(dtype: tf.DType, name: str) -> tf.Tensor:
    """A placeholder of unknown rank."""
    return tf.compat.v1.placeholder(dtype, None, name=name)


def save_graph(path: Path, graph: tf.Graph, signatures: dict[str, object]) -> Path:
    """Write a graph without variables (a fresh session) with ``signatures``."""
    with tf.compat.v1.Session(graph=graph) as session:
        return save_session(path, graph, session, signatures)


def write_elementwise_affine_model(
    path: Path, scale: float, offset: float, *, method_name: str = PREDICT_METHOD
) -> Path:
    """``y = scale * x + offset`` elementwise on a float32 ``x`` of any shape (constants only).

    With ``scale=0.5, offset=2`` it is TF Serving's "half plus two"; with ``scale=v, offset=0`` a
    version ``v`` that answers ``[v]`` to ``[1.0]``, which tells versions apart. ``method_name``
    is the signature's (a predict signature unless a test needs another).
    """
    graph = tf.Graph()
    with graph.as_default():
        x = any_shape_placeholder(tf.float32, "x")
        y = tf.identity(scale * x + offset, name="y")
        signature = build_signature({"x": x}, {"y": y}, method_name)
        return save_graph(path, graph, {"serving_default": signature})


def write_identity_model(path: Path) -> Path:
    """``y = x`` for a float32 ``x`` of any shape: the response shows exactly the values sent."""
    graph = tf.Graph()
    with graph.as_default():
        x = any_shape_placeholder(tf.float32, "x")
        y = tf.identity(x, name="y")
        return save_graph(path, graph, {"serving_default": build_signature({"x": x}, {"y": y})})


def write_slow_model(path: Path, sleep_seconds: float) -> Path:
    """``y = x`` after a sleep, with the wall-clock time the run started and finished.

    The sleep is TensorFlow's ``SleepDataset`` (a real sleep, no CPU); ``started`` and
    ``finished`` are ``tf.timestamp()`` before and after it, in seconds since the epoch, so a
    test can tell whether two runs overlapped.
    """
    graph = tf.Graph()
    with graph.as_default():
        x = any_shape_placeholder(tf.float32, "x")
        shapes = [tf.TensorShape(None)]
        started = tf.timestamp(name="started")
        with tf.control_dependencies([started]):
            dataset = tf.raw_ops.TensorDataset(components=[x], output_shapes=shapes)
        dataset = tf.raw_ops.SleepDataset(
            input_dataset=dataset,
            sleep_microseconds=tf.constant(int(sleep_seconds * 1e6), tf.int64),
            output_types=[tf.float32],
            output_shapes=shapes,
        )
        (value,) = tf.raw_ops.DatasetToSingleElement(
            dataset=dataset, output_types=[tf.float32], output_shapes=shapes
        )
        with tf.control_dependencies([value]):
            finished = tf.timestamp(name="finished")
        outputs = {"y": tf.identity(value, name="y"), "started": started, "finished": finished}
        return save_graph(path, graph, {"serving_default": build_signature({"x": x}, outputs)})


def write_matmul_model(path: Path) -> Path:
    """``q = p @ ones([2, 1])`` for a float32 ``p`` declared ``[None, 2]``.

    The declared shape is a promise the session does not check: only the MatMul kernel refuses a
    value it cannot multiply, with its own error naming node ``q``.
    """
    graph = tf.Graph()
    with graph.as_default():
        p = tf.compat.v1.placeholder(tf.float32, [None, 2], name="p")
        q = tf.matmul(p, tf.ones([2, 1]), name="q")
        return save_graph(path, graph, {"serving_default": build_signature({"p": p}, {"q": q})})


def write_two_tensor_model(path: Path) -> Path:
    """Two inputs, two outputs: float32 ``a`` and int32 ``b`` returned under their own names."""
    graph = tf.Graph()
    with graph.as_default():
        a = any_shape_placeholder(tf.float32, "a")
        b = any_shape_placeholder(tf.int32, "b")
        outputs = {"a": tf.identity(a, name="a_out"), "b": tf.identity(b, name="b_out")}
        return save_graph(
            path, graph, {"serving_default": build_signature({"a": a, "b": b}, outputs)}
        )


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
        inputs = {
            name: any_shape_placeholder(dtype, name) for name, dtype in DTYPES_MODEL_INPUTS.items()
        }
        outputs = {name: tf.identity(value, name=f"{name}_out") for name, value in inputs.items()}
        outputs["s_bytes"] = tf.identity(inputs["s"], name="s_bytes_out")
        return save_graph(path, graph, {"serving_default": build_signature(inputs, outputs)})


def write_edge_signatures_model(path: Path) -> Path:
    """Signatures at the edges of the REST codec, one per case.

    - ``serving_default``: no inputs, one constant output ``c``;
    - ``no_outputs``: input ``x``, no outputs;
    - ``scalar_output``: ``total = sum(x)``, a rank-0 output;
    - ``uneven_outputs``: ``y = x`` and ``z = concat(x, x)`` (first dimensions n and 2n);
    - ``half_input``: a float16 input ``h`` (JSON cannot be converted to it);
    - ``half_output``: ``h = float16(x)`` (cannot be written as JSON);
    - ``empty_output``: ``y = x[:0]``, an output whose first dimension is 0;
    - ``variant_output``: ``list``, a TensorList made from ``x`` (a rank-0 ``DT_VARIANT``);
    - ``strings``: string input ``text`` echoed as ``text`` and as ``text_bytes``.
    """
    graph = tf.Graph()
    with graph.as_default():
        constant = tf.constant([1.0], name="c")
        x = any_shape_placeholder(tf.float32, "x")
        total = tf.reduce_sum(x, name="total")
        y = tf.identity(x, name="y")
        z = tf.concat([x, x], axis=0, name="z")
        h_in = any_shape_placeholder(tf.float16, "h_in")
        h_as_float = tf.cast(h_in, tf.float32, name="h_as_float")
        h_out = tf.cast(x, tf.float16, name="h_out")
        emptied = tf.identity(x[:0], name="emptied")
        listed = tf.raw_ops.TensorListFromTensor(
            tensor=x, element_shape=tf.constant(-1, tf.int32), name="listed"
        )
        text = any_shape_placeholder(tf.string, "text")
        signatures = {
            "serving_default": build_signature({}, {"c": constant}),
            "no_outputs": build_signature({"x": x}, {}),
            "scalar_output": build_signature({"x": x}, {"total": total}),
            "uneven_outputs": build_signature({"x": x}, {"y": y, "z": z}),
            "half_input": build_signature({"h": h_in}, {"y": h_as_float}),
            "half_output": build_signature({"x": x}, {"h": h_out}),
            "empty_output": build_signature({"x": x}, {"y": emptied}),
            "variant_output": build_signature({"x": x}, {"list": listed}),
            "strings": build_signature(
                {"text": text},
                {
                    "text": tf.identity(text, name="text_out"),
                    "text_bytes": tf.identity(text, name="text_bytes_out"),
                },
            ),
        }
        return save_graph(path, graph, signatures)
