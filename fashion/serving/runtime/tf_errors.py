"""TensorFlow's errors as the statuses TF Serving reports: its code, its C++ text.

A session's error reaches Python as an ``OpError`` whose text Python may have decorated, or, when
the C++ text is not UTF-8, as a ``UnicodeDecodeError`` that has lost the code.
"""

from __future__ import annotations

import tensorflow as tf

from fashion.serving.status import Code, ServingStatusError

__all__ = ["status_from_op_error", "status_from_undecodable_message"]


def _raw_op_error_message(exc: tf.errors.OpError) -> str:
    """The C++ status message of a TensorFlow error, without Python's decorations.

    ``Session.run`` re-raises runtime errors with ``Graph execution error:`` prepended and the
    original error as ``__context__``; TF Serving reports the original text.
    """
    context = exc.__context__
    if isinstance(context, tf.errors.OpError) and context.error_code == exc.error_code:
        return context.message
    return exc.message


def status_from_op_error(exc: tf.errors.OpError) -> ServingStatusError:
    """TensorFlow's code and C++ text, as TF Serving passes a session's error on."""
    try:
        code = Code(exc.error_code)
    except ValueError:
        code = Code.UNKNOWN
    return ServingStatusError(code, _raw_op_error_message(exc))


def status_from_undecodable_message(exc: UnicodeDecodeError) -> ServingStatusError:
    """The status of a kernel error whose text TensorFlow's Python session cannot decode.

    Kernels quote the bytes they could not use (ParseExample's ``Could not parse example input,
    value: '...'``), and the session decodes the status text as UTF-8 before it can raise the
    OpError: the code is lost, and the text arrives cut at the first NUL byte. The bytes are
    kept as they came (TF Serving writes them back unchecked), under INVALID_ARGUMENT: the code
    of the kernels that quote their input (ParseExample, StringToNumber).
    """
    raw = exc.object if isinstance(exc.object, bytes) else bytes(exc.object)
    return ServingStatusError(Code.INVALID_ARGUMENT, raw.decode("utf-8", "surrogateescape"))
