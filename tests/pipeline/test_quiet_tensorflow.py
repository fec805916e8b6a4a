"""``fashion demo``'s first screen: TensorFlow's C++ start-up lines are kept off it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_IMPORT = (
    "from fashion.quiet_tensorflow import import_tensorflow_quietly\n"
    "import_tensorflow_quietly()\n"
    "import os, tensorflow as tf\n"
    "tf.constant([1.0]) * 2\n"
    # A graph run in a session, as fashion check's in-process loader makes: TensorFlow 2.18 logs
    # 'MLIR V1 optimization pass is not enabled' on a process' first one.
    "graph = tf.Graph()\n"
    "with graph.as_default():\n"
    "    fed = tf.compat.v1.placeholder(tf.float32)\n"
    "    plus_one = fed + 1.0\n"
    "with tf.compat.v1.Session(graph=graph) as session:\n"
    "    session.run(plus_one, {fed: 1.0})\n"
    "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))\n"
)


def _run(env_level: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if env_level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = env_level
    return subprocess.run(
        [sys.executable, "-c", _IMPORT], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.slow
def test_tensorflows_start_up_lines_are_not_shown_and_children_inherit_the_quiet_level() -> None:
    shown = _run("0")  # the user asked for everything: TensorFlow's own behaviour
    assert shown.returncode == 0, shown.stderr
    assert "oneDNN" in shown.stderr or "cuda" in shown.stderr.lower(), shown.stderr
    assert shown.stdout.strip() == "0"

    quiet = _run(None)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert quiet.stdout.strip() == "2"
