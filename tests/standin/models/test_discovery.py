"""Version discovery on disk, with the rules and log texts of
``sources/storage_path/file_system_storage_path_source.cc`` and its test."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from fashion.serving.models.discovery import (
    parse_version,
    poll_file_system,
    scan_model,
    scan_models,
)
from fashion.serving.models.model_spec import ModelSpec, VersionPolicy
from fashion.serving.status import Code, ServingStatusError


def _base(tmp_path: Path, *children: str, files: tuple[str, ...] = ()) -> Path:
    base = tmp_path / "m"
    base.mkdir()
    for child in children:
        (base / child).mkdir()
    for name in files:
        (base / name).write_text("")
    return base


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    # Only the test's own lines: a server thread left by another test must not count.
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "fashion.serving" and r.thread == threading.get_ident()
    ]


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("1", 1),
        ("00000123", 123),
        ("+7", 7),
        ("-3", -3),
        ("-0", 0),
        (" 42 ", 42),
        ("\t5\n", 5),
        ("\v\f9\r", 9),
        ("9223372036854775807", 9223372036854775807),
        ("-9223372036854775808", -9223372036854775808),
    ],
)
def test_names_that_simpleatoi_accepts_are_versions(name, version):
    assert parse_version(name) == version


@pytest.mark.parametrize(
    "name",
    [
        "tmp",
        "2.denied",
        "1.5",
        "v2",
        ".hidden",
        "",
        "   ",
        "+",
        "-",
        "1 2",
        "+-1",
        "- 1",
        "0x10",
        "1e3",
        "9223372036854775808",
        "-9223372036854775809",
        "\u0661",  # ARABIC-INDIC DIGIT ONE: a digit to Python, not to absl
        "\u00a01",  # no-break space is not ASCII whitespace
    ],
)
def test_names_that_simpleatoi_rejects_are_ignored(name):
    assert parse_version(name) is None


def test_latest_policy_aspires_the_highest_numbered_version(tmp_path):
    base = _base(tmp_path, "1", "2", "10", "tmp", "3.5")
    assert scan_model(ModelSpec("m", str(base))) == {10: str(base / "10")}


def test_latest_policy_with_n_aspires_the_n_highest_and_zero_counts_as_one(tmp_path):
    base = _base(tmp_path, "1", "2", "10")
    two = ModelSpec("m", str(base), VersionPolicy.latest(2))
    zero = ModelSpec("m", str(base), VersionPolicy.latest(0))
    assert scan_model(two) == {10: str(base / "10"), 2: str(base / "2")}
    assert scan_model(zero) == {10: str(base / "10")}


def test_all_policy_aspires_every_version(tmp_path):
    base = _base(tmp_path, "1", "2", "10", "tmp")
    assert scan_model(ModelSpec("m", str(base), VersionPolicy.all())) == {
        1: str(base / "1"),
        2: str(base / "2"),
        10: str(base / "10"),
    }


def test_specific_policy_aspires_listed_versions_that_exist(tmp_path):
    base = _base(tmp_path, "1", "2", "3")
    spec = ModelSpec("m", str(base), VersionPolicy.specific([1, 3]))
    assert scan_model(spec) == {1: str(base / "1"), 3: str(base / "3")}


def test_specific_policy_warns_about_each_missing_version(tmp_path, caplog):
    base = _base(tmp_path, "1", "2")
    spec = ModelSpec("m", str(base), VersionPolicy.specific([1, 7]))
    with caplog.at_level(logging.WARNING, logger="fashion.serving"):
        assert scan_model(spec) == {1: str(base / "1")}
    assert _messages(caplog) == [
        "Version 7 of servable m, which was requested to be served as a 'specific' version in "
        "the servable's version policy, was not found in the file system"
    ]


def test_specific_policy_finds_a_version_named_with_leading_zeros(tmp_path):
    base = _base(tmp_path, "007")
    spec = ModelSpec("m", str(base), VersionPolicy.specific([7]))
    assert scan_model(spec) == {7: str(base / "007")}


def test_specific_policy_with_no_versions_aspires_nothing_and_warns(tmp_path, caplog):
    base = _base(tmp_path, "1")
    spec = ModelSpec("m", str(base), VersionPolicy.specific([]))
    with caplog.at_level(logging.WARNING, logger="fashion.serving"):
        assert scan_model(spec) == {}
    assert _messages(caplog) == ["No specific versions requested for servable m."]


@pytest.mark.parametrize(
    ("policy", "on_disk", "expected"),
    [
        (VersionPolicy.latest(1), {1, 2, 3}, {3}),
        (VersionPolicy.latest(2), {1, 2, 3}, {2, 3}),
        (VersionPolicy.latest(0), {1, 2, 3}, {3}),
        (VersionPolicy.latest(5), {1, 7}, {1, 7}),
        (VersionPolicy.latest(1), {9, 10}, {10}),
        (VersionPolicy.latest(1), set(), set()),
        (VersionPolicy.all(), {1, 2, 3}, {1, 2, 3}),
        (VersionPolicy.all(), set(), set()),
        (VersionPolicy.specific([1, 3]), {1, 2}, {1}),
        (VersionPolicy.specific([1, 2]), {1, 2, 3}, {1, 2}),
        (VersionPolicy.specific([]), {1, 2}, set()),
    ],
)
def test_aspired_versions_follow_the_policy(tmp_path, policy, on_disk, expected):
    """As ``AspireLatestVersions`` (latest 0 counts as 1), ``AspireAllVersions`` and
    ``AspireSpecificVersions`` do: the listed versions that are present."""
    base = _base(tmp_path, *(str(version) for version in sorted(on_disk)))
    assert set(scan_model(ModelSpec("m", str(base), policy))) == expected


def test_files_count_as_versions(tmp_path):
    base = _base(tmp_path, "1", files=("5", "notes.txt"))
    assert scan_model(ModelSpec("m", str(base))) == {5: str(base / "5")}


def test_duplicate_version_names_warn_and_pick_one(tmp_path, caplog):
    base = _base(tmp_path, "1", "001")
    with caplog.at_level(logging.WARNING, logger="fashion.serving"):
        assert scan_model(ModelSpec("m", str(base))) == {1: str(base / "1")}
    assert _messages(caplog) == [
        "Duplicate version directories detected. Version 1 will be loaded from 1, 001 will be "
        "ignored."
    ]


def test_all_policy_keeps_the_first_of_duplicate_names_in_sorted_order(tmp_path, caplog):
    # TF Serving hands every numeric child to the manager, which keeps the first of a number.
    base = _base(tmp_path, "1", "001")
    with caplog.at_level(logging.WARNING, logger="fashion.serving"):
        assert scan_model(ModelSpec("m", str(base), VersionPolicy.all())) == {1: str(base / "001")}


def test_base_path_without_numeric_child_aspires_nothing_and_warns(tmp_path, caplog):
    base = _base(tmp_path, "tmp", "v2")
    with caplog.at_level(logging.WARNING, logger="fashion.serving"):
        assert scan_model(ModelSpec("m", str(base))) == {}
    assert _messages(caplog) == [
        f"No versions of servable m found under base path {base}. Did you forget to name your "
        "leaf directory as a number (eg. '/1/')?"
    ]


def test_missing_base_path_is_an_error(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ServingStatusError) as info:
        scan_model(ModelSpec("m", str(missing)))
    assert info.value.code is Code.INVALID_ARGUMENT
    assert info.value.message == (
        f"Could not find base path {missing} for servable m with error NOT_FOUND: {missing} not "
        "found"
    )


def test_one_missing_base_path_fails_the_whole_scan_and_logs_the_error(tmp_path, caplog):
    good = _base(tmp_path, "1")
    missing = tmp_path / "nope"
    specs = [ModelSpec("good", str(good)), ModelSpec("gone", str(missing))]
    with caplog.at_level(logging.INFO, logger="fashion.serving"):
        assert poll_file_system(specs) is None
    assert _messages(caplog) == [
        "FileSystemStoragePathSource encountered a filesystem access error: Could not find base "
        f"path {missing} for servable gone with error NOT_FOUND: {missing} not found"
    ]
    error_records = [r for r in caplog.records if r.name == "fashion.serving"]
    assert error_records[0].levelno == logging.ERROR


def test_scan_of_all_models_maps_names_to_their_aspired_versions(tmp_path):
    first = _base(tmp_path, "1", "2")
    second = tmp_path / "other"
    (second / "4").mkdir(parents=True)
    specs = [ModelSpec("a", str(first)), ModelSpec("b", str(second), VersionPolicy.all())]
    assert scan_models(specs) == {"a": {2: str(first / "2")}, "b": {4: str(second / "4")}}
    assert poll_file_system(specs) == scan_models(specs)


def test_base_path_that_is_a_file_fails_the_scan(tmp_path):
    file_path = tmp_path / "m"
    file_path.write_text("")
    with pytest.raises(ServingStatusError) as info:
        scan_model(ModelSpec("m", str(file_path)))
    assert info.value.code is Code.FAILED_PRECONDITION
    assert info.value.message == f"{file_path}; Not a directory"
