"""The fast road of ``Servable.run``: cached session callables instead of ``Session.run``.

``Session.run`` spends a fifth of a small model's run time in Python (feed and fetch
bookkeeping, with the GIL held). A session callable (TensorFlow's ``Session::MakeCallable``)
skips it, so one is used only where that bookkeeping cannot change the outcome: every feed an
ndarray of the placeholder's own numeric dtype and of a compatible shape, no tensor both fed and
fetched. Outputs and TensorFlow's error texts are the same (the C++ run is the same).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import config_pb2

__all__ = ["MAX_CALLABLES", "SessionCallables"]

MAX_CALLABLES = 32
"""Session callables kept per version (one per fed inputs, fetched outputs and deadline)."""

_NOT_FEEDABLE = object()
_ABSENT = object()


class SessionCallables:
    """The callables of one session, made on first use and kept until :meth:`clear`.

    Safe to use from several threads: lookups are lock-free dictionary reads, creation happens
    under a lock.
    """

    def __init__(self, graph: tf.Graph, session: tf.compat.v1.Session) -> None:
        self._graph = graph
        self._session = session
        # tensor name -> (numpy dtype, static dims) or _NOT_FEEDABLE, and
        # (feeds, fetches, deadline) -> session callable or None (use Session.run).
        self._feed_specs: dict[str, Any] = {}
        self._callables: dict[tuple[tuple[str, ...], tuple[str, ...], int], Any] = {}
        self._lock = threading.Lock()

    def get(
        self, feed_dict: Mapping[str, np.ndarray], fetches: Sequence[str], timeout_ms: int
    ) -> Callable[..., list[Any]] | None:
        """A session callable that runs exactly what ``Session.run`` would, or None.

        Args:
            feed_dict: tensor name -> value, in the order the callable is to be called with.
            fetches: tensor names to fetch.
            timeout_ms: the run's deadline (0 = none).

        Returns:
            The callable, or None when the run must go through ``Session.run``.
        """
        for name, value in feed_dict.items():
            spec = self._feed_specs.get(name)
            if spec is None:
                spec = self._feed_specs[name] = _feed_spec(self._graph, name)
            if spec is _NOT_FEEDABLE or type(value) is not np.ndarray or value.dtype != spec[0]:
                return None
            dims = spec[1]
            if dims is not None and (
                len(dims) != value.ndim
                or any(d is not None and d != n for d, n in zip(dims, value.shape, strict=True))
            ):
                return None
        key = (tuple(feed_dict), tuple(fetches), timeout_ms)
        runner = self._callables.get(key, _ABSENT)
        if runner is not _ABSENT:
            return runner
        with self._lock:
            if key not in self._callables and len(self._callables) < MAX_CALLABLES:
                self._callables[key] = self._make(*key)
            return self._callables.get(key)

    def clear(self) -> None:
        """Drop every callable; call it while their session is still open."""
        with self._lock:
            self._callables.clear()

    def _make(
        self, feeds: tuple[str, ...], fetches: tuple[str, ...], timeout_ms: int
    ) -> Callable[..., list[Any]] | None:
        if not fetches or set(feeds) & set(fetches):  # Session.run does not run without fetches
            return None
        options = config_pb2.CallableOptions(feed=feeds, fetch=fetches)
        if timeout_ms > 0:
            options.run_options.timeout_in_ms = timeout_ms
        try:
            for name in fetches:
                self._graph.get_tensor_by_name(name)
            # TensorFlow's own wrapper of Session::MakeCallable (tf.compat.v1 has no public
            # name for it; it exists from TF 1.x through 2.21).
            return self._session._make_callable_from_options(options)
        # Whatever fails here (a fetch missing from the graph, an API change) leaves the run to
        # Session.run, which reports it as before.
        except Exception:
            return None


def _feed_spec(graph: tf.Graph, name: str) -> Any:
    """(numpy dtype, static dims or None) of a numeric placeholder, else ``_NOT_FEEDABLE``."""
    try:
        tensor = graph.get_tensor_by_name(name)
        dtype = np.dtype(tensor.dtype.as_numpy_dtype)
    except (KeyError, ValueError, TypeError):
        return _NOT_FEEDABLE
    if dtype.kind not in "biuf" or not graph.is_feedable(tensor):
        return _NOT_FEEDABLE
    return dtype, (None if tensor.shape.rank is None else tuple(tensor.shape.as_list()))
