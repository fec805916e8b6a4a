"""``--server-flag``: the server the check starts runs with production's flags, and a
``--saved_model_tags`` MetaGraph is the one checked, on the server and in-process alike."""

from __future__ import annotations

from pathlib import Path

import pytest
import tensorflow as tf

from fashion.check import CheckOptions, run_check
from fashion.servers import ModelServerBinary

pytestmark = [pytest.mark.server, pytest.mark.slow]


def _write_gpu_tagged_model(path: Path) -> Path:
    """``y = 2 x`` and its text ``words``, saved under the tags ``serve`` and ``gpu`` only, as a
    GPU export is."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 2], name="x")
        y = tf.identity(2.0 * x, name="y")
        words = tf.strings.as_string(y, name="words")
        signature = tf.compat.v1.saved_model.predict_signature_def(
            {"x": x}, {"y": y, "words": words}
        )
        with tf.compat.v1.Session(graph=graph) as session:
            builder = tf.compat.v1.saved_model.Builder(str(path))
            builder.add_meta_graph_and_variables(
                session, ["serve", "gpu"], signature_def_map={"serving_default": signature}
            )
            builder.save()
    return path


def test_a_model_of_other_tags_is_checked_with_the_servers_saved_model_tags(
    tmp_path: Path, model_server_binary: ModelServerBinary
) -> None:
    base = tmp_path / "tagged"
    _write_gpu_tagged_model(base / "1")

    plain = run_check(base, CheckOptions(), binary=model_server_binary)
    tagged = run_check(
        base,
        CheckOptions(
            server_flags=(
                "--saved_model_tags=serve,gpu",
                "--enable_batching",
                # Outputs, strings too, come packed into tensor_content over gRPC.
                "--enable_serialization_as_tensor_content",
            )
        ),
        binary=model_server_binary,
    )

    assert [(row.check, row.result.value) for row in plain.failures()] == [
        ("layout: serve tag", "FAIL")
    ]
    assert tagged.passed, tagged.table()
    assert any(row.check == "predict grpc batch 4" for row in tagged.rows)
