"""One loaded model version: a SavedModel in a TF1-style session, run by tensor names.

TF Serving loads SavedModels with TensorFlow's C++ ``LoadSavedModel`` into a ``Session`` and runs
signatures by feeding and fetching graph tensor names. The Python equivalent is the TF1 loader
(``tf.compat.v1.saved_model.loader.load``) in a fresh ``Graph`` and ``Session``; it accepts and
rejects the same SavedModels and fails at the same moment (a Keras 3 model written with
``tf.saved_model.save`` loads, then every run fails with ``Could not find variable dense/bias``),
which ``tf.saved_model.load`` would hide. Errors leave this module as ``ServingStatusError`` with
TensorFlow's code and TensorFlow's C++ message text.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Mapping, Sequence

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import config_pb2, meta_graph_pb2

from fashion.serving.logs import texts as log
from fashion.serving.runtime.session_callables import SessionCallables
from fashion.serving.runtime.signature_info import (
    SignatureInfo,
    SignatureTensor,
    dtype_name,
    signature_info,
)
from fashion.serving.runtime.tf_errors import status_from_op_error, status_from_undecodable_message
from fashion.serving.runtime.variant_outputs import serialize_variant_outputs
from fashion.serving.status import Code, ServingStatusError

__all__ = ["LoadOptions", "Servable", "SignatureInfo", "SignatureTensor"]


_SAVED_MODEL_PB = "saved_model.pb"
_SAVED_MODEL_PBTXT = "saved_model.pbtxt"


@dataclasses.dataclass(frozen=True)
class LoadOptions:
    """How versions are loaded: the session-related flags of the model server (``main.cc``).

    Attributes:
        tags: the MetaGraph tag set (``--saved_model_tags`` split on commas).
        intra_op_parallelism: ``--tensorflow_intra_op_parallelism`` (0 = TensorFlow's choice).
        inter_op_parallelism: ``--tensorflow_inter_op_parallelism``.
        session_parallelism: ``--tensorflow_session_parallelism``, used for both when neither of
            the two above is set.
        session_config: the parsed ``--tensorflow_session_config_file``, if any; the parallelism
            fields above override its thread counts, as in TF Serving.
        enable_warmup: ``--enable_model_warmup``: replay
            ``assets.extra/tf_serving_warmup_requests``.
        warmup_iterations: ``--num_request_iterations_for_warmup`` (values < 1 mean once).
    """

    tags: tuple[str, ...] = ("serve",)
    intra_op_parallelism: int = 0
    inter_op_parallelism: int = 0
    session_parallelism: int = 0
    session_config: config_pb2.ConfigProto | None = None
    enable_warmup: bool = True
    warmup_iterations: int = 0


def _session_config(options: LoadOptions) -> config_pb2.ConfigProto:
    """The session ConfigProto TF Serving builds from the flags (``server.cc``)."""
    config = config_pb2.ConfigProto()
    if options.session_config is not None:
        config.CopyFrom(options.session_config)
    if options.intra_op_parallelism > 0 or options.inter_op_parallelism > 0:
        config.intra_op_parallelism_threads = options.intra_op_parallelism
        config.inter_op_parallelism_threads = options.inter_op_parallelism
    else:
        config.intra_op_parallelism_threads = options.session_parallelism
        config.inter_op_parallelism_threads = options.session_parallelism
    return config


def _translate_load_error(
    exc: Exception, export_dir: str, tags: Sequence[str]
) -> ServingStatusError:
    """Turn what the Python loader raises into the status TF Serving's C++ loader reports."""
    if isinstance(exc, tf.errors.OpError):
        return status_from_op_error(exc)
    text = str(exc)
    if isinstance(exc, RuntimeError) and text.startswith("MetaGraphDef associated with tags"):
        return ServingStatusError(
            Code.NOT_FOUND,
            "Could not find meta graph def matching supplied tags: { "
            + " ".join(tags)
            + " }. To inspect available tag-sets in the SavedModel, please use the SavedModel "
            "CLI: `saved_model_cli`",
        )
    if isinstance(exc, OSError) and text.startswith("Cannot parse file"):
        pb = os.path.join(export_dir, _SAVED_MODEL_PB)
        if os.path.exists(pb):
            return ServingStatusError(Code.DATA_LOSS, f"Can't parse {pb} as binary proto")
        pbtxt = os.path.join(export_dir, _SAVED_MODEL_PBTXT)
        return ServingStatusError(Code.DATA_LOSS, f"Can't parse {pbtxt} as text proto")
    return ServingStatusError(Code.UNKNOWN, text)


def _read_bundle(
    export_dir: str, options: LoadOptions
) -> tuple[tf.compat.v1.Session, meta_graph_pb2.MetaGraphDef]:
    if not (
        os.path.exists(os.path.join(export_dir, _SAVED_MODEL_PB))
        or os.path.exists(os.path.join(export_dir, _SAVED_MODEL_PBTXT))
    ):
        raise ServingStatusError(
            Code.NOT_FOUND,
            "Could not find SavedModel .pb or .pbtxt at supplied export directory path: "
            f"{export_dir}. Check that the directory exists and that you have the right "
            "permissions for accessing it.",
        )
    graph = tf.Graph()
    session = tf.compat.v1.Session(graph=graph, config=_session_config(options))
    try:
        with graph.as_default():
            meta_graph = tf.compat.v1.saved_model.loader.load(
                session, list(options.tags), export_dir
            )
    # The loader can fail in many ways (OpError, RuntimeError, OSError, ValueError, DecodeError);
    # each becomes a load status here, the boundary where TensorFlow's exceptions stop.
    except Exception as exc:
        session.close()
        raise _translate_load_error(exc, export_dir, options.tags) from exc
    return session, meta_graph


class Servable:
    """A loaded SavedModel version, safe to run from several threads at once.

    Build one with :meth:`load`. ``run`` may be called concurrently (``Session.run`` releases the
    GIL); ``close`` must only be called once no ``run`` is in flight, which the model manager
    guarantees by reference counting.
    """

    def __init__(
        self,
        export_dir: str,
        session: tf.compat.v1.Session,
        meta_graph: meta_graph_pb2.MetaGraphDef,
    ) -> None:
        self._export_dir = export_dir
        self._session = session
        self._signature_defs: dict[str, meta_graph_pb2.SignatureDef] = dict(
            meta_graph.signature_def
        )
        self._signatures = {k: signature_info(v) for k, v in self._signature_defs.items()}
        self._output_dtypes = {
            name: _endpoint_dtypes(session.graph, signature)
            for name, signature in self._signature_defs.items()
        }
        self._closed = False
        self._close_lock = threading.Lock()
        outputs = (
            info.name for sig in self._signature_defs.values() for info in sig.outputs.values()
        )
        self._callables = SessionCallables(
            session, serialize_variant_outputs(session.graph, outputs)
        )

    @classmethod
    def load(cls, export_dir: str, options: LoadOptions | None = None) -> Servable:
        """Load a SavedModel directory (warm-up is the loader's next step, not this one's).

        Args:
            export_dir: the version directory (``{base_path}/{version}``).
            options: session and warm-up options.

        Returns:
            The loaded servable.

        Raises:
            ServingStatusError: with TensorFlow's code and message when loading fails.
        """
        options = options or LoadOptions()
        start = time.monotonic()
        log.reading_saved_model(export_dir)
        try:
            session, meta_graph = _read_bundle(export_dir, options)
        except ServingStatusError as exc:
            log.saved_model_loaded(options.tags, int((time.monotonic() - start) * 1e6), exc)
            raise
        log.saved_model_loaded(options.tags, int((time.monotonic() - start) * 1e6))
        return cls(export_dir, session, meta_graph)

    @property
    def export_dir(self) -> str:
        """The directory this version was loaded from."""
        return self._export_dir

    @property
    def signatures(self) -> Mapping[str, SignatureInfo]:
        """Signature name -> method name, inputs and outputs."""
        return self._signatures

    @property
    def signature_defs(self) -> Mapping[str, meta_graph_pb2.SignatureDef]:
        """The raw SignatureDef protos, for the metadata API (``get_model_metadata_impl.cc``)."""
        return self._signature_defs

    def output_dtypes(self, signature_name: str) -> Mapping[str, str]:
        """Output alias -> dtype of the tensor a run of the signature produces.

        TF Serving writes what the run returned (``predict_util.cc``: ``AsProtoField``), never
        the dtype the SignatureDef declares, so a declared ``float_ref`` output is written as the
        ``float`` the session returns.
        """
        return self._output_dtypes[signature_name]

    def run(
        self,
        signature_name: str,
        feeds: Mapping[str, np.ndarray],
        timeout_ms: int | None = None,
        output_filter: Sequence[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Run a signature by tensor names, as TF Serving's ``RunPredict`` does.

        Inputs missing from ``feeds`` are taken from the signature's ``defaults`` when it has
        them; unknown or missing inputs are rejected with TF Serving's texts.

        Args:
            signature_name: the signature key.
            feeds: input alias -> value.
            timeout_ms: deadline of the session run; None or <= 0 means none.
            output_filter: output aliases to fetch, in this order; None or empty fetches all.

        Returns:
            Output alias -> value.

        Raises:
            ServingStatusError: FAILED_PRECONDITION for an unknown signature, INVALID_ARGUMENT
                for input/output mismatches, or TensorFlow's runtime error (DEADLINE_EXCEEDED when
                the timeout expires).
        """
        signature = self._signature_defs.get(signature_name)
        if signature is None:
            raise ServingStatusError(
                Code.FAILED_PRECONDITION, f'Serving signature key "{signature_name}" not found.'
            )
        feed_dict = _feed_dict(signature, feeds)
        aliases = _fetch_aliases(signature, output_filter)
        fetches = [signature.outputs[alias].name for alias in aliases]
        values = self._run(feed_dict, fetches, timeout_ms)
        return dict(zip(aliases, values, strict=True))

    def run_tensors(
        self,
        feeds: Mapping[str, np.ndarray],
        fetches: Sequence[str],
        timeout_ms: int | None = None,
    ) -> dict[str, np.ndarray]:
        """Run the graph by tensor names, as ``PerformOneShotTensorComputation`` does.

        Args:
            feeds: tensor name -> value.
            fetches: tensor names to fetch (a name may repeat).
            timeout_ms: deadline of the session run; None or <= 0 means none.

        Returns:
            Tensor name -> value.

        Raises:
            ServingStatusError: TensorFlow's error, with its code.
        """
        return dict(zip(fetches, self._run(feeds, fetches, timeout_ms), strict=True))

    def _run(
        self, feed_dict: Mapping[str, np.ndarray], fetches: Sequence[str], timeout_ms: int | None
    ) -> list[np.ndarray]:
        timeout = int(timeout_ms) if timeout_ms is not None and timeout_ms > 0 else 0
        if self._closed:
            raise ServingStatusError(Code.UNAVAILABLE, "Servable has been unloaded")
        try:
            values = self._callables.run(
                list(feed_dict), list(feed_dict.values()), fetches, timeout
            )
        except tf.errors.OpError as exc:
            raise status_from_op_error(exc) from exc
        except UnicodeDecodeError as exc:
            raise status_from_undecodable_message(exc) from exc
        # A scalar string comes back as bytes; np.asarray would make it an "S" array, which
        # drops trailing NUL bytes. A 0-d object array keeps them.
        return [np.array(v, dtype=object) if isinstance(v, bytes) else v for v in values]

    def close(self) -> None:
        """Release the session (idempotent)."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._callables.clear()  # released while their session is still open
        self._session.close()


def _endpoint_dtypes(graph: tf.Graph, signature: meta_graph_pb2.SignatureDef) -> dict[str, str]:
    """Output alias -> short name of the graph tensor's dtype (the declared one if it is absent:
    the run then fails before anything is written)."""
    dtypes: dict[str, str] = {}
    for alias, info in signature.outputs.items():
        try:
            dtype = graph.get_tensor_by_name(info.name).dtype.base_dtype.as_datatype_enum
        except (KeyError, ValueError):
            dtype = info.dtype
        dtypes[alias] = dtype_name(dtype)
    return dtypes


def _feed_dict(
    signature: meta_graph_pb2.SignatureDef, feeds: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Map input aliases to tensor names with TF Serving's checks (``predict_util.cc``)."""
    request_keys = sorted(feeds)
    signature_keys = sorted(signature.inputs)
    if len(feeds) > len(signature.inputs) or (
        len(feeds) < len(signature.inputs) and not signature.defaults
    ):
        extra = sorted(set(request_keys) - set(signature_keys))
        missing = sorted(set(signature_keys) - set(request_keys))
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            f"input size does not match signature: {len(feeds)}!={len(signature.inputs)} "
            f"len({{{','.join(request_keys)}}}) != len({{{','.join(signature_keys)}}}). "
            f"Sent extra: {{{','.join(extra)}}}. Missing but required: {{{','.join(missing)}}}.",
        )
    feed_dict: dict[str, np.ndarray] = {}
    seen: list[str] = []
    for alias in signature_keys:
        info = signature.inputs[alias]
        if alias in feeds:
            feed_dict[info.name] = feeds[alias]
            seen.append(alias)
        elif alias in signature.defaults:
            feed_dict[info.name] = tf.make_ndarray(signature.defaults[alias])
        else:
            raise ServingStatusError(
                Code.INVALID_ARGUMENT,
                f"Signature input alias: {alias}(feed name: {info.name}) not found in request and "
                f"no default value provided. Inputs expected to be in the request "
                f"{{{','.join(request_keys)}}}, or default input alias set: "
                f"{','.join(sorted(signature.defaults))}",
            )
    if feeds and len(seen) != len(feeds):
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            f"Inputs contains invalid name. Used request inputs: {','.join(seen)}, request input: "
            f"{','.join(request_keys)}",
        )
    return feed_dict


def _fetch_aliases(
    signature: meta_graph_pb2.SignatureDef, output_filter: Sequence[str] | None
) -> list[str]:
    if not output_filter:
        return sorted(signature.outputs)
    aliases: list[str] = []
    for alias in output_filter:
        if alias not in signature.outputs:
            raise ServingStatusError(
                Code.INVALID_ARGUMENT,
                f"output tensor alias not found in signature: {alias} Outputs expected to be in "
                f"the set {{{','.join(sorted(signature.outputs))}}}.",
            )
        if alias in aliases:
            raise ServingStatusError(
                Code.INVALID_ARGUMENT, f"duplicate output tensor alias: {alias}"
            )
        aliases.append(alias)
    return aliases
