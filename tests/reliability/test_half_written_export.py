"""A half-written version directory fails to load, and the version before it never stops serving.

This is what a naive export leaves behind when it is interrupted, or what a server sees when it
scans while the export is still writing: a numeric directory with only ``variables/``, or with a
``saved_model.pb`` cut short. The server tries it once (``--max_num_load_retries=0``), reports
END with the load error (``model_servers/get_model_status_impl.cc``), and version 1 - never
unloaded while no replacement serves (``core/availability_preserving_policy.cc``) - answers every
request meanwhile. The atomic export that avoids all this is
tested in tests/pipeline/test_export.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.fault_server import FaultServer, install_version
from tests.support.traffic import PredictLoad, RestPredict, VersionMatcher

pytestmark = pytest.mark.server


def _only_variables(version_dir: Path) -> None:
    """What an export interrupted after writing the variables leaves: no ``saved_model.pb``."""
    for child in version_dir.iterdir():
        if child.name != "variables":
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def _truncated_saved_model_pb(version_dir: Path) -> None:
    """What an export interrupted while writing ``saved_model.pb`` leaves: its first half."""
    pb = version_dir / "saved_model.pb"
    pb.write_bytes(pb.read_bytes()[: pb.stat().st_size // 2])


def _missing_pb_errors(version_dir: Path) -> set[tuple[str, str]]:
    # TensorFlow's SavedModel reader; releases since 2.x append a hint to the path.
    text = (
        f"Could not find SavedModel .pb or .pbtxt at supplied export directory path: {version_dir}"
    )
    hint = (
        ". Check that the directory exists and that you have the right permissions for "
        "accessing it."
    )
    return {("NOT_FOUND", text), ("NOT_FOUND", text + hint)}


def _unparsable_pb_errors(version_dir: Path) -> set[tuple[str, str]]:
    # TensorFlow's ReadBinaryProto: DATA_LOSS "Can't parse {file} as binary proto".
    return {("DATA_LOSS", f"Can't parse {version_dir / 'saved_model.pb'} as binary proto")}


_DAMAGES: dict[str, tuple[Callable[[Path], None], Callable[[Path], set[tuple[str, str]]]]] = {
    "half_variables_only": (_only_variables, _missing_pb_errors),
    "half_truncated_pb": (_truncated_saved_model_pb, _unparsable_pb_errors),
}


@pytest.mark.parametrize("model", sorted(_DAMAGES))
def test_half_written_version_ends_with_its_load_error_while_version_1_serves_every_request(
    faults: FaultServer,
    pristine_versions: dict[int, Path],
    matcher: VersionMatcher,
    predict_body: bytes,
    model: str,
) -> None:
    damage, expected_errors = _DAMAGES[model]
    url = f"{faults.served.url}/v1/models/{model}:predict"
    with PredictLoad(RestPredict(url, predict_body, matcher), threads=8, max_seconds=20) as load:
        load.wait_for_answers(50, timeout=10)
        version_dir = install_version(pristine_versions[2], faults.base_paths[model], 2, damage)
        failed = faults.wait_for_state(model, 2, "END")
        load.wait_for_answers(load.completed + 100, timeout=10)
    report = load.report()
    print(f"{model}: {report.summary()}")

    assert (failed.error_code, failed.error_message) in expected_errors(version_dir)
    assert report.failures == 0, report.failure_samples
    assert set(report.versions) == {"v1"}
    assert [(e.version, e.state) for e in faults.status(model)] == [(2, "END"), (1, "AVAILABLE")]
    assert matcher(*faults.answer("steady", predict_body)).version == "v1"
