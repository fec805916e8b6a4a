"""How ``Servable.run`` runs a graph: session callables, as TF Serving's C++ ``Session::Run`` does.

TF Serving feeds tensors to ``Session::Run`` in C++ (``predict_util.cc``, ``util.cc``). That call
checks the names it is given (each must be in the graph, none both fed and fetched, at least one
fetch) and each fed tensor's dtype against its endpoint (``FunctionCallFrame::SetArgs``:
``Expects arg[i] to be float but double is provided``, i counting feeds in name order), and
nothing else: ``DirectSession`` rewrites the graph so each fed endpoint becomes an argument
(TensorFlow's ``subgraph.cc``), so a placeholder's declared shape is never compared with the
value, and any tensor, placeholder or not, can be fed. Only a kernel that consumes the value can
fail, at run time, with its own INVALID_ARGUMENT text.

Python's ``Session.run`` adds checks of its own (static shape, feedability, dtype conversion)
that would refuse requests the real server answers, such as ``{"instances": [1.0, 2.0, 5.0]}``
to a model whose ``x`` is declared ``[-1, 1]``. A session callable (TensorFlow's
``Session::MakeCallable``) hands the values straight to the C++ session, so every run goes
through one: it is both the faithful road and the fast one (no per-run Python bookkeeping).
The errors are the C++ session's own, e.g. ``Must specify at least one target to fetch or
execute.`` and ``x:0 is both fed and fetched.``; the dtype check, which ``Session::MakeCallable``
leaves to the argument kernel (with another text), is made here as ``Session::Run`` makes it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import config_pb2

from fashion.serving.runtime.variant_outputs import variant_array

__all__ = ["MAX_CALLABLES", "MAX_STRING_RANK", "SessionCallables"]

MAX_CALLABLES = 32
"""Session callables kept per version (one per fed inputs, fetched outputs and deadline); past
this many, a run makes a callable for itself and releases it afterwards."""

_RunKey = tuple[tuple[str, ...], tuple[str, ...], int]


@dataclasses.dataclass(frozen=True)
class _Run:
    """A session callable and what ``Session::Run`` checks of its feeds' dtypes."""

    call: Callable[..., list[Any]]
    dtypes: tuple[tf.DType, ...]  # each feed's endpoint dtype, in feed order
    name_order: tuple[int, ...]  # feed positions sorted by tensor name (the arg indices)
    variant_positions: tuple[int, ...] = ()  # fetches made through their SerializeTensor node

    def fetched(self, values: list[Any]) -> list[Any]:
        """The run's values, each variant read back from its serialized form."""
        for position in self.variant_positions:
            values[position] = variant_array(values[position])
        return values

    def check_dtypes(self, values: Sequence[np.ndarray]) -> None:
        for arg, position in enumerate(self.name_order):
            expected, value = self.dtypes[position], values[position]
            fed = _tf_dtype(value.dtype)
            if fed != expected:
                raise tf.errors.InvalidArgumentError(
                    None,
                    None,
                    f"Expects arg[{arg}] to be {_type_string(expected)} but "
                    f"{_type_string(fed)} is provided",
                )


#: Strings of a higher rank kill the process that hands them to TensorFlow (its conversion of a
#: numpy string array of rank 33 to 64 segfaults, TensorFlow 2.15 to 2.21, and so does
#: ``Tensor.numpy()`` of such a string tensor; numbers convert).
MAX_STRING_RANK = 32


def _check_string_ranks(values: Sequence[np.ndarray]) -> None:
    """Refuse what would crash the stand-in: a deviation, since TF Serving feeds such a tensor
    to the model, whose kernels answer (ParseExample: ``Expected serialized to be a vector``)."""
    for value in values:
        if value.ndim > MAX_STRING_RANK and value.dtype.kind in "OSU":
            raise tf.errors.InvalidArgumentError(
                None,
                None,
                f"The TF Serving stand-in cannot feed a string tensor of rank {value.ndim} "
                f"(more than {MAX_STRING_RANK}): TensorFlow's conversion of it crashes the "
                "process",
            )


def _tf_dtype(dtype: np.dtype) -> tf.DType:
    return tf.string if dtype.kind in "OSU" else tf.as_dtype(dtype)


def _type_string(dtype: tf.DType) -> str:
    """TensorFlow's ``DataTypeString``: ``float``, ``double``, ``string``, ``int64``..."""
    return types_pb2.DataType.Name(dtype.as_datatype_enum).removeprefix("DT_").lower()


class SessionCallables:
    """The callables of one session, made on first use and kept until :meth:`clear`.

    Safe to use from several threads: lookups are lock-free dictionary reads, creation happens
    under a lock, and TensorFlow runs one callable from several threads at once.
    """

    def __init__(
        self, session: tf.compat.v1.Session, serialized_variants: Mapping[str, str] | None = None
    ) -> None:
        """``serialized_variants``: variant tensor name -> its ``SerializeTensor`` node's output
        (``variant_outputs.serialize_variant_outputs``), fetched in its place."""
        self._session = session
        self._serialized_variants = dict(serialized_variants or {})
        self._callables: dict[_RunKey, _Run] = {}
        self._lock = threading.Lock()

    def run(
        self,
        feeds: Sequence[str],
        values: Sequence[np.ndarray],
        fetches: Sequence[str],
        timeout_ms: int,
    ) -> list[Any]:
        """Run the graph: feed ``values`` to the tensors named ``feeds``, fetch ``fetches``.

        Args:
            feeds: tensor names to feed, in the order of ``values``.
            values: the fed values.
            fetches: tensor names to fetch.
            timeout_ms: the run's deadline (0 = none).

        Returns:
            The fetched values, in the order of ``fetches``.

        Raises:
            tf.errors.OpError: what the C++ session reports, whether it refuses the run (a name
                missing from the graph, nothing to fetch, a feed of another dtype than its
                tensor) or a kernel fails.
        """
        key = (tuple(feeds), tuple(fetches), timeout_ms)
        run = self._callables.get(key)
        if run is None:
            run = self._kept_or_new(key)
        run.check_dtypes(values)
        _check_string_ranks(values)
        return run.fetched(run.call(*values))

    def clear(self) -> None:
        """Drop every callable; call it while their session is still open."""
        with self._lock:
            self._callables.clear()

    def _kept_or_new(self, key: _RunKey) -> _Run:
        with self._lock:
            run = self._callables.get(key)
            if run is None:
                run = self._make(*key)
                if len(self._callables) < MAX_CALLABLES:
                    self._callables[key] = run
            return run

    def _make(self, feeds: tuple[str, ...], fetches: tuple[str, ...], timeout_ms: int) -> _Run:
        variant_positions = tuple(
            position for position, name in enumerate(fetches) if name in self._serialized_variants
        )
        fetched = [self._serialized_variants.get(name, name) for name in fetches]
        options = config_pb2.CallableOptions(feed=feeds, fetch=fetched)
        if timeout_ms > 0:
            options.run_options.timeout_in_ms = timeout_ms
        # TensorFlow's own wrapper of Session::MakeCallable (tf.compat.v1 has no public name for
        # it; it exists from TF 1.x through 2.21). Errors are the C++ session's (OpError): made
        # first, so that they come before the dtype check, as in Session::Run.
        call = self._session._make_callable_from_options(options)
        graph = self._session.graph
        dtypes = tuple(graph.get_tensor_by_name(name).dtype.base_dtype for name in feeds)
        name_order = tuple(sorted(range(len(feeds)), key=feeds.__getitem__))
        return _Run(call, dtypes, name_order, variant_positions)
