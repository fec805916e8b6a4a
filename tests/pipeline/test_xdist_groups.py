"""The suite's scheduling: files that share a session server run on one xdist worker.

``tests/support/xdist_groups.py`` exists because xdist's own grouping is silently ignored on
pytest 9.2; the last test runs a small suite under ``-n 2`` so that a pytest or xdist upgrade
that breaks this plugin the same way fails here instead of only costing time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.xdist_groups import groups_of_files, shared_servers_by_file

pytest_plugins = ["pytester"]


def test_files_sharing_a_server_form_one_unit_named_for_it() -> None:
    groups = groups_of_files(
        {"a.py": {"zoo_server"}, "b.py": {"zoo_server"}, "c.py": set(), "d.py": {"fault_server"}}
    )
    assert groups == {"a.py": "zoo_server", "b.py": "zoo_server", "d.py": "fault_server"}


def test_a_file_using_two_servers_joins_their_groups_whatever_the_order() -> None:
    files = {
        "a.py": {"zoo_server"},
        "b.py": {"watching_server"},
        "c.py": {"zoo_server", "watching_server"},
        "d.py": {"fuzz_server"},
    }
    for order in (list(files), list(reversed(files))):
        groups = groups_of_files({path: files[path] for path in order})
        assert groups == {
            "a.py": "watching_server+zoo_server",
            "b.py": "watching_server+zoo_server",
            "c.py": "watching_server+zoo_server",
            "d.py": "fuzz_server",
        }


def test_a_file_whose_slow_tests_are_selected_stays_a_unit_of_its_own(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        "import pytest\n@pytest.fixture(scope='session')\ndef fuzz_server():\n    pass\n"
    )
    pytester.makepyfile(
        test_rest_fuzz="import pytest\n"
        "def test_quick(fuzz_server): pass\n"
        "@pytest.mark.slow\n"
        "def test_long(fuzz_server): pass\n",
        test_grpc_fuzz="def test_quick(fuzz_server): pass\n",
    )
    pytester.makeini("[pytest]\nmarkers =\n    slow: slow\n")
    items, _ = pytester.inline_genitems("-p", "no:cacheprovider")
    assert shared_servers_by_file(items) == {
        "test_grpc_fuzz.py": {"fuzz_server"},
        "test_rest_fuzz.py": set(),
    }
    quick = [item for item in items if not item.get_closest_marker("slow")]
    assert shared_servers_by_file(quick) == {
        "test_grpc_fuzz.py": {"fuzz_server"},
        "test_rest_fuzz.py": {"fuzz_server"},
    }


_SHARED_SERVER_CONFTEST = """
import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.support.xdist_groups"]

@pytest.fixture(scope="session")
def zoo_server():
    # One file per worker process that starts this "server".
    (Path(os.environ["SERVER_STARTS"]) / os.environ["PYTEST_XDIST_WORKER"]).touch()
"""


def test_under_two_workers_the_shared_server_starts_on_one_worker_only(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = pytester.mkdir("starts")
    monkeypatch.setenv("SERVER_STARTS", str(starts))
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parents[2]))
    pytester.makeconftest(_SHARED_SERVER_CONFTEST)
    for index in range(6):
        pytester.makepyfile(**{f"test_uses_{index}": f"def test_{index}(zoo_server):\n    pass\n"})
        pytester.makepyfile(**{f"test_alone_{index}": f"def test_alone_{index}():\n    pass\n"})
    result = pytester.runpytest_subprocess(
        "-n", "2", "--dist", "loadfile", "-p", "no:cacheprovider", "-o", "addopts="
    )
    result.assert_outcomes(passed=12)
    assert len(list(starts.iterdir())) == 1
