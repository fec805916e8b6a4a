"""Fixtures of the REST layer's in-process tests: a real model manager serving tiny models.

TensorFlow is imported inside the fixtures, never at the top of this file: when this folder is
named on the command line, pytest imports this conftest before the root conftest's
``pytest_configure`` has chosen TensorFlow's kernels.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from fashion.serving.models.manager import ModelManager


@pytest.fixture(scope="module")
def manager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelManager]:
    """A manager serving ``tests.support.manager_kit.TINY_MODELS``, stopped after the module."""
    from tests.support.manager_kit import serving_tiny_models

    with serving_tiny_models(tmp_path_factory.mktemp("rest_models")) as serving:
        yield serving
