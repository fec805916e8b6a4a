"""What the REST and gRPC fuzz tests share: families of generated requests, running one family
reproducibly, the tally of the answers, and the server's memory.

A family is a Hypothesis strategy with three budgets: the cases of the default run (a few per
family, seconds in all), the slow run's (at least :data:`SLOW_CASES` per transport in all) and the
warm-up's, sent before the slow run first measures the server's memory, so that what the families
fill once (caches, session callables, allocator arenas, the high-water marks of large requests)
does not count as growth. Every run has a fixed seed and no example database: a failure
reproduces, and a failing case is printed by its ``repr``, which the case classes keep short.

Imports Hypothesis and psutil, not TensorFlow.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

import numpy as np
import psutil
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

if TYPE_CHECKING:
    from fashion.testing.served import ServedModelServer

__all__ = [
    "EXAMPLE_MODEL",
    "EXAMPLE_MODEL_VERSION",
    "FUZZ_LABEL",
    "RSS_LIMIT_BYTES",
    "SLOW_CASES",
    "Family",
    "Fuzzer",
    "Tally",
    "numpy_holds_rank",
    "quick_fuzz",
    "rss_of",
    "run_families",
    "run_family",
    "warm_up_then_fuzz",
]

#: The fuzz server's second model (beside ``fashion_model``): TF Serving's ``half_plus_two``,
#: whose signatures parse ``tf.Example``s from a string input, so that classify, regress and
#: string tensors reach a model that reads them (``tests.support.example_models``).
EXAMPLE_MODEL = "half_plus_two"
EXAMPLE_MODEL_VERSION = 123

#: The fuzz server's label for version 1 of ``fashion_model``.
FUZZ_LABEL = "stable"

#: Cases each transport's slow fuzz sends after its warm-up.
SLOW_CASES = 10_000

#: Growth of the server's resident memory over a slow fuzz (after its warm-up) that still passes.
RSS_LIMIT_BYTES = 50 * 2**20

CaseT = TypeVar("CaseT")


@dataclass(frozen=True)
class Family(Generic[CaseT]):
    """One kind of generated request.

    Attributes:
        name: the family's name (test ids, tallies).
        strategy: generates the cases.
        slow: cases in the slow run.
        quick: cases in the default run.
        warm_up: cases sent before the slow run's first memory reading.
    """

    name: str
    strategy: st.SearchStrategy[CaseT]
    slow: int
    quick: int
    warm_up: int


def run_family(
    family: Family[CaseT], examples: int, run_seed: int, check: Callable[[CaseT], None]
) -> None:
    """Check ``examples`` generated cases of ``family``, reproducibly.

    Raises:
        AssertionError: what ``check`` raised for the first failing case (Hypothesis shrinks it
            and prints it first).
    """

    # The check's state (a session, a channel, a tally) is meant to be shared by every example:
    # nothing function-scoped is reused by accident. Building a large request from a few drawn
    # numbers is not slow data generation.
    @seed(run_seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(family.strategy)
    def case(generated: CaseT) -> None:
        check(generated)

    case()


def run_families(
    families: Sequence[Family[CaseT]],
    budget: Callable[[Family[CaseT]], int],
    first_seed: int,
    check: Callable[[CaseT], None],
) -> None:
    """:func:`run_family` for each family, with ``budget(family)`` cases and its own seed."""
    for index, family in enumerate(families):
        run_family(family, budget(family), first_seed + index, check)


class Fuzzer(Protocol[CaseT]):
    """What the REST and gRPC fuzzers both offer."""

    server: ServedModelServer
    tally: Tally

    def check(self, case: CaseT) -> None:
        """Send one case and assert its answer."""

    def restart_tally(self) -> None:
        """Count from zero."""


def quick_fuzz(
    fuzzer: Fuzzer[CaseT], families: Sequence[Family[CaseT]], family: Family[CaseT], first_seed: int
) -> None:
    """The default run of one of ``families``: its quick budget, with the seed of its place among
    them (a test per family, each reproducible alone); every case must have been sent.
    """
    run_family(family, family.quick, first_seed + families.index(family), fuzzer.check)
    assert fuzzer.tally.cases[family.name] >= family.quick


def warm_up_then_fuzz(
    fuzzer: Fuzzer[CaseT], families: Sequence[Family[CaseT]], first_seed: int
) -> int:
    """The slow run: every family's warm-up, then (tallied from zero) its slow budget.

    Returns:
        The server's RSS after the warm-up, the reading growth is measured from.
    """
    run_families(families, lambda f: f.warm_up, first_seed, fuzzer.check)
    rss_before = rss_of(fuzzer.server.pid)
    fuzzer.restart_tally()
    run_families(families, lambda f: f.slow, first_seed + 1_000, fuzzer.check)
    fuzzer.server.assert_alive()
    return rss_before


@dataclass
class Tally:
    """What a fuzz sent and what came back.

    Attributes:
        cases: cases sent, by family.
        answers: answers by status (``"400"``, ``"INVALID_ARGUMENT"``).
        started: ``time.monotonic()`` at creation.
    """

    cases: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    def record(self, family: str, answer: str) -> None:
        """Count one case of ``family`` answered with ``answer``."""
        self.cases[family] += 1
        self.answers[answer] += 1

    @property
    def total(self) -> int:
        """Cases sent."""
        return sum(self.cases.values())

    def summary(self, transport: str, rss_before: int, rss_after: int) -> str:
        """The figures of one slow fuzz, for the test output."""
        seconds = time.monotonic() - self.started
        return (
            f"{transport} fuzz: {self.total} cases in {seconds:.0f} s "
            f"({self.total / seconds:.0f}/s); server RSS {rss_before / 2**20:.1f} MiB -> "
            f"{rss_after / 2**20:.1f} MiB ({(rss_after - rss_before) / 2**20:+.1f} MiB); "
            f"answers {dict(self.answers.most_common())}; cases {dict(self.cases)}"
        )


def rss_of(pid: int) -> int:
    """The resident set size of process ``pid``, in bytes."""
    return psutil.Process(pid).memory_info().rss


def numpy_holds_rank(rank: int) -> bool:
    """Whether numpy makes arrays of ``rank`` dimensions (64 from numpy 2 on, 32 before)."""
    try:
        np.empty((1,) * rank)
    except ValueError:
        return False
    return True
