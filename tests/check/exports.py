"""Exports for the ``fashion check`` tests: Keras models the project's way and the seed's way,
and small TF1 graphs (TensorFlow's TF1 builder, milliseconds each) for everything else.

The suite's writers (:mod:`tests.support.savedmodels`, :mod:`tests.support.example_models`) are
reused; the ones below add what only these tests need: several inputs and outputs of different
dtypes, a signature that lies about its shapes, the warnings' cases, and broken versions.
Imports TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf
from tensorflow.core.framework import tensor_shape_pb2
from tensorflow.core.protobuf import meta_graph_pb2

from tests.support.savedmodels import PREDICT_METHOD, save_session, write_affine_model

__all__ = [
    "corrupt_variables",
    "keras_major_version",
    "write_grpc_only_model",
    "write_half_written_version",
    "write_keras_export",
    "write_lying_model",
    "write_multi_io_model",
    "write_seed_style_keras_export",
    "write_warnings_model",
]


def keras_major_version() -> int:
    """2 on TensorFlow 2.15 (Keras 2), 3 from 2.16."""
    import keras

    return int(keras.__version__.split(".")[0])


def write_keras_export(base: Path, version: int = 1) -> Path:
    """The project's tiny CNN (untrained, seeded) exported the good way: fashion.export."""
    from fashion.export import export_version
    from fashion.model import build

    return export_version(build("tiny", seed=3), base, version)


def write_seed_style_keras_export(base: Path, version: int = 1) -> Path:
    """The same model saved as the seed notebook did: ``tf.saved_model.save(model, path)``."""
    from fashion.model import build

    path = base / str(version)
    tf.saved_model.save(build("tiny", seed=3), str(path))
    return path


def _info(tensor: tf.Tensor, shape: list[int] | None) -> object:
    """A TensorInfo naming ``tensor`` with a *declared* shape (None: unknown rank)."""
    proto = tensor_shape_pb2.TensorShapeProto(unknown_rank=shape is None)
    for size in shape or ():
        proto.dim.add(size=size)
    return meta_graph_pb2.TensorInfo(
        name=tensor.name,
        dtype=tensor.dtype.as_datatype_enum,
        tensor_shape=proto,
    )


def _signature(inputs: dict[str, object], outputs: dict[str, object]) -> object:
    return meta_graph_pb2.SignatureDef(inputs=inputs, outputs=outputs, method_name=PREDICT_METHOD)


def _save(path: Path, graph: tf.Graph, signatures: dict[str, object], init: bool = False) -> Path:
    with tf.compat.v1.Session(graph=graph) as session:
        if init:
            session.run(tf.compat.v1.global_variables_initializer())
        return save_session(path, graph, session, signatures)


def write_multi_io_model(path: Path) -> Path:
    """Three inputs (int32 ``ids`` [-1, 3], string ``text`` [-1], float ``scale`` [-1, 1]) and
    four outputs of four dtypes, with a variable so the checkpoint matters.

    ``weighted = sum(ids * w, axis=1) * scale[:, 0]`` (float, w = [1, 2, 3]),
    ``lengths = strlen(text)`` (int32), ``shouted = upper(text)`` (string),
    ``doubled = 2 * ids`` (int32 [-1, 3]).
    """
    graph = tf.Graph()
    with graph.as_default():
        ids = tf.compat.v1.placeholder(tf.int32, [None, 3], name="ids")
        text = tf.compat.v1.placeholder(tf.string, [None], name="text")
        scale = tf.compat.v1.placeholder(tf.float32, [None, 1], name="scale")
        weights = tf.compat.v1.get_variable(
            "w", initializer=tf.constant([1.0, 2.0, 3.0]), use_resource=True
        )
        weighted = tf.identity(
            tf.reduce_sum(tf.cast(ids, tf.float32) * weights, axis=1) * scale[:, 0],
            name="weighted",
        )
        lengths = tf.strings.length(text, name="lengths")
        shouted = tf.strings.upper(text, name="shouted")
        doubled = tf.identity(ids * 2, name="doubled")
        signature = _signature(
            {"ids": _info(ids, [-1, 3]), "text": _info(text, [-1]), "scale": _info(scale, [-1, 1])},
            {
                "weighted": _info(weighted, [-1]),
                "lengths": _info(lengths, [-1]),
                "shouted": _info(shouted, [-1]),
                "doubled": _info(doubled, [-1, 3]),
            },
        )
        return _save(path, graph, {"serving_default": signature}, init=True)


