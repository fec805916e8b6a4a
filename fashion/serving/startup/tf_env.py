"""TensorFlow settings a serving process makes before it imports TensorFlow.

TensorFlow reads these environment variables once, at import, so they must be set by whoever
starts the process: the stand-in's command, and anything that runs the stand-in's servables
in-process (the test suite, the benchmark). A value the user gave is always kept.
"""

from __future__ import annotations

import importlib.util
import os

__all__ = ["prepare_tensorflow_environment", "skip_eager_keras_import", "use_eigen_kernels"]


def skip_eager_keras_import() -> None:
    """Spare the server TensorFlow's eager Keras import: about 0.9 s of every start here.

    ``import tensorflow`` imports ``keras.src.optimizers`` (and with it matplotlib, when
    installed) only so that Keras optimizers register for ``tf.saved_model.load``. The stand-in
    loads with the TF1 session loader and never touches Keras. With ``TF_USE_LEGACY_KERAS`` set,
    TensorFlow tries ``tf_keras`` instead and quietly goes on when it is missing; so the variable
    is set only when tf_keras is absent. Only the server's own process may set it: nothing it
    starts needs Keras.
    """
    if importlib.util.find_spec("tf_keras") is None:
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


def use_eigen_kernels() -> None:
    """Run TensorFlow's Eigen CPU kernels, as TF Serving's release build does.

    The ``tensorflow`` wheel enables oneDNN kernels on x86 Linux; TF Serving's release binary is
    built without them (its ``.bazelrc``: ``--config=mkl`` is a separate build, for the ``-mkl``
    images). It matters beyond speed: the session feeds values whatever shape a signature
    declares, and oneDNN's convolution aborts the whole process on a wrong rank (a ``Check
    failed`` in ``tensor_format.h``) where the Eigen kernel answers INVALID_ARGUMENT
    ``convolution input must be 4-dimensional``, as the real server does.
    """
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def prepare_tensorflow_environment() -> None:
    """Both settings above, for the stand-in's own process."""
    skip_eager_keras_import()
    use_eigen_kernels()
