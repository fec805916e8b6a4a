"""A corrupt version fails to load with an error in its status; the old version keeps serving.

The version directory is complete - ``saved_model.pb`` parses - but the variables' data shard
has rotted (every byte inverted, size unchanged), so the load fails only when the variables are
restored. The version ends in END with the load error (``core/loader_harness.cc``), the previous
version is not unloaded (``core/availability_preserving_policy.cc``) and answers every request,
and the server's other models are unaffected.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fault_server import FaultServer, install_version
from tests.support.traffic import PredictLoad, RestPredict, VersionMatcher

pytestmark = pytest.mark.server

MODEL = "corrupt"


def _rot_variables(version_dir: Path) -> None:
    for shard in (version_dir / "variables").glob("variables.data-*"):
        shard.write_bytes(bytes(255 - byte for byte in shard.read_bytes()))


def test_corrupt_version_ends_with_an_error_while_the_old_version_serves_every_request(
    faults: FaultServer,
    pristine_versions: dict[int, Path],
    matcher: VersionMatcher,
    predict_body: bytes,
) -> None:
    url = f"{faults.served.url}/v1/models/{MODEL}:predict"
    with PredictLoad(RestPredict(url, predict_body, matcher), threads=4, max_seconds=20) as load:
        load.wait_for_answers(20, timeout=10)
        install_version(pristine_versions[2], faults.base_paths[MODEL], 2, _rot_variables)
        failed = faults.wait_for_state(MODEL, 2, "END")
        load.wait_for_answers(load.completed + 50, timeout=10)
    report = load.report()
    print(f"{MODEL}: {report.summary()}; version 2: {failed}")

    # TensorFlow's checkpoint reader verifies each tensor's CRC32C while restoring.
    assert failed.error_code == "DATA_LOSS"
    assert "Checksum does not match" in failed.error_message
    assert report.failures == 0, report.failure_samples
    assert set(report.versions) == {"v1"}
    assert [(e.version, e.state) for e in faults.status(MODEL)] == [(2, "END"), (1, "AVAILABLE")]
    assert matcher(*faults.answer("steady", predict_body)).version == "v1"
