"""The record of every version's state, as TF Serving's ``ServableStateMonitor`` keeps it.

Every transition (START, LOADING, AVAILABLE, UNLOADING, END) is published here. The record is
never pruned, so the status API reports unloaded and failed versions for the whole life of the
process (``servable_state_monitor.cc``), and start-up and config reloads wait here until each
model's stream has a version that reached AVAILABLE or END (``server_core.cc``).
"""

from __future__ import annotations

import dataclasses
import enum
import threading
from collections.abc import Callable, Iterable, Mapping

from fashion.serving.logs import texts as log
from fashion.serving.status import Code, ServingStatusError

__all__ = ["StateListener", "StateMonitor", "VersionState", "VersionStatus"]


class VersionState(enum.Enum):
    """Manager states as the status API names them (``ModelVersionStatus.State``)."""

    START = "START"
    LOADING = "LOADING"
    AVAILABLE = "AVAILABLE"
    UNLOADING = "UNLOADING"
    END = "END"


@dataclasses.dataclass(frozen=True)
class VersionStatus:
    """The last published state of one version.

    Attributes:
        model: model name.
        version: version number.
        state: the state.
        error: None when the status is OK; the load error for a version that failed (END).
        seq: the publication's sequence number, to tell events before and after a point apart.
    """

    model: str
    version: int
    state: VersionState
    error: ServingStatusError | None = None
    seq: int = 0

    @property
    def code(self) -> Code:
        """The status code (OK unless the version failed)."""
        return self.error.code if self.error is not None else Code.OK

    @property
    def message(self) -> str:
        """The status message (empty when OK)."""
        return self.error.message if self.error is not None else ""


StateListener = Callable[[VersionStatus], None]


def _reached(statuses: Iterable[VersionStatus]) -> VersionStatus | None:
    """The highest version that reached AVAILABLE or END in the stream."""
    for status in sorted(statuses, key=lambda s: s.version, reverse=True):
        if status.state in (VersionState.AVAILABLE, VersionState.END):
            return status
    return None


@dataclasses.dataclass(eq=False)
class _Waiter:
    """Models still awaited, and what each awaited model reached (decided at event time)."""

    since_seq: int
    pending: set[str]
    reached: dict[str, VersionStatus] = dataclasses.field(default_factory=dict)


class StateMonitor:
    """Thread-safe store of the last state of every version ever managed."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._states: dict[str, dict[int, VersionStatus]] = {}
        self._seq = 0
        self._waiters: list[_Waiter] = []
        self._listeners: list[StateListener] = []

    def add_listener(self, listener: StateListener) -> None:
        """Call ``listener`` after each publication, on the publishing thread, with no lock held."""
        with self._cond:
            self._listeners.append(listener)

    @property
    def seq(self) -> int:
        """The sequence number of the last publication (0 before any)."""
        with self._cond:
            return self._seq

    def publish(
        self, model: str, version: int, state: VersionState, error: ServingStatusError | None = None
    ) -> None:
        """Record a transition and wake whoever waits for it."""
        with self._cond:
            self._seq += 1
            status = VersionStatus(model, version, state, error, self._seq)
            self._states.setdefault(model, {})[version] = status
            for waiter in self._waiters:
                self._update_waiter(waiter, model)
            self._cond.notify_all()
            listeners = list(self._listeners)
        for listener in listeners:
            # A failing listener must not kill the manager or loader thread that published.
            try:
                listener(status)
            except Exception:
                log.state_listener_failed(status)

    def get(self, model: str, version: int) -> VersionStatus | None:
        """The last state of one version, or None if it was never managed."""
        with self._cond:
            return self._states.get(model, {}).get(version)

    def versions(self, model: str) -> list[VersionStatus]:
        """Every version ever managed for ``model``, highest version first."""
        with self._cond:
            states = self._states.get(model, {})
            return [states[v] for v in sorted(states, reverse=True)]

    def _update_waiter(self, waiter: _Waiter, model: str) -> None:
        if model not in waiter.pending:
            return
        fresh = [s for s in self._states.get(model, {}).values() if s.seq > waiter.since_seq]
        status = _reached(fresh)
        if status is not None:
            waiter.reached[model] = status
            waiter.pending.discard(model)

    def wait_for_models(
        self,
        models: Iterable[str],
        since_seq: int,
        stop: threading.Event,
        timeout: float | None = None,
    ) -> Mapping[str, VersionStatus]:
        """Block until every model has a version that reached AVAILABLE or END.

        Like TF Serving's waiter, each model is decided at the first moment one of its versions
        reaches either state (the highest such version at that moment) and not re-examined.

        Args:
            models: the model names to wait for.
            since_seq: only publications after this sequence number count (a "fresh monitor").
            stop: ends the wait early when set.
            timeout: seconds to wait at most; None waits without limit.

        Returns:
            Model -> the status it reached.

        Raises:
            ServingStatusError: CANCELLED when ``stop`` is set or the timeout expires first.
        """
        waiter = _Waiter(since_seq, set(models))
        with self._cond:
            for model in list(waiter.pending):
                self._update_waiter(waiter, model)
            self._waiters.append(waiter)
            try:
                done = self._cond.wait_for(
                    lambda: not waiter.pending or stop.is_set(), timeout=timeout
                )
            finally:
                self._waiters.remove(waiter)
        if not done or waiter.pending:
            raise ServingStatusError(
                Code.CANCELLED,
                "Stopped waiting for models to load: " + ", ".join(sorted(waiter.pending)),
            )
        return dict(waiter.reached)

    def wake(self) -> None:
        """Wake waiters so they can notice their stop event."""
        with self._cond:
            self._cond.notify_all()
