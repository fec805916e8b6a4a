"""The protos the gRPC client sends and reads: feeds cast as REST casts, Examples, results, JSON.

Apart from :mod:`fashion.clients.grpc` so that the client there keeps to the RPCs (which to
make, what to check of an answer, the signature cache), and so that what a request carries and
how an answer reads in REST's shapes are each written in one place. Importing this module
imports TensorFlow: the message classes live in its package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from google.protobuf import text_format
from google.protobuf.message import Message
from tensorflow.core.example import example_pb2, feature_pb2
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_status_pb2,
    inference_pb2,
    input_pb2,
    model_management_pb2,
    model_pb2,
    predict_pb2,
    regression_pb2,
    status_pb2,
)
from tensorflow_serving.config import model_server_config_pb2

from fashion.clients.version_status import VersionStatus
from fashion.serving.codec.proto_json import message_dict
from fashion.serving.runtime.variant_outputs import variant_proto_array

__all__ = [
    "DEFAULT_SIGNATURE",
    "Example",
    "Result",
    "as_rest_json",
    "as_tf_example",
    "classes",
    "example_input",
    "feeds",
    "inference_results",
    "output_arrays",
    "predict_request",
    "regression_values",
    "reload_config_request",
    "version_statuses",
]

#: The signature a request without ``signature_name`` asks (TF Serving's default too).
DEFAULT_SIGNATURE = "serving_default"

#: A ``tf.train.Example``, or a dict of feature values as REST's JSON gives them.
Example = Mapping[str, Any] | example_pb2.Example

#: What one Classify or Regress answers, in REST's ``results`` shape: per example, its
#: ``(label, score)`` classes, or its value.
Result = list[list[tuple[str, float]]] | list[float]


def feeds(
    inputs: Any, signature: meta_graph_pb2.SignatureDef | None, signature_name: str | None
) -> dict[str, tensor_pb2.TensorProto]:
    """The request's input tensors by name.

    A lone array goes under the signature's only input; values are cast to the declared dtype
    when the cast keeps their kind, as REST does with JSON numbers. With no such signature, a
    lone array is sent without a name: the server's answer names the missing signature in its
    own words.

    Raises:
        ValueError: a lone array for a signature without exactly one input.
    """
    if isinstance(inputs, Mapping):
        named = dict(inputs)
    elif signature is None:
        return {}
    elif len(signature.inputs) == 1:
        named = {next(iter(signature.inputs)): inputs}
    else:
        raise ValueError(
            f"signature {signature_name or DEFAULT_SIGNATURE!r} has inputs "
            f"{sorted(signature.inputs)}; pass a dict of arrays by input name"
        )
    declared = signature.inputs if signature is not None else {}
    return {
        name: tf.make_tensor_proto(_cast(value, declared.get(name)))
        for name, value in named.items()
    }


def predict_request(
    spec: model_pb2.ModelSpec,
    inputs: Mapping[str, tensor_pb2.TensorProto | Any],
    output_filter: Sequence[str] | None,
) -> predict_pb2.PredictRequest:
    """A Predict request that sends each input as given: a TensorProto, or an array's own dtype.

    Nothing is cast (unlike :func:`feeds`): ``tf.make_tensor_proto`` makes each array's tensor,
    as a production client does.
    """
    request = predict_pb2.PredictRequest(model_spec=spec, output_filter=output_filter or ())
    for name, value in inputs.items():
        tensor = value if isinstance(value, tensor_pb2.TensorProto) else tf.make_tensor_proto(value)
        request.inputs[name].CopyFrom(tensor)
    return request


def _cast(value: Any, info: meta_graph_pb2.TensorInfo | None) -> np.ndarray:
    array = np.asarray(value)
    if info is None:
        return array
    try:
        declared = np.dtype(tf.dtypes.as_dtype(info.dtype).as_numpy_dtype)
    except (TypeError, ValueError):  # DT_INVALID, or a type numpy has no twin for
        return array
    if array.dtype != declared and np.can_cast(array.dtype, declared, "same_kind"):
        return array.astype(declared)
    return array


def example_input(examples: Sequence[Example], context: Example | None) -> input_pb2.Input:
    """Classify's, Regress' and MultiInference's ``Input``: a list, with its context if any.

    Raises:
        ValueError: a feature value that is neither numbers nor str/bytes.
    """
    protos = [as_tf_example(example) for example in examples]
    if context is None:
        return input_pb2.Input(example_list=input_pb2.ExampleList(examples=protos))
    return input_pb2.Input(
        example_list_with_context=input_pb2.ExampleListWithContext(
            examples=protos, context=as_tf_example(context)
        )
    )


def as_tf_example(example: Example) -> example_pb2.Example:
    """A ``tf.train.Example`` as it is, or one built from a dict of feature values as REST's
    JSON gives them (numbers: int64 or float features; str/bytes: bytes features).

    Raises:
        ValueError: a feature value that is neither numbers nor str/bytes.
    """
    if isinstance(example, example_pb2.Example):
        return example
    return example_pb2.Example(
        features=feature_pb2.Features(
            feature={name: _feature(name, value) for name, value in example.items()}
        )
    )


def _feature(name: str, value: Any) -> feature_pb2.Feature:
    values = list(value) if isinstance(value, list | tuple | np.ndarray) else [value]
    if all(isinstance(v, str | bytes) for v in values) and values:
        data = [v.encode() if isinstance(v, str) else v for v in values]
        return feature_pb2.Feature(bytes_list=feature_pb2.BytesList(value=data))
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values) and values:
        return feature_pb2.Feature(int64_list=feature_pb2.Int64List(value=[int(v) for v in values]))
    if all(isinstance(v, float | int | np.number) and not isinstance(v, bool) for v in values):
        return feature_pb2.Feature(
            float_list=feature_pb2.FloatList(value=[float(v) for v in values])
        )
    raise ValueError(f"feature {name!r}: expected numbers, or str/bytes values, got {value!r}")


def output_arrays(outputs: Mapping[str, tensor_pb2.TensorProto]) -> dict[str, np.ndarray]:
    """Each answered tensor as an array of its dtype and shape, by output alias, sorted.

    Strings come as bytes, and a ``DT_VARIANT`` (a TensorList, say) as an object array of its
    ``VariantTensorDataProto`` s, as TF Serving answers them (``predict_util.cc``); numpy has no
    type for a variant, so ``tf.make_ndarray`` cannot read one, nor strings packed into
    ``tensor_content``.

    Raises:
        ValueError: a tensor does not decode, or is of a dtype numpy cannot hold.
    """
    arrays = {}
    for alias in sorted(outputs):
        proto = outputs[alias]
        try:
            if proto.dtype == types_pb2.DT_VARIANT:
                arrays[alias] = variant_proto_array(proto)
            elif proto.dtype == types_pb2.DT_STRING and proto.tensor_content:
                arrays[alias] = _string_content_array(proto)
            else:
                arrays[alias] = tf.make_ndarray(proto)
        except KeyError:  # make_ndarray's lookup of a dtype without a numpy type
            name = types_pb2.DataType.Name(proto.dtype)
            raise ValueError(f"output {alias!r} is a {name}, which has no numpy type") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"output {alias!r}: {exc}") from exc
    return arrays


def _string_content_array(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """Strings packed into ``tensor_content`` (``AsProtoTensorContent``: what TF Serving answers
    under ``--enable_serialization_as_tensor_content``), read by TensorFlow's own parser, since
    ``tf.make_ndarray`` reads only ``string_val``."""
    try:
        return tf.io.parse_tensor(proto.SerializeToString(), tf.string).numpy()
    except tf.errors.InvalidArgumentError as exc:
        raise ValueError(exc.message) from exc


def classes(result: classification_pb2.ClassificationResult) -> list[list[tuple[str, float]]]:
    """Per example, its ``(label, score)`` classes: REST's ``results`` shape."""
    return [[(c.label, c.score) for c in entry.classes] for entry in result.classifications]


