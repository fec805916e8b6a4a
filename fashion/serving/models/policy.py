"""TF Serving's AvailabilityPreservingPolicy and the manager's choice among its proposals.

Kept apart from the manager so the rules can be read, and tested, as the pure functions they are:
given a snapshot of one model's versions, propose at most one action; given every model's
proposal, start one, unloads before loads.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Sequence

__all__ = [
    "Action",
    "ActionKind",
    "HarnessState",
    "VersionSnapshot",
    "choose_action",
    "next_action",
]


class HarnessState(enum.Enum):
    """The life cycle of one managed version (TF Serving's ``LoaderHarness::State``)."""

    NEW = "new"
    LOAD_REQUESTED = "load-requested"
    LOAD_APPROVED = "load-approved"
    LOADING = "loading"
    READY = "ready"
    UNLOAD_REQUESTED = "unload-requested"
    QUIESCING = "quiescing"
    QUIESCED = "quiesced"
    UNLOADING = "unloading"
    DISABLED = "disabled"
    ERROR = "error"


class ActionKind(enum.Enum):
    """What the policy may ask for."""

    LOAD = "load"
    UNLOAD = "unload"


@dataclasses.dataclass(frozen=True)
class VersionSnapshot:
    """One managed version as the policy sees it."""

    version: int
    state: HarnessState
    is_aspired: bool


@dataclasses.dataclass(frozen=True)
class Action:
    """A proposed load or unload of one version."""

    kind: ActionKind
    model: str
    version: int


def next_action(model: str, versions: Iterable[VersionSnapshot]) -> Action | None:
    """The AvailabilityPreservingPolicy's proposal for one model.

    1. Unload the lowest READY version that is no longer aspired, but only if no version is
       aspired, or an aspired version is READY, or more than one non-aspired version is READY:
       the last serving version stays until its replacement serves.
    2. Otherwise load the highest aspired version that was never tried (state NEW).

    Args:
        model: the model the snapshots belong to.
        versions: its managed versions.

    Returns:
        The proposal, or None.
    """
    snapshots = list(versions)
    has_aspired = any(s.is_aspired for s in snapshots)
    has_aspired_ready = any(s.is_aspired and s.state is HarnessState.READY for s in snapshots)
    unaspired_ready = [s for s in snapshots if not s.is_aspired and s.state is HarnessState.READY]
    if (not has_aspired or has_aspired_ready or len(unaspired_ready) > 1) and unaspired_ready:
        lowest = min(unaspired_ready, key=lambda s: s.version)
        return Action(ActionKind.UNLOAD, model, lowest.version)
    new_aspired = [s for s in snapshots if s.is_aspired and s.state is HarnessState.NEW]
    if new_aspired:
        highest = max(new_aspired, key=lambda s: s.version)
        return Action(ActionKind.LOAD, model, highest.version)
    return None


def choose_action(proposals: Sequence[Action | None]) -> Action | None:
    """The one proposal the manager starts this round: the first unload, else the first load."""
    actions = [a for a in proposals if a is not None]
    for action in actions:
        if action.kind is ActionKind.UNLOAD:
            return action
    return actions[0] if actions else None
