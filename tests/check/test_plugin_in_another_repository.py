"""The fashion pytest plugin, used by a repository that is not this one.

A test layout is written to ``tmp_path`` (a model of the repository's own, a ``conftest.py`` with
nothing in it, a test file like the one in docs/check.md) and run by a pytest of its
own through ``pytester``: it installs nothing, the plugin comes from the installed package's
``pytest11`` entry point, and the run passes or fails as it should.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.check.exports import write_lying_model
from tests.support.savedmodels import write_elementwise_affine_model

pytest_plugins = ["pytester"]

# Slow: each runs a whole pytest session of its own (TensorFlow imported again, a server).
pytestmark = [pytest.mark.server, pytest.mark.slow]

_TEST_FILE = """
from pathlib import Path

import pytest

from fashion.testing.plugin import assert_model_serves

MODEL = Path({model!r})


def test_the_export_serves(serve_model):
    server = serve_model(MODEL, model_name="mine")
    with server.client("mine") as client:
        assert client.status()[0].state == "AVAILABLE"
    assert assert_model_serves(MODEL, server=server).passed


@pytest.mark.real_server_only
def test_what_only_the_real_server_does():
    assert False, "the stand-in cannot do this"
"""


def _repository(pytester: pytest.Pytester, model: Path) -> None:
    pytester.makeconftest("")
    pytester.makepyfile(test_gate=_TEST_FILE.format(model=str(model)))


def _run(pytester: pytest.Pytester) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "no:randomly", "-n", "0", "--model-server=stand-in", "-rA"
    )


def test_a_repository_gates_its_model_with_the_plugin_and_passes(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    model = tmp_path / "exports" / "half"
    write_elementwise_affine_model(model / "1", 0.5, 2.0)
    _repository(pytester, model)
    result = _run(pytester)
    result.assert_outcomes(passed=1, xfailed=1)
    header = [line for line in result.outlines if line.startswith("model server: ")]
    assert len(header) == 1
    assert header[0].startswith("model server: stand-in: ")
    assert header[0].endswith("[chosen: stand-in]")


def test_a_repository_whose_model_does_not_serve_as_declared_fails_with_the_check_table(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    model = tmp_path / "exports" / "lying"
    write_lying_model(model / "1")  # declares shapes the graph cannot take
    _repository(pytester, model)
    result = _run(pytester)
    result.assert_outcomes(failed=1, xfailed=1)
    result.stdout.fnmatch_lines(["*the model does not serve as it should:*", "*FAIL*"])
