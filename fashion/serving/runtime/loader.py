"""The stand-in's loader: what the model manager calls to turn a version directory into a servable.

TF Serving's ``SavedModelBundleFactory`` loads the bundle, then replays the version's warm-up
records (``saved_model_warmup.cc``); the version becomes AVAILABLE only after both, and a failed
warm-up fails the load. The two steps are composed here, so neither module knows the other.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fashion.serving.monitoring.metrics import Metrics
from fashion.serving.runtime.servable import LoadOptions, Servable
from fashion.serving.runtime.warmup import run_warmup
from fashion.serving.status import ServingStatusError

__all__ = ["load_version", "version_loader"]


def load_version(
    export_dir: str, options: LoadOptions | None = None, metrics: Metrics | None = None
) -> Servable:
    """Load one version directory, then replay its warm-up records.

    Args:
        export_dir: the version directory (``{base_path}/{version}``).
        options: session and warm-up options.
        metrics: where TensorFlow's SavedModel load counters go, if anywhere.

    Returns:
        The loaded, warmed-up servable.

    Raises:
        ServingStatusError: with TensorFlow's (or the warm-up's) code and message.
    """
    options = options or LoadOptions()
    start = time.monotonic()
    try:
        servable = Servable.load(export_dir, options)
    except ServingStatusError:
        if metrics is not None:
            metrics.count_load(export_dir, False, time.monotonic() - start)
        raise
    if metrics is not None:
        metrics.count_load(export_dir, True, time.monotonic() - start)
    if options.enable_warmup:
        try:
            run_warmup(servable, export_dir, options.warmup_iterations)
        except ServingStatusError:
            servable.close()
            raise
    return servable


def version_loader(
    options: LoadOptions, metrics: Metrics | None = None
) -> Callable[[str], Servable]:
    """The loader to hand the model manager: :func:`load_version` with ``options``."""
    return lambda export_dir: load_version(export_dir, options, metrics)
