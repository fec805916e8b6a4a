"""Fixtures of the model manager's tests (``test_manager_*.py``): built versions, a recorder of
log lines and state transitions, managers that are always stopped (model ``m`` with versions
placed in its base path, or any models), and a scan counter.

TensorFlow is imported inside the fixtures, never at the top of this file: when this folder is
named on the command line, pytest imports this conftest before the root conftest's
``pytest_configure`` has chosen TensorFlow's kernels.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from fashion.serving.models.model_spec import ModelSpec, VersionPolicy

if TYPE_CHECKING:
    from fashion.serving.models.manager import ModelManager
    from tests.support.manager_kit import Recorder, Ticker


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Versions to copy into base paths: ``half`` (``y = 0.5 x + 2``), ``triple``
    (``y = 3 x + 2``) and ``broken`` (no ``saved_model.pb``)."""
    from tests.support.savedmodels import write_affine_model, write_broken_version

    root = tmp_path_factory.mktemp("manager_builds")
    return {
        "half": write_affine_model(root / "half", 0.5),
        "triple": write_affine_model(root / "triple", 3.0),
        "broken": write_broken_version(root / "broken"),
    }


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """Records what the stand-in's logger says, at INFO, for the test's duration."""
    from tests.support.manager_kit import Recorder

    logger = logging.getLogger("fashion.serving")
    handler = Recorder()
    previous = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


@pytest.fixture
def start(recorder: Recorder) -> Iterator[Callable[..., ModelManager]]:
    """Starts managers with :data:`~tests.support.manager_kit.FAST` options (overridable),
    their transitions recorded; stops every one of them after the test."""
    from fashion.serving.models.manager import ModelManager
    from tests.support.manager_kit import FAST, LOADER

    managers: list[ModelManager] = []

    def _start(models: list[ModelSpec], **options: object) -> ModelManager:
        manager = ModelManager(models, LOADER, dataclasses.replace(FAST, **options))
        manager.add_state_listener(recorder.on_state)
        managers.append(manager)
        manager.start()
        return manager

    try:
        yield _start
    finally:
        for manager in managers:
            manager.stop()


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """The base path of model ``m``, made by the first version placed in it."""
    return tmp_path / "m"


@pytest.fixture
def start_m(
    start: Callable[..., ModelManager], builds: dict[str, Path], base: Path
) -> Callable[..., ModelManager]:
    """Places versions of model ``m`` in :func:`base`, then starts a manager on ``m``.

    ``start_m({1: "half", 2: "triple"}, policy, labels=..., also=[specs], **options)``: each
    version is a copy of the named build of :func:`builds`; ``policy`` defaults to the server's
    (latest 1), ``also`` adds models, ``options`` override the manager's as :func:`start` does.
    Returns at once: each test waits for what its start-up must reach.
    """

    def _start_m(
        versions: Mapping[int, str],
        policy: VersionPolicy | None = None,
        *,
        labels: Mapping[str, int] | None = None,
        also: Sequence[ModelSpec] = (),
        **options: object,
    ) -> ModelManager:
        from tests.support.manager_kit import place

        for version, build in versions.items():
            place(builds[build], base, version)
        spec = ModelSpec("m", str(base), policy or VersionPolicy(), labels or {})
        return start([spec, *also], **options)

    return _start_m


@pytest.fixture
def ticker(tmp_path: Path, recorder: Recorder) -> Ticker:
    """A model ``ticker`` with an empty base path, to add to a manager and count its scans."""
    from tests.support.manager_kit import Ticker

    base = tmp_path / "ticker"
    base.mkdir()
    return Ticker(ModelSpec("ticker", str(base)), recorder)
