"""Stopping the manager: prompt during load retries, and nothing of a load lands after it returns.

The stand-in's own guarantees, which its shutdown on SIGTERM relies on: a waiter is released
with CANCELLED, and a version that finishes loading while the manager stops is released, not
served. Fixtures: ``conftest.py`` of this folder.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import pytest

from fashion.serving.models.manager import LoadFailure, ModelManager
from fashion.serving.models.model_spec import ModelSpec
from fashion.serving.status import Code, ServingStatusError
from tests.support.manager_kit import (
    FAST,
    LOADER,
    WAIT_SECONDS,
    Recorder,
    not_found_text,
    place,
)


def test_stop_is_prompt_during_load_retries_and_ends_waits(builds, base, recorder):
    broken = place(builds["broken"], base, 1)
    options = dataclasses.replace(
        FAST,
        file_system_poll_wait_seconds=30,
        max_num_load_retries=5,
        load_retry_interval_micros=60_000_000,
    )
    manager = ModelManager([ModelSpec("m", str(base))], LOADER, options)
    manager.start()
    outcome: list[BaseException | list[LoadFailure]] = []

    def wait() -> None:
        try:
            outcome.append(manager.wait_until_initial_load())
        except ServingStatusError as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    recorder.wait_for_message(
        f"Loading servable: {{name: m version: 1}} failed: NOT_FOUND: {not_found_text(broken)}"
    )
    began = time.monotonic()
    manager.stop()
    waiter.join(timeout=1)
    assert time.monotonic() - began < 1
    assert not waiter.is_alive()
    assert isinstance(outcome[0], ServingStatusError)
    assert outcome[0].code is Code.CANCELLED


class _GatedLoader:
    """A loader that holds its load until released, and records what became of the result."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.closed = threading.Event()

    def __call__(self, path: str) -> _GatedLoader:
        self.entered.set()
        self.release.wait(WAIT_SECONDS)
        return self

    def close(self) -> None:
        self.closed.set()


@pytest.mark.parametrize("load_threads", [0, 2], ids=["inline-load", "load-thread"])
def test_stop_waits_for_a_load_in_progress_and_releases_what_it_loaded(
    tmp_path: Path, recorder: Recorder, load_threads: int
) -> None:
    """Nothing a load does may land after stop returns: the next test's log capture saw it."""
    (tmp_path / "m" / "1").mkdir(parents=True)
    loader = _GatedLoader()
    options = dataclasses.replace(FAST, num_initial_load_threads=load_threads)
    manager = ModelManager([ModelSpec("m", str(tmp_path / "m"))], loader, options)
    manager.start()
    assert loader.entered.wait(WAIT_SECONDS)
    stopper = threading.Thread(target=manager.stop)
    stopper.start()
    stopper.join(0.3)
    still_stopping = stopper.is_alive()
    loader.release.set()
    stopper.join(WAIT_SECONDS)

    assert still_stopping, "stop returned while the load was still running"
    assert not stopper.is_alive()
    assert loader.closed.is_set(), "the version loaded during stop was not released"
    lines_at_stop = list(recorder.messages)
    time.sleep(0.2)
    assert recorder.messages == lines_at_stop
