"""Run a SavedModel the way TensorFlow Serving does, in a process that never imports Keras.

Usage: python session_loader_probe.py EXPORT_DIR INPUT.npy OUTPUT.npz

The process imports only numpy and TensorFlow, never this project's Keras code: the model must be
restorable from the SavedModel alone, as in the C++ server. (TensorFlow >= 2.16 itself imports
parts of ``keras.src`` on ``import tensorflow``; nothing of it is used here.)

Loads EXPORT_DIR with the TF1-style session loader (a fresh graph and session, MetaGraph picked by
the ``serve`` tag), runs ``serving_default`` on the array in INPUT.npy by tensor names and saves
every output, plus the signature's input/output keys, into OUTPUT.npz. Exit status 3 when loading
fails, 4 when running fails, with the error on stderr.
"""

from __future__ import annotations

import sys

import numpy as np
import tensorflow as tf


def main(export_dir: str, input_path: str, output_path: str) -> int:
    """Load, run, save; see the module docstring."""
    graph = tf.Graph()
    with tf.compat.v1.Session(graph=graph) as session:
        try:
            meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], export_dir)
        except Exception as exc:
            print(f"LOAD FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 3
        signature = meta_graph.signature_def["serving_default"]
        (input_key,) = signature.inputs
        fetches = {key: info.name for key, info in signature.outputs.items()}
        try:
            results = session.run(fetches, {signature.inputs[input_key].name: np.load(input_path)})
        except tf.errors.OpError as exc:
            print(f"RUN FAILED: {type(exc).__name__}: {exc.message}", file=sys.stderr)
            return 4
    np.savez(
        output_path,
        input_keys=np.array(list(signature.inputs)),
        output_keys=np.array(list(signature.outputs)),
        method_name=np.array(signature.method_name),
        **{f"output_{key}": value for key, value in results.items()},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
