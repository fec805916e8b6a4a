"""The texts of a model version's life: found on disk, loaded, warmed up, served, unloaded.

From ``core/basic_manager.cc``, ``core/loader_harness.cc``, ``util/retrier.cc``, the SavedModel
loader and ``sources/storage_path/file_system_storage_path_source.cc``: what a harness waits for
between "the server is up" and "version N serves" (``Successfully loaded servable version``).
"""

from __future__ import annotations

import logging

from fashion.serving.logs.lines import write_line
from fashion.serving.logs.texts.common import servable_id, status_text
from fashion.serving.status import ServingStatusError

__all__ = [
    "approving_load",
    "done_quiescing",
    "done_unloading",
    "duplicate_version_directories",
    "encountered_error",
    "filesystem_access_error",
    "finished_warmup",
    "load_failed",
    "load_retries_cancelled",
    "load_retries_exhausted",
    "loaded_servable",
    "loading_servable",
    "no_specific_versions_requested",
    "no_versions_found",
    "no_warmup_data",
    "quiescing",
    "reading_saved_model",
    "retrying_load",
    "saved_model_loaded",
    "servable_cannot_be_loaded",
    "specific_version_not_found",
    "starting_warmup",
    "successfully_reserved_resources",
    "unfinished_work_after_stop",
    "unloading",
]


# --- servable life cycle (basic_manager.cc, loader_harness.cc, retrier.cc) -------------------


def successfully_reserved_resources(model: str, version: int) -> None:
    """Before each load."""
    write_line(
        logging.INFO,
        f"Successfully reserved resources to load servable {servable_id(model, version)}",
    )


def approving_load(model: str, version: int) -> None:
    """The manager approves a load."""
    write_line(logging.INFO, f"Approving load for servable version {servable_id(model, version)}")


def loading_servable(model: str, version: int) -> None:
    """A load attempt starts."""
    write_line(logging.INFO, f"Loading servable version {servable_id(model, version)}")


def loaded_servable(model: str, version: int) -> None:
    """The version is AVAILABLE; the line harnesses wait for."""
    write_line(logging.INFO, f"Successfully loaded servable version {servable_id(model, version)}")


def load_failed(model: str, version: int, status: str | ServingStatusError) -> None:
    """One failed load attempt (``status`` rendered as ``CODE_NAME: message``)."""
    write_line(
        logging.ERROR,
        f"Loading servable: {servable_id(model, version)} failed: {status_text(status)}",
    )


def retrying_load(model: str, version: int, retry: int) -> None:
    """Before retry number ``retry`` (1-based) of a failed load."""
    write_line(
        logging.INFO,
        f"Retrying of Loading servable: {servable_id(model, version)} retry: {retry}",
    )


def load_retries_cancelled(model: str, version: int) -> None:
    """The version stopped being aspired while its load was being retried."""
    write_line(
        logging.INFO,
        f"Retrying of Loading servable: {servable_id(model, version)} was cancelled.",
    )


def load_retries_exhausted(model: str, version: int, max_num_retries: int) -> None:
    """Every attempt failed (logged after the last ``load_failed``)."""
    write_line(
        logging.INFO,
        f"Retrying of Loading servable: {servable_id(model, version)} "
        f"exhausted max_num_retries: {max_num_retries}",
    )


def encountered_error(model: str, version: int, status: str | ServingStatusError) -> None:
    """The load failed for good; the version goes to END (an INFO line in the real server)."""
    write_line(
        logging.INFO,
        f"Encountered an error for servable version {servable_id(model, version)}: "
        f"{status_text(status)}",
    )


def quiescing(model: str, version: int) -> None:
    """Unload begins."""
    write_line(logging.INFO, f"Quiescing servable version {servable_id(model, version)}")


def done_quiescing(model: str, version: int) -> None:
    """No new requests reach the version any more."""
    write_line(logging.INFO, f"Done quiescing servable version {servable_id(model, version)}")


def unloading(model: str, version: int) -> None:
    """Unload proper (since TF Serving 2.9 this text is used for every unload)."""
    write_line(
        logging.INFO, f"Unloading just-loaded servable version {servable_id(model, version)}"
    )


def done_unloading(model: str, version: int) -> None:
    """The version is END."""
    write_line(logging.INFO, f"Done unloading servable version {servable_id(model, version)}")


def reading_saved_model(directory: str) -> None:
    """TensorFlow's loader, before reading a SavedModel."""
    write_line(logging.INFO, f"Reading SavedModel from: {directory}")


def saved_model_loaded(
    tags: list[str] | tuple[str, ...], microseconds: int, error: ServingStatusError | None = None
) -> None:
    """TensorFlow's loader, after a SavedModel load, successful or not."""
    tag_text = " ".join(tags)
    outcome = "success: OK" if error is None else f"fail: {error.as_status_text()}"
    write_line(
        logging.INFO,
        f"SavedModel load for tags {{ {tag_text} }}; Status: {outcome}. "
        f"Took {microseconds} microseconds.",
    )


def servable_cannot_be_loaded(model: str, version: int, status: str | ServingStatusError) -> None:
    """The manager gives up on a version (after ``encountered_error``, or when cancelled)."""
    write_line(
        logging.ERROR,
        f"Servable {servable_id(model, version)} cannot be loaded: {status_text(status)}",
    )


def unfinished_work_after_stop(seconds: int) -> None:
    """Stand-in only: a TensorFlow load cannot be interrupted, so ``stop`` stops waiting."""
    write_line(
        logging.WARNING, f"A load or unload still running {seconds} s after stop was left to finish"
    )


def no_warmup_data(path: str) -> None:
    """A version without warm-up records (the normal case)."""
    write_line(logging.INFO, f"No warmup data file found at {path}")


def starting_warmup(path: str, options_text: str) -> None:
    """Warm-up records are about to be replayed (``saved_model_warmup_util.cc``)."""
    write_line(
        logging.INFO,
        f"Starting to read warmup data for model at {path} with model-warmup-options "
        f"{options_text}",
    )


def finished_warmup(path: str, records: int, microseconds: int) -> None:
    """Every warm-up record replayed."""
    write_line(
        logging.INFO,
        f"Finished reading warmup data for model at {path}. Number of warmup records read: "
        f"{records}. Elapsed time (microseconds): {microseconds}.",
    )


# --- version discovery (file_system_storage_path_source.cc) ----------------------------------


def no_versions_found(model: str, base_path: str) -> None:
    """A scan found no numeric child under the base path."""
    write_line(
        logging.WARNING,
        f"No versions of servable {model} found under base path {base_path}. "
        "Did you forget to name your leaf directory as a number (eg. '/1/')?",
    )


def filesystem_access_error(message: str) -> None:
    """A scan failed (a missing base path: ``Could not find base path ...``); every scan."""
    write_line(
        logging.ERROR,
        f"FileSystemStoragePathSource encountered a filesystem access error: {message}",
    )


def specific_version_not_found(model: str, version: int) -> None:
    """A version listed in a ``specific`` policy has no directory."""
    write_line(
        logging.WARNING,
        f"Version {version} of servable {model}, which was requested to be served as a "
        "'specific' version in the servable's version policy, was not found in the file system",
    )


def no_specific_versions_requested(model: str) -> None:
    """A ``specific {}`` policy with an empty list."""
    write_line(logging.WARNING, f"No specific versions requested for servable {model}.")


def duplicate_version_directories(version: int, used: str, ignored: str) -> None:
    """Several children parse to the same version number."""
    write_line(
        logging.WARNING,
        f"Duplicate version directories detected. Version {version} will be loaded from "
        f"{used}, {ignored} will be ignored.",
    )
