"""``python -m fashion.serving`` and the ``fashion-model-server`` command."""

from __future__ import annotations

import sys

from fashion.serving.server import leave_end_signals_to_their_default_action, main
from fashion.serving.startup.tf_env import prepare_tensorflow_environment

__all__ = ["main", "run"]


def run() -> int:
    """The command's entry point: signals and TensorFlow's settings first, then the server."""
    leave_end_signals_to_their_default_action()
    prepare_tensorflow_environment()
    return main()


if __name__ == "__main__":
    sys.exit(run())
