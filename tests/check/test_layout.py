"""The layout rules, and input that is not a model: verdicts reached before any server starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from fashion.check import CheckInputError, run_check
from fashion.check.layout import find_versions
from tests.check.exports import write_half_written_version
from tests.support.savedmodels import copy_version, write_affine_model


@pytest.fixture(scope="module")
def good_version(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small, complete TF1 version to copy into each test's base path."""
    return write_affine_model(tmp_path_factory.mktemp("good") / "1", 0.5)


def _base_with_good_v1(tmp_path: Path, good_version: Path) -> Path:
    base = tmp_path / "model"
    copy_version(good_version, base / "1")
    return base


def _rules(layout_rows: list) -> list[tuple[int | None, str, str]]:
    return [(row.version, row.check, row.result.value) for row in layout_rows]


def test_a_half_written_version_fails_the_check_without_starting_a_server(
    tmp_path: Path, good_version: Path
) -> None:
    base = _base_with_good_v1(tmp_path, good_version)
    write_half_written_version(base / "2")

    report = run_check(base)

    assert not report.passed
    assert report.server == ""  # no server was resolved, let alone started
    assert _rules(report.rows) == [
        (1, "layout", "PASS"),
        (2, "layout: saved_model.pb", "FAIL"),
        (None, "served checks", "SKIP"),
    ]
    assert report.rows[1].detail.startswith(
        f"half-written version: {base / '2'} has no saved_model.pb or saved_model.pbtxt"
    )
    assert "fashion.export.export_version" in report.rows[1].detail


def test_a_saved_model_pb_cut_short_is_a_half_written_version(
    tmp_path: Path, good_version: Path
) -> None:
    base = _base_with_good_v1(tmp_path, good_version)
    pb = copy_version(good_version, base / "2") / "saved_model.pb"
    pb.write_bytes(pb.read_bytes()[: pb.stat().st_size // 2])

    layout = find_versions(base)

    assert _rules(layout.rows) == [(1, "layout", "PASS"), (2, "layout: saved_model.pb", "FAIL")]
    assert layout.rows[1].detail.startswith(f"{pb}: not a complete protocol buffer")
    assert sorted(layout.versions) == [1]


def test_variables_without_their_data_shard_are_a_half_written_version(
    tmp_path: Path, good_version: Path
) -> None:
    base = _base_with_good_v1(tmp_path, good_version)
    version = copy_version(good_version, base / "2")
    for shard in (version / "variables").glob("variables.data-*"):
        shard.unlink()

    layout = find_versions(base)

    assert _rules(layout.rows)[1] == (2, "layout: variables/", "FAIL")
    assert "has variables.index but no variables.data-* shard" in layout.rows[1].detail


def test_a_temporary_export_directory_is_a_warning_and_is_not_served(
    tmp_path: Path, good_version: Path
) -> None:
    base = _base_with_good_v1(tmp_path, good_version)
    write_half_written_version(base / ".export-2-1a2b3c4d")

    layout = find_versions(base)

    assert _rules(layout.rows) == [
        (None, "layout: half-written temporary directory", "WARN"),
        (1, "layout", "PASS"),
    ]
    assert layout.rows[0].detail.startswith(".export-2-1a2b3c4d/ looks like an export in progress")
    assert sorted(layout.versions) == [1]


@pytest.mark.parametrize(
    ("directory", "rows"),
    [
        (
            "v1",
            [
                (
                    None, "layout: integer version names", "FAIL",
                    "v1/ holds a SavedModel, but TF Serving only serves directories named by an "
                    "integer version, so it is never served. Rename it to a version number, e.g. "
                    "{base}/1.",
                ),
                (
                    None, "layout: integer version names", "FAIL",
                    "{base} has no integer-named version directory, so TF Serving serves nothing "
                    "from it. Put each SavedModel in a directory named by its version number: "
                    "{base}/1/saved_model.pb.",
                ),
            ],
        ),
        (
            "007",
            [
                (
                    7, "layout: integer version names", "WARN",
                    "TF Serving reads '007' as version 7; name it '7'.",
                ),
                (7, "layout", "PASS", ""),
            ],
        ),
    ],
    ids=["a name that is not an integer fails", "a zero-padded name is the number, with a warning"],
)  # fmt: skip
def test_a_version_directory_is_served_only_under_an_integer_name(
    tmp_path: Path,
    good_version: Path,
    directory: str,
    rows: list[tuple[int | None, str, str, str]],
) -> None:
    base = tmp_path / "model"
    copy_version(good_version, base / directory)

    layout = find_versions(base)

    assert [(row.version, row.check, row.result.value, row.detail) for row in layout.rows] == [
        (*rule, detail.format(base=base)) for *rule, detail in rows
    ]


def test_one_version_directory_is_checked_as_that_version_of_its_parent_model(
    good_version: Path,
) -> None:
    layout = find_versions(good_version)

    assert (layout.single_version, layout.model_name, sorted(layout.versions)) == (
        True,
        good_version.parent.name,
        [1],
    )


def test_a_path_that_does_not_exist_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CheckInputError, match=r"nope: no such file or directory$"):
        run_check(tmp_path / "nope")


def test_a_directory_that_is_not_a_model_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "README").write_text("not a model")

    with pytest.raises(CheckInputError) as raised:
        run_check(tmp_path)
    assert str(raised.value) == (
        f"{tmp_path}: not a model: no saved_model.pb here and no integer version directories "
        "below (expected BASE/1/saved_model.pb or a SavedModel directory)"
    )


def test_an_unreadable_saved_model_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "saved_model.pb").write_bytes(b"\x0a\xff\xff\xff\xff not a SavedModel")

    with pytest.raises(CheckInputError) as raised:
        run_check(tmp_path)
    assert str(raised.value).startswith(
        f"{tmp_path / 'saved_model.pb'}: unreadable SavedModel (not a complete protocol buffer"
    )
