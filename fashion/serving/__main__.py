"""``python -m fashion.serving`` and the ``fashion-model-server`` command."""

from __future__ import annotations

import importlib.util
import os
import sys

from fashion.serving.server import main

__all__ = ["main", "run"]


def skip_eager_keras_import() -> None:
    """Spare the server TensorFlow's eager Keras import: about 0.9 s of every start here.

    ``import tensorflow`` imports ``keras.src.optimizers`` (and with it matplotlib, when
    installed) only so that Keras optimizers register for ``tf.saved_model.load``. The stand-in
    loads with the TF1 session loader and never touches Keras. With ``TF_USE_LEGACY_KERAS`` set,
    TensorFlow tries ``tf_keras`` instead and quietly goes on when it is missing; so the variable
    is set only when tf_keras is absent, and a value the user gave is kept. Only the command sets
    it: the process is then the server's own, and nothing it starts needs Keras.
    """
    if importlib.util.find_spec("tf_keras") is None:
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


def run() -> int:
    """The command's entry point."""
    skip_eager_keras_import()
    return main()


if __name__ == "__main__":
    sys.exit(run())
