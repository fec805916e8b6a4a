"""SavedModels that parse serialised ``tf.Example``s: classify/regress probes and TF Serving's own
test models (``half_plus_two``, ``half_plus_three``), built with the TF1 builder by our own code.

Imports TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2

from tests.support.savedmodels import (
    PREDICT_METHOD,
    any_shape_placeholder,
    build_signature,
    save_graph,
    save_session,
)

__all__ = [
    "CLASSIFY_METHOD",
    "REGRESS_METHOD",
    "write_example_parser_model",
    "write_half_plus_three_model",
    "write_half_plus_two_model",
]


#: The method names of classify and regress signatures.
CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"


def _parse_float_features(
    serialized: tf.Tensor, defaults: dict[str, list[float]]
) -> list[tf.Tensor]:
    """A v1 ``ParseExample`` op as TF Serving's testdata builds it: one float feature of shape
    ``[1]`` per key, with its default (required where the default is empty); their tensors."""
    return tf.raw_ops.ParseExample(
        serialized=serialized,
        names=tf.constant([], tf.string),
        sparse_keys=[],
        dense_keys=[tf.constant(key) for key in defaults],
        dense_defaults=[tf.constant(default, tf.float32) for default in defaults.values()],
        sparse_types=[],
        dense_shapes=[[1]] * len(defaults),
    ).dense_values


def _save_initialized(path: Path, graph: tf.Graph, signatures: dict[str, object]) -> Path:
    """Save ``graph`` (the default graph) with its variables at their initial values."""
    with tf.compat.v1.Session(graph=graph) as session:
        session.run(tf.compat.v1.global_variables_initializer())
        return save_session(path, graph, session, signatures)


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
        plain_x = any_shape_placeholder(tf.float32, "plain_x")
        plain_y = tf.identity(plain_x, name="plain_y")
        classify, regress = CLASSIFY_METHOD, REGRESS_METHOD
        signatures = {
            "serving_default": build_signature(
                {"inputs": examples}, {"classes": classes, "scores": scores}, classify
            ),
            "classify_scores": build_signature(
                {"inputs": examples}, {"scores": half_plus_two}, classify
            ),
            "regress_x": build_signature({"inputs": examples}, {"outputs": half_plus_two}, regress),
            "three_outputs": build_signature(
                {"inputs": examples},
                {"classes": classes, "scores": scores, "extra": half_plus_two},
                classify,
            ),
            "inputs_to_y": build_signature({"inputs": examples}, {"y": half_plus_two}),
            "predict_x": build_signature({"x": plain_x}, {"y": plain_y}),
            "two_inputs": build_signature(
                {"inputs": examples, "x": plain_x}, {"scores": scores}, classify
            ),
            "regress_wide": build_signature({"inputs": examples}, {"outputs": scores}, regress),
            "regress_doubled": build_signature(
                {"inputs": examples}, {"outputs": doubled_outputs}, regress
            ),
            "classify_flat": build_signature(
                {"inputs": examples}, {"scores": flat_scores}, classify
            ),
            "classify_doubled": build_signature(
                {"inputs": examples}, {"scores": doubled_scores}, classify
            ),
        }
        return save_graph(path, graph, signatures)


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
        parsed_x, parsed_x2 = _parse_float_features(serialized, {"x": [], "x2": [0.0]})
        x = tf.identity(parsed_x, name="x")
        x2 = tf.identity(parsed_x2, name="x2")
        y = tf.identity(a * x + b, name="y")
        y2 = tf.identity(a * x + c, name="y2")
        y3 = tf.identity(a * x2 + c, name="y3")
        classify, regress = CLASSIFY_METHOD, REGRESS_METHOD
        signatures = {
            "serving_default": build_signature({"x": x}, {"y": y}),
            "regress_x_to_y": build_signature({"inputs": serialized}, {"outputs": y}, regress),
            "regress_x_to_y2": build_signature({"inputs": serialized}, {"outputs": y2}, regress),
            "regress_x2_to_y3": build_signature({"inputs": x2}, {"outputs": y3}, regress),
            "classify_x_to_y": build_signature({"inputs": serialized}, {"scores": y}, classify),
        }
        if classify_x2_to_y3:
            signatures["classify_x2_to_y3"] = build_signature(
                {"inputs": x2}, {"scores": y3}, classify
            )
        return _save_initialized(path, graph, signatures)


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
        (parsed_x,) = _parse_float_features(serialized, {"x": []})
        x = tf.identity(parsed_x, name="x")
        y = tf.add(a * x, b, name="y")
        outputs = tf.identity(y, name="Identity")

        def info(tensor: tf.Tensor) -> meta_graph_pb2.TensorInfo:
            return meta_graph_pb2.TensorInfo(name=tensor.name, dtype=types_pb2.DT_FLOAT)

        regress = REGRESS_METHOD
        signatures = {
            "serving_default": meta_graph_pb2.SignatureDef(
                inputs={"x": info(x)},
                outputs={"y": info(y)},
                method_name=PREDICT_METHOD,
            ),
            regress: meta_graph_pb2.SignatureDef(
                inputs={"inputs": info(serialized)},
                outputs={"outputs": info(outputs)},
                method_name=regress,
            ),
        }
        return _save_initialized(path, graph, signatures)
