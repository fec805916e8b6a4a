"""A first screen without TensorFlow's C++ start-up chatter, for the commands people watch.

Importing TensorFlow prints lines such as ``oneDNN custom operations are on`` and, on a machine
without a GPU, ``E0000 ... failed call to cuInit``: they come from C++ before Python's logging or
``TF_CPP_MIN_LOG_LEVEL`` can act (absl writes them before its ``InitializeLog``), and they read
like failures. ``fashion demo`` and ``fashion check`` import TensorFlow with the process's
stderr pointed at ``/dev/null`` for the import and the device discovery only; Python errors are
raised as usual, and Keras' progress bars and everything later are untouched. A user who set
``TF_CPP_MIN_LOG_LEVEL`` gets TensorFlow's own behaviour.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

__all__ = ["import_tensorflow_quietly"]


@contextlib.contextmanager
def _stderr_to_devnull() -> Iterator[None]:
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and discover its devices without C++ chatter, unless the user chose.

    Does nothing when ``TF_CPP_MIN_LOG_LEVEL`` is already set (the user's choice), or when
    TensorFlow is already imported (its chatter is past). Otherwise also sets the variable to 2,
    so that processes started from here (the model server) are quiet too.
    """
    import sys

    if "TF_CPP_MIN_LOG_LEVEL" in os.environ or "tensorflow" in sys.modules:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    with _stderr_to_devnull():
        import tensorflow as tf

        tf.config.list_physical_devices()
        _run_a_first_graph(tf)


def _run_a_first_graph(tf: Any) -> None:
    """Run one tiny graph, so that the lines TensorFlow logs on a process' first graph run go
    to ``/dev/null`` too: 2.18 logs ``MLIR V1 optimization pass is not enabled`` there, through
    absl before its ``InitializeLog``, which ``TF_CPP_MIN_LOG_LEVEL`` does not filter."""
    graph = tf.Graph()
    with graph.as_default():
        fed = tf.compat.v1.placeholder(tf.float32)
        doubled = fed * 2.0
    with tf.compat.v1.Session(graph=graph) as session:
        session.run(doubled, {fed: 1.0})
