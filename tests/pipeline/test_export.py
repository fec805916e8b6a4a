"""Versioned export: the signature contract, the session loader, atomicity and refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fashion.export import ExportError, export_version, format_description, inspect, parse_version
from fashion.preprocess import scale_images

PROBE = Path(__file__).with_name("session_loader_probe.py")


@pytest.fixture(scope="module")
def session_loader_outputs(
    exported_v1: Path, trained_tiny, synthetic_dataset, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, np.ndarray]]:
    """Our export and a notebook-style ``tf.saved_model.save`` export, run by the session loader.

    Both in one probe process: starting TensorFlow is most of its cost.
    """
    import tensorflow as tf

    work = tmp_path_factory.mktemp("session_loader")
    tf.saved_model.save(trained_tiny, str(work / "seed-style"))
    batches = {
        "ours": (exported_v1, scale_images(synthetic_dataset.x_test[:16])),
        "seed-style": (work / "seed-style", scale_images(synthetic_dataset.x_test[:2])),
    }
    arguments: list[str] = []
    for name, (export_dir, batch) in batches.items():
        np.save(work / f"{name}.npy", batch)
        arguments += [str(export_dir), str(work / f"{name}.npy"), str(work / f"{name}.npz")]
    result = subprocess.run(
        [sys.executable, str(PROBE), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    outputs = {}
    for name, (_, batch) in batches.items():
        with np.load(work / f"{name}.npz") as saved:
            outputs[name] = {key: saved[key] for key in saved.files} | {"input": batch}
    return outputs


def test_serving_default_has_the_contracted_names_dtypes_and_shapes(exported_v1: Path) -> None:
    signatures = {sig.name: sig for sig in inspect(exported_v1)}
    serving = signatures["serving_default"]
    assert serving.method_name == "tensorflow/serving/predict"
    assert [(t.key, t.dtype, t.shape) for t in serving.inputs] == [
        ("images", "DT_FLOAT", (-1, 28, 28, 1))
    ]
    assert [(t.key, t.dtype, t.shape) for t in serving.outputs] == [
        ("probabilities", "DT_FLOAT", (-1, 10))
    ]


def test_export_runs_in_the_session_loader_and_matches_keras(
    session_loader_outputs: dict[str, dict[str, np.ndarray]], trained_tiny
) -> None:
    out = session_loader_outputs["ours"]
    assert (str(out["outcome"]), str(out["error"])) == ("ok", "")
    assert out["input_keys"].tolist() == ["images"]
    assert out["output_keys"].tolist() == ["probabilities"]
    assert str(out["method_name"]) == "tensorflow/serving/predict"
    expected = np.asarray(trained_tiny(out["input"]))
    np.testing.assert_allclose(out["output_probabilities"], expected, rtol=0, atol=1e-6)


def test_seed_style_export_is_rejected_by_the_session_loader_on_keras_3(
    session_loader_outputs: dict[str, dict[str, np.ndarray]],
) -> None:
    """Why export_version exists: the notebook's ``tf.saved_model.save(model)`` breaks on Keras 3.

    The session loader restores such a model without complaint; running it then fails, as TF
    Serving's predict does (keras-team/keras#20095, kserve/kserve#3801).
    """
    import keras

    out = session_loader_outputs["seed-style"]
    if int(keras.__version__.split(".")[0]) >= 3:
        assert str(out["outcome"]) == "run failed", str(out["error"])
        assert str(out["error"]).startswith("FailedPreconditionError: ")
        assert "Could not find variable" in str(out["error"])
    else:
        assert (str(out["outcome"]), str(out["error"])) == ("ok", "")


@pytest.mark.parametrize("version", [0, -1, "abc", "", True, 1.5, None, "1.0"])
def test_versions_that_are_not_positive_integers_are_refused(
    trained_tiny,
    tmp_path: Path,
    version: object,
) -> None:
    with pytest.raises(ExportError, match=f"version must be a positive integer, got {version!r}"):
        export_version(trained_tiny, tmp_path, version)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_decimal_string_versions_are_accepted() -> None:
    assert parse_version("7") == 7
    assert parse_version(12) == 12


def test_existing_version_is_not_overwritten_unless_asked(
    exported_v1: Path,
    trained_tiny,
    trained_tiny_v2,
    synthetic_dataset,
    tmp_path: Path,
) -> None:
    import tensorflow as tf

    base = tmp_path / "base"
    first = export_version(trained_tiny, base, 1)
    with pytest.raises(ExportError, match=f"version 1 already exists at {first}"):
        export_version(trained_tiny_v2, base, 1)
    export_version(trained_tiny_v2, base, 1, overwrite=True)
    assert sorted(p.name for p in base.iterdir()) == ["1"]
    batch = scale_images(synthetic_dataset.x_test[:4])
    served = tf.saved_model.load(str(first)).signatures["serving_default"](
        images=tf.constant(batch)
    )
    np.testing.assert_allclose(
        served["probabilities"].numpy(), np.asarray(trained_tiny_v2(batch)), atol=1e-6
    )


def test_base_path_that_cannot_be_created_is_a_clear_error(trained_tiny, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(ExportError, match=f"cannot create base path {blocker / 'base'}"):
        export_version(trained_tiny, blocker / "base", 1)


def test_no_numeric_directory_exists_until_the_export_is_complete(
    trained_tiny,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tensorflow as tf

    real_save = tf.saved_model.save
    seen_during_save: list[list[str]] = []

    def watching_save(obj, export_dir, *args, **kwargs):
        seen_during_save.append(sorted(os.listdir(tmp_path)))
        real_save(obj, export_dir, *args, **kwargs)
        seen_during_save.append(sorted(os.listdir(tmp_path)))

    monkeypatch.setattr(tf.saved_model, "save", watching_save)
    export_version(trained_tiny, tmp_path, 3)
    assert len(seen_during_save) == 2
    for listing in seen_during_save:
        assert not [name for name in listing if name.strip().lstrip("+-").isdigit()], listing
    assert seen_during_save[0] == []
    assert len(seen_during_save[1]) == 1
    assert seen_during_save[1][0].startswith(".export-3-")
    assert sorted(os.listdir(tmp_path)) == ["3"]
    assert (tmp_path / "3" / "saved_model.pb").is_file()


def test_failed_save_leaves_no_trace(
    trained_tiny, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tensorflow as tf

    def failing_save(obj, export_dir, *args, **kwargs):
        Path(export_dir).mkdir()
        (Path(export_dir) / "saved_model.pb").write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tf.saved_model, "save", failing_save)
    with pytest.raises(ExportError, match="No space left on device"):
        export_version(trained_tiny, tmp_path, 1)
    assert os.listdir(tmp_path) == []


def _dense_model(input_shape: tuple[int, ...], outputs: int):
    import keras

    return keras.Sequential(
        [keras.Input(input_shape), keras.layers.Flatten(), keras.layers.Dense(outputs)]
    )


def test_a_model_with_other_than_ten_outputs_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    with pytest.raises(ExportError, match=r"returns shape \[None, 12\]; .* \(N, 10\)"):
        export_version(_dense_model((28, 28, 1), 12), tmp_path / "base", 1)
    assert not (tmp_path / "base").exists()


def test_a_model_for_other_images_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"does not take \(N, 28, 28, 1\) float32 images: "):
        export_version(_dense_model((32, 32, 3), 10), tmp_path / "base", 1)
    assert not (tmp_path / "base").exists()


def test_inspect_refuses_a_directory_without_saved_model(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no saved_model\.pb"):
        inspect(tmp_path)


def test_inspect_names_the_tag_sets_it_found(exported_v1: Path) -> None:
    with pytest.raises(
        ValueError, match=r"no MetaGraph with tags \['gpu', 'serve'\] \(found \[\['serve'\]\]\)"
    ):
        inspect(exported_v1, "serve,gpu")


def test_description_reads_like_saved_model_cli(exported_v1: Path) -> None:
    text = format_description(inspect(exported_v1))
    assert text.startswith(
        "MetaGraphDef with tag-set: 'serve' contains the following SignatureDefs:"
    )
    expected_block = "\n".join(
        [
            "signature_def['serving_default']:",
            "  The given SavedModel SignatureDef contains the following input(s):",
            "    inputs['images'] tensor_info:",
            "        dtype: DT_FLOAT",
            "        shape: (-1, 28, 28, 1)",
            "        name: serving_default_images:0",
            "  The given SavedModel SignatureDef contains the following output(s):",
            "    outputs['probabilities'] tensor_info:",
            "        dtype: DT_FLOAT",
            "        shape: (-1, 10)",
        ]
    )
    assert expected_block in text
    assert "  Method name is: tensorflow/serving/predict" in text
