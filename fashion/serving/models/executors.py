"""Where loads and unloads run: TF Serving's load and unload executors.

A task runs inline (0 threads) or on one of at most N daemon threads; every thread is tracked so
that the manager's stop can wait for a load still inside TensorFlow.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["Executor", "Workers"]


class Workers:
    """The executor threads still running, so that stopping can wait for them.

    Without it a load in progress at ``stop`` would go on logging (and holding its session)
    after the manager said it had stopped.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()

    def start(self, target: Callable[[], None], name: str) -> None:
        def run() -> None:
            try:
                target()
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds in all; True when every worker has finished."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                running = [t for t in self._threads if t is not threading.current_thread()]
            if not running:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            running[0].join(remaining)


class Executor:
    """Runs tasks inline (no threads) or on at most ``num_threads`` daemon threads.

    Daemon threads, so that a TensorFlow load that cannot be interrupted never holds up the
    process at exit; a task still queued when ``stop`` is set is dropped.
    """

    def __init__(
        self, num_threads: int, stop: threading.Event, name: str, workers: Workers
    ) -> None:
        self._num_threads = max(num_threads, 0)
        self._slots = threading.BoundedSemaphore(max(self._num_threads, 1))
        self._stop = stop
        self._name = name
        self._workers = workers

    @property
    def inline(self) -> bool:
        """Whether tasks run on the submitting thread."""
        return self._num_threads == 0

    def submit(self, task: Callable[[], None]) -> None:
        if self.inline:
            task()
            return

        def run() -> None:
            while not self._slots.acquire(timeout=0.1):
                if self._stop.is_set():
                    return
            try:
                task()
            finally:
                self._slots.release()

        self._workers.start(run, self._name)
