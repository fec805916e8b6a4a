"""Version directories, version policies from the model config file, and which version answers.

Directories and policies as ``sources/storage_path/file_system_storage_path_source.cc`` reads
them; requests resolved by ``model_servers/server_core.cc`` (``ServableRequestFromModelSpec``).

Each ``policy_*`` model of the zoo has versions 1, 2 and 3 on disk, version ``v`` computing
``y = v * x``, so predicting ``[1.0]`` names the version that answered. ``padded`` has the
directories ``007``, ``8.tmp`` and ``v9`` (same rule, scale 7, 8, 9).
"""

from __future__ import annotations

import pytest

from tests.support.rest_probe import ONE, RestProbe

pytestmark = pytest.mark.server


def _answering_version(zoo: RestProbe, model: str, version: int | None = None) -> float:
    reply = zoo.predict(model, ONE, version=version)
    assert reply.status == 200, reply
    return reply.json()["predictions"][0]


@pytest.mark.parametrize(
    ("model", "tracked"),
    [
        ("policy_all", [3, 2, 1]),
        ("policy_latest2", [3, 2]),
        ("policy_specific", [3, 1]),
        ("policy_default", [3]),
        ("policy_latest0", [3]),  # num_versions 0 counts as 1
    ],
)
def test_the_policy_decides_which_versions_are_loaded(
    zoo: RestProbe, model: str, tracked: list[int]
) -> None:
    states = zoo.status(model).json()["model_version_status"]
    assert [(entry["version"], entry["state"]) for entry in states] == [
        (str(version), "AVAILABLE") for version in tracked
    ]


@pytest.mark.parametrize(
    ("model", "latest"),
    [
        ("policy_all", 3.0),
        ("policy_latest2", 3.0),
        ("policy_specific", 3.0),
        ("policy_default", 3.0),
    ],
)
def test_latest_is_the_highest_available_version(zoo: RestProbe, model: str, latest: float) -> None:
    assert _answering_version(zoo, model) == latest


@pytest.mark.parametrize(
    ("model", "version"),
    [
        ("policy_all", 1),
        ("policy_all", 2),
        ("policy_all", 3),
        ("policy_latest2", 2),
        ("policy_specific", 1),
    ],
)
def test_each_loaded_version_answers_by_number(zoo: RestProbe, model: str, version: int) -> None:
    assert _answering_version(zoo, model, version) == float(version)


@pytest.mark.parametrize(
    ("model", "version"),
    [("policy_latest2", 1), ("policy_specific", 2), ("policy_default", 2), ("policy_all", 4)],
)
def test_versions_the_policy_leaves_out_are_servable_not_found(
    zoo: RestProbe, model: str, version: int
) -> None:
    reply = zoo.predict(model, ONE, version=version)
    assert (reply.status, reply.error) == (
        404,
        f"Servable not found for request: Specific({model}, {version})",
    )


def test_version_directories_are_decimal_numbers_and_leading_zeros_are_allowed(
    zoo: RestProbe,
) -> None:
    states = zoo.status("padded").json()["model_version_status"]
    assert [(entry["version"], entry["state"]) for entry in states] == [("7", "AVAILABLE")]
    assert _answering_version(zoo, "padded") == 7.0
    assert _answering_version(zoo, "padded", 7) == 7.0
