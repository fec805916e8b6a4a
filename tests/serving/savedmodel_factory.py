"""Tiny SavedModels for the model-manager tests, written with TensorFlow's TF1 builder.

The TF1 ``SavedModelBuilder`` writes a model in a few milliseconds (``tf.saved_model.save`` of a
``tf.Module`` needs about a second for tracing), so tests can afford one directory per case. No
Keras anywhere: the stand-in server must never import it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import tensorflow as tf

__all__ = [
    "copy_version",
    "write_affine_model",
    "write_blocking_queue_model",
    "write_broken_version",
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