def regression_values(result: regression_pb2.RegressionResult) -> list[float]:
    """One value per example: REST's ``results`` shape."""
    return [regression.value for regression in result.regressions]


def inference_results(response: inference_pb2.MultiInferenceResponse) -> list[Result]:
    """Per task, in order, its :func:`classes` or its :func:`regression_values`."""
    return [
        classes(result.classification_result)
        if result.WhichOneof("result") == "classification_result"
        else regression_values(result.regression_result)
        for result in response.results
    ]


def reload_config_request(
    config: model_server_config_pb2.ModelServerConfig | str,
) -> model_management_pb2.ReloadConfigRequest:
    """A ReloadConfig request for a configuration, or for its text format (a config file's).

    Raises:
        ValueError: ``config`` text that does not parse.
    """
    if isinstance(config, str):
        try:
            config = text_format.Parse(config, model_server_config_pb2.ModelServerConfig())
        except text_format.ParseError as exc:
            raise ValueError(f"not a ModelServerConfig in text format: {exc}") from None
    return model_management_pb2.ReloadConfigRequest(config=config)


def version_statuses(
    response: get_model_status_pb2.GetModelStatusResponse,
) -> list[VersionStatus]:
    """The versions' states and error codes by name, as REST's JSON spells them.

    Raises:
        KeyError, ValueError: a state or code this TensorFlow Serving does not know.
    """
    states = get_model_status_pb2.ModelVersionStatus.State
    codes = status_pb2.StatusProto.DESCRIPTOR.fields_by_name["error_code"].enum_type
    return [
        VersionStatus(
            version=entry.version,
            state=states.Name(entry.state),
            error_code=codes.values_by_number[entry.status.error_code].name,
            error_message=entry.status.error_message,
        )
        for entry in response.model_version_status
    ]


def as_rest_json(message: Message) -> dict[str, Any]:
    """A message as TF Serving's REST layer prints it (``http_rest_api_util.cc``), with the
    stand-in's printer of the same."""
    return message_dict(message)
