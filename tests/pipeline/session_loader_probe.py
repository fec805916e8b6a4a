"""Run SavedModels the way TensorFlow Serving does, in a process that never imports Keras.

Usage: python session_loader_probe.py EXPORT_DIR INPUT.npy OUTPUT.npz [EXPORT_DIR INPUT.npy
OUTPUT.npz ...]

The process imports only numpy and TensorFlow, never this project's Keras code: the model must be
restorable from the SavedModel alone, as in the C++ server. (TensorFlow >= 2.16 itself imports
parts of ``keras.src`` on ``import tensorflow``; nothing of it is used here.) Several exports share
one process because starting TensorFlow is most of the cost.

Each EXPORT_DIR is loaded with the TF1-style session loader (a fresh graph and session, MetaGraph
picked by the ``serve`` tag) and ``serving_default`` is run on the array in its INPUT.npy by tensor
names. Its OUTPUT.npz holds ``outcome`` ("ok", "load failed" or "run failed"), ``error`` (the
TensorFlow error, or ""), and on success the signature's input/output keys, method name and every
output as ``output_<key>``.
"""

from __future__ import annotations

import sys

import numpy as np
import tensorflow as tf


def probe(export_dir: str, input_path: str, output_path: str) -> None:
    """Load, run and save one export; see the module docstring."""
    graph = tf.Graph()
    with tf.compat.v1.Session(graph=graph) as session:
        try:
            meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], export_dir)
        except Exception as exc:
            np.savez(output_path, outcome="load failed", error=f"{type(exc).__name__}: {exc}")
            return
        signature = meta_graph.signature_def["serving_default"]
        (input_key,) = signature.inputs
        fetches = {key: info.name for key, info in signature.outputs.items()}
        try:
            results = session.run(fetches, {signature.inputs[input_key].name: np.load(input_path)})
        except tf.errors.OpError as exc:
            np.savez(
                output_path, outcome="run failed", error=f"{type(exc).__name__}: {exc.message}"
            )
            return
    np.savez(
        output_path,
        outcome="ok",
        error="",
        input_keys=np.array(list(signature.inputs)),
        output_keys=np.array(list(signature.outputs)),
        method_name=np.array(signature.method_name),
        **{f"output_{key}": value for key, value in results.items()},
    )


def main(arguments: list[str]) -> int:
    """Probe each (export, input, output) triple in turn."""
    if not arguments or len(arguments) % 3:
        print(__doc__, file=sys.stderr)
        return 2
    for start in range(0, len(arguments), 3):
        probe(*arguments[start : start + 3])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