def write_grpc_only_model(path: Path) -> Path:
    """Signatures only gRPC can call: inputs TF Serving's JSON has no conversion for, and none.

    - ``serving_default``: inputs ``h`` half [-1, 2], ``b`` bfloat16 [-1, 2], ``c`` complex64
      [-1] and ``u`` uint16 [-1, 2]; outputs ``h2 = 2 h`` (half), ``b`` itself (bfloat16),
      ``b32 = float(b)``, ``magnitude = |c|`` (float), ``conjugate = conj(c)`` (complex64),
      ``u`` itself (uint16) and ``u32 = int(u) + 1`` (int32);
    - ``constant``: no inputs; ``values = [1.5, -2.0]`` (REST cannot call it: 'Failed to get
      input map for signature');
    - ``tensor_list``: ``x`` float [-1] in, ``list``, a TensorList of it, out: a ``DT_VARIANT``
      that gRPC answers as ``variant_val`` and REST cannot write as JSON.
    """
    graph = tf.Graph()
    with graph.as_default():
        h = tf.compat.v1.placeholder(tf.float16, [None, 2], name="h")
        b = tf.compat.v1.placeholder(tf.bfloat16, [None, 2], name="b")
        c = tf.compat.v1.placeholder(tf.complex64, [None], name="c")
        u = tf.compat.v1.placeholder(tf.uint16, [None, 2], name="u")
        h2 = tf.identity(h * tf.constant(2.0, tf.float16), name="h2")
        b_out = tf.identity(b, name="b_out")
        b32 = tf.cast(b, tf.float32, name="b32")
        magnitude = tf.abs(c, name="magnitude")
        conjugate = tf.math.conj(c, name="conjugate")
        u_out = tf.identity(u, name="u_out")
        u32 = tf.identity(tf.cast(u, tf.int32) + 1, name="u32")
        values = tf.constant([1.5, -2.0], name="values")
        x = tf.compat.v1.placeholder(tf.float32, [None], name="x")
        listed = tf.raw_ops.TensorListFromTensor(
            tensor=x, element_shape=tf.constant([], tf.int32), name="listed"
        )
        signatures = {
            "serving_default": _signature(
                {
                    "h": _info(h, [-1, 2]),
                    "b": _info(b, [-1, 2]),
                    "c": _info(c, [-1]),
                    "u": _info(u, [-1, 2]),
                },
                {
                    "h2": _info(h2, [-1, 2]),
                    "b": _info(b_out, [-1, 2]),
                    "b32": _info(b32, [-1, 2]),
                    "magnitude": _info(magnitude, [-1]),
                    "conjugate": _info(conjugate, [-1]),
                    "u": _info(u_out, [-1, 2]),
                    "u32": _info(u32, [-1, 2]),
                },
            ),
            "constant": _signature({}, {"values": _info(values, [2])}),
            "tensor_list": _signature({"x": _info(x, [-1])}, {"list": _info(listed, [])}),
        }
        return _save(path, graph, signatures)


def write_lying_model(path: Path) -> Path:
    """Signatures whose declared shapes the graph does not keep.

    - ``serving_default`` declares ``x`` as [-1, 3], but the graph multiplies it by a [4, 2]
      matrix: a value of the declared shape fails in the session;
    - ``wide`` declares ``y`` as [-1, 5], but the graph returns [n, 2].
    """
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, None, name="x")
        product = tf.matmul(x, tf.ones([4, 2]), name="product")
        z = tf.compat.v1.placeholder(tf.float32, None, name="z")
        narrow = tf.identity(z * 2.0, name="narrow")
        signatures = {
            "serving_default": _signature(
                {"x": _info(x, [-1, 3])}, {"product": _info(product, [-1, 2])}
            ),
            "wide": _signature({"z": _info(z, [-1, 2])}, {"y": _info(narrow, [-1, 5])}),
        }
        return _save(path, graph, signatures)


def write_warnings_model(path: Path) -> Path:
    """A model that serves, with everything the checks only warn about.

    Two signatures, no ``serving_default``:

    - ``predict``: input ``keras_tensor`` float [-1, 2] (Keras 3's ``model.export`` name),
      outputs ``y = 2 x`` [-1, 2] and ``total = sum(x)``, a scalar with no batch dimension;
    - ``unstable``: input ``x`` float [-1, 2], outputs ``noisy = x + uniform noise``, ``calls``
      (a counter every run increments, one per row) and the deterministic ``doubled = 2 x``.
    """
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 2], name="keras_tensor")
        y = tf.identity(2.0 * x, name="y")
        total = tf.reduce_sum(x, name="total")
        signature = _signature(
            {"keras_tensor": _info(x, [-1, 2])}, {"y": _info(y, [-1, 2]), "total": _info(total, [])}
        )
        u = tf.compat.v1.placeholder(tf.float32, [None, 2], name="x")
        noisy = tf.identity(u + tf.random.uniform(tf.shape(u)), name="noisy")
        counter = tf.compat.v1.Variable(0, dtype=tf.int64, name="counter")
        calls = tf.fill(tf.shape(u, out_type=tf.int64)[:1], counter.assign_add(1), name="calls")
        doubled = tf.identity(2.0 * u, name="doubled")
        unstable = _signature(
            {"x": _info(u, [-1, 2])},
            {
                "noisy": _info(noisy, [-1, 2]),
                "calls": _info(calls, [-1]),
                "doubled": _info(doubled, [-1, 2]),
            },
        )
        return _save(path, graph, {"predict": signature, "unstable": unstable}, init=True)


def write_half_written_version(path: Path) -> Path:
    """What an export interrupted after its variables leaves: ``variables/`` and nothing else."""
    write_affine_model(path, 2.0)
    (path / "saved_model.pb").unlink()
    return path


def corrupt_variables(version_dir: Path) -> Path:
    """Cut every variables data shard to half its size (the index still lists the full tensors)."""
    for shard in (version_dir / "variables").glob("variables.data-*"):
        data = shard.read_bytes()
        shard.write_bytes(data[: len(data) // 2])
    return version_dir
