"""The conformance suite's "watching" server: the process, its probe, its config file, its disk.

Imported by a conftest, so it imports TensorFlow only when a version is built (the root conftest
chooses TensorFlow's kernels in ``pytest_configure``, before TensorFlow may be imported).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fashion.servers import wait_until
from fashion.testing.served import ServedModelServer
from tests.support.config_files import ModelEntry, write_model_config
from tests.support.rest_probe import RestProbe

__all__ = ["WatchedServer", "rename_into_place"]


def rename_into_place(built: Path, version_dir: Path) -> Path:
    """Move a version built under a non-numeric name to its numeric name in one step.

    TF Serving ignores children of a base path whose names are not numbers
    (``file_system_storage_path_source.cc``), so the version appears complete.
    """
    os.replace(built, version_dir)
    return version_dir


@dataclass
class WatchedServer:
    """The watching server, its probe, its config file and where its models live.

    Attributes:
        server: the process.
        rest: a raw HTTP probe.
        root: the directory holding every model's base path.
        config_path: the model config file the server polls.
        entries: the models the config file lists now, by name.
    """

    server: ServedModelServer
    rest: RestProbe
    root: Path
    config_path: Path
    entries: dict[str, ModelEntry]

    def rewrite_config(self, entries: dict[str, ModelEntry]) -> None:
        """Replace the config file's models (atomically) and remember them."""
        write_model_config(self.config_path, entries.values())
        self.entries = dict(entries)

    @contextlib.contextmanager
    def config_restored(self) -> Iterator[dict[str, ModelEntry]]:
        """Yields the models the config file lists now, and writes them back on leaving the
        block, whatever the block wrote or raised: the next test sees the file it expects."""
        original = dict(self.entries)
        try:
            yield original
        finally:
            self.rewrite_config(original)

    @contextlib.contextmanager
    def logs_again(self, line: str, what: str, timeout: float = 10.0) -> Iterator[None]:
        """On leaving the block, waits until the server's log holds ``line`` once more than on
        entering it (``what`` names the wait in its timeout error)."""
        before = self.server.log_text().count(line)
        yield
        wait_until(lambda: self.server.log_text().count(line) > before, timeout, what)

    def build_version(self, model: str, version: int, scale: float) -> Path:
        """Write ``y = scale * x`` for ``model`` under a non-numeric name; returns that dir."""
        from tests.support.savedmodels import write_elementwise_affine_model

        built = self.root / model / f"{version}.building"
        write_elementwise_affine_model(built, scale, 0.0)
        return built
