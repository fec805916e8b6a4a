"""The one writer of ``--model_config_file`` files for the suite's servers.

The file is the protocol-buffer text format of ``tensorflow.serving.ModelServerConfig``
(``tensorflow_serving/config/model_server_config.proto``; TF Serving's own integration tests use
``tensorflow_serving/servables/tensorflow/testdata/good_model_config.txt``). It is written
atomically, so a server polling it (``--model_config_file_poll_wait_seconds``) never reads half
a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ModelEntry", "model_config_text", "write_model_config"]


@dataclass(frozen=True)
class ModelEntry:
    """One ``config { ... }`` of a model config file (``ModelConfig`` in
    ``model_server_config.proto``).

    Attributes:
        name: the model name.
        base_path: absolute base path.
        policy: the text inside ``model_version_policy { }``, e.g. ``"all {}"``; empty for none.
        labels: ``version_labels`` entries.
    """

    name: str
    base_path: Path
    policy: str = ""
    labels: Mapping[str, int] = field(default_factory=dict)


def model_config_text(entries: Iterable[ModelEntry]) -> str:
    """The text-format ``ModelServerConfig`` listing ``entries``."""
    lines = ["model_config_list {"]
    for entry in entries:
        lines += [
            "  config {",
            f"    name: {json.dumps(entry.name)}",
            f"    base_path: {json.dumps(str(entry.base_path))}",
            '    model_platform: "tensorflow"',
        ]
        if entry.policy:
            lines.append(f"    model_version_policy {{ {entry.policy} }}")
        lines += [
            f"    version_labels {{ key: {json.dumps(label)} value: {version} }}"
            for label, version in entry.labels.items()
        ]
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_model_config(path: Path, entries: Iterable[ModelEntry]) -> Path:
    """Write the config file atomically, so a polling server never reads half a file.

    Returns:
        ``path``.
    """
    partial = path.with_name(path.name + ".partial")
    partial.write_text(model_config_text(entries))
    os.replace(partial, path)
    return path
