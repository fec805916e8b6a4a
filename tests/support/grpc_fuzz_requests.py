"""The gRPC fuzz's families beyond tensors: the rest of ``PredictionService`` at its edges.

Input names wrong, empty, extra or missing; model specs absent, nameless, of unknown models,
versions and labels; unknown signatures; output filters naming other outputs, one twice, or tens
of thousands; ``tf.Example``s of any feature types for Classify, Regress and MultiInference;
metadata fields; and serialized requests with bytes flipped, inserted or cut. The expected codes
and texts are those of ``predict_util.cc``, ``server_core.cc``, ``classifier.cc``,
``regressor.cc``, ``multi_inference.cc`` and ``get_model_metadata_impl.cc`` (see
``grpc_fuzz_tensors`` for the case class and what no case sends).

Imports TensorFlow (the message classes) and Hypothesis.
"""

from __future__ import annotations

from google.protobuf.message import Message
from hypothesis import strategies as st
from tensorflow.core.example import example_pb2
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    inference_pb2,
    input_pb2,
    regression_pb2,
)

from tests.support import MODEL_NAME
from tests.support.fuzzing import EXAMPLE_MODEL, EXAMPLE_MODEL_VERSION, FUZZ_LABEL, Family
from tests.support.grpc_fuzz_tensors import (
    FAILED_PRECONDITION,
    IMAGES,
    INVALID,
    NOT_FOUND,
    OK,
    RUN,
    UNIMPLEMENTED,
    UNPARSEABLE,
    GrpcCase,
    X,
    floats,
    int64s,
    tensor_proto,
)
from tests.support.grpc_predict import predict_request

__all__ = ["REQUEST_FAMILIES"]

_names = st.sampled_from([IMAGES, "Images", "images ", "image", "", "probabilities", X])
_names = _names | st.text(max_size=8)


def _set_text(names: list[str]) -> str:
    return "{" + ",".join(names) + "}"


@st.composite
def _names_family(draw: st.DrawFn) -> GrpcCase:
    """Wrong, empty, extra and missing input names, with good or unparseable tensors."""
    names = draw(st.lists(_names, max_size=4, unique=True))
    inputs = {
        name: draw(st.sampled_from([floats([1, 28, 28, 1]), tensor_proto(0, [1])]))
        for name in names
    }
    request = predict_request(MODEL_NAME, inputs)
    if len(names) != 1:  # predict_util.cc, VerifyRequestInputsSize (the model has no defaults)
        details = (
            f"input size does not match signature: {len(names)}!=1 len({_set_text(sorted(names))})"
            f" != len({{images}}). Sent extra: {_set_text(sorted(set(names) - {IMAGES}))}. "
            f"Missing but required: {_set_text([] if IMAGES in names else [IMAGES])}."
        )
        return GrpcCase("names", "Predict", request, frozenset({INVALID}), details)
    good = names == [IMAGES] and inputs[IMAGES].dtype == types_pb2.DT_FLOAT
    return GrpcCase("names", "Predict", request, frozenset({OK} if good else {INVALID}))


_MODEL_VERSIONS = {MODEL_NAME: 1, EXAMPLE_MODEL: EXAMPLE_MODEL_VERSION}
_DEFAULT_SIGNATURES = ("", "serving_default")


def _spec_answer(
    name: str, choice: str, version: int, label: str, signature: str
) -> tuple[frozenset[str], str | None]:
    """What ``server_core.cc``, ``basic_manager.cc`` then ``predict_util.cc`` answer, in order."""
    if not name:
        return frozenset({INVALID}), "ModelSpec has no name specified."
    if choice == "label" and not (name == MODEL_NAME and label == FUZZ_LABEL):
        return frozenset({INVALID}), f"Unrecognized servable version label: {label}"
    if name not in _MODEL_VERSIONS or (choice == "version" and version != _MODEL_VERSIONS[name]):
        wanted = f"Specific({name}, {version})" if choice == "version" else f"Latest({name})"
        return frozenset({NOT_FOUND}), f"Servable not found for request: {wanted}"
    if signature in _DEFAULT_SIGNATURES:
        return frozenset({OK}), None
    if name == EXAMPLE_MODEL and signature == "classify_x_to_y":
        return frozenset({INVALID}), None  # its input is "inputs", and "x" was sent
    return frozenset({FAILED_PRECONDITION}), f'Serving signature key "{signature}" not found.'


@st.composite
def _model_specs(draw: st.DrawFn) -> GrpcCase:
    """No spec, empty and unknown names, versions and labels that exist or not, signatures."""
    name = draw(
        st.sampled_from([MODEL_NAME, EXAMPLE_MODEL, "", "no_such_model"]) | st.text(max_size=6)
    )
    inputs = {X: floats([1, 1])} if name == EXAMPLE_MODEL else {IMAGES: floats([1, 28, 28, 1])}
    signature = draw(st.sampled_from([*_DEFAULT_SIGNATURES, "classify_x_to_y", "nope"]))
    request = predict_request(name, inputs, signature_name=signature)
    choice = draw(st.sampled_from(["latest", "version", "label"]))
    if choice == "version":
        request.model_spec.version.value = draw(st.sampled_from([1, 123, 0, -1, 2]) | int64s)
    elif choice == "label":
        labels = st.sampled_from([FUZZ_LABEL, "", "canary"]) | st.text(max_size=6)
        request.model_spec.version_label = draw(labels)
    if draw(st.integers(0, 9)) == 0:
        request.ClearField("model_spec")
        return GrpcCase(
            "model_specs", "Predict", request, frozenset({INVALID}), "Missing ModelSpec"
        )
    spec = request.model_spec
    codes, details = _spec_answer(name, choice, spec.version.value, spec.version_label, signature)
    return GrpcCase("model_specs", "Predict", request, codes, details)


_OUTPUT = "probabilities"


@st.composite
def _output_filter(draw: st.DrawFn) -> GrpcCase:
    """Output filters naming the output, others, the same one twice, or tens of thousands."""
    aliases = st.sampled_from([_OUTPUT, "", "Probabilities", IMAGES]) | st.text(max_size=6)
    wanted = draw(st.lists(aliases, max_size=4))
    if draw(st.integers(0, 9)) == 0:
        wanted = wanted + [draw(aliases)] * draw(st.sampled_from([1_000, 10_000, 100_000]))
    request = predict_request(MODEL_NAME, {IMAGES: floats([1, 28, 28, 1])})
    request.output_filter.extend(wanted)
    seen: set[str] = set()
    for alias in wanted:  # predict_util.cc, PreProcessPrediction
        if alias != _OUTPUT:
            details = (
                f"output tensor alias not found in signature: {alias} Outputs expected to be in "
                f"the set {{{_OUTPUT}}}."
            )
            return GrpcCase("output_filter", "Predict", request, frozenset({INVALID}), details)
        if alias in seen:
            details = f"duplicate output tensor alias: {alias}"
            return GrpcCase("output_filter", "Predict", request, frozenset({INVALID}), details)
        seen.add(alias)
    return GrpcCase("output_filter", "Predict", request, frozenset({OK}))


_feature_keys = st.sampled_from(["x", "x2", "y"]) | st.text(max_size=4)


@st.composite
def _example(draw: st.DrawFn) -> example_pb2.Example:
    """A ``tf.Example``: a third of them as ``half_plus_two`` reads them (``x``, and maybe
    ``x2``, one float each), the rest with any features of any type and length."""
    example = example_pb2.Example()
    if draw(st.integers(0, 2)) == 0:
        for key in ["x", "x2"][: draw(st.integers(1, 2))]:
            example.features.feature[key].float_list.value.append(draw(st.floats(width=32)))
        return example
    for key in draw(st.lists(_feature_keys, max_size=3, unique=True)):
        feature = example.features.feature[key]
        kind = draw(st.sampled_from(["float_list", "int64_list", "bytes_list", "none"]))
        if kind == "float_list":
            feature.float_list.value.extend(draw(st.lists(st.floats(width=32), max_size=3)))
        elif kind == "int64_list":
            feature.int64_list.value.extend(draw(st.lists(int64s, max_size=3)))
        elif kind == "bytes_list":
            feature.bytes_list.value.extend(draw(st.lists(st.binary(max_size=6), max_size=3)))
    return example


@st.composite
def _model_input(draw: st.DrawFn) -> input_pb2.Input:
    examples = draw(st.lists(_example(), max_size=4))
    if draw(st.integers(0, 19)) == 0:
        examples = examples * draw(st.sampled_from([1_000, 10_000]))
    kind = draw(st.sampled_from(["list", "context", "empty"]))
    if kind == "list":
        return input_pb2.Input(example_list=input_pb2.ExampleList(examples=examples))
    if kind == "context":
        return input_pb2.Input(
            example_list_with_context=input_pb2.ExampleListWithContext(
                examples=examples, context=draw(_example())
            )
        )
    return input_pb2.Input()


_EXAMPLE_SIGNATURES = (
    "classify_x_to_y", "regress_x_to_y", "regress_x_to_y2", "regress_x2_to_y3",
    "classify_x2_to_y3", "serving_default", "", "nope",
)  # fmt: skip
_METHOD_NAMES = (
    "tensorflow/serving/classify", "tensorflow/serving/regress", "tensorflow/serving/predict", "",
)  # fmt: skip


@st.composite
def _examples(draw: st.DrawFn) -> GrpcCase:
    """Classify, Regress and MultiInference with garbage ``tf.Example``s, on both models."""
    model = draw(st.sampled_from([EXAMPLE_MODEL, EXAMPLE_MODEL, MODEL_NAME, "no_such_model"]))
    model_input = draw(_model_input())
    method = draw(st.sampled_from(["Classify", "Regress", "MultiInference"]))
    request: Message
    if method == "MultiInference":
        request = inference_pb2.MultiInferenceRequest(input=model_input)
        for _ in range(draw(st.integers(0, 3))):
            task = request.tasks.add(method_name=draw(st.sampled_from(_METHOD_NAMES)))
            task.model_spec.name = draw(st.sampled_from([model, model, EXAMPLE_MODEL]))
            task.model_spec.signature_name = draw(st.sampled_from(_EXAMPLE_SIGNATURES))
        codes = {OK, INVALID, NOT_FOUND, UNIMPLEMENTED}
    else:
        kind = {"Classify": classification_pb2.ClassificationRequest}
        request = kind.get(method, regression_pb2.RegressionRequest)(input=model_input)
        request.model_spec.name = model
        request.model_spec.signature_name = draw(st.sampled_from(_EXAMPLE_SIGNATURES))
        codes = {OK, INVALID, NOT_FOUND}
    return GrpcCase("examples", method, request, frozenset(codes))


@st.composite
def _metadata(draw: st.DrawFn) -> GrpcCase:
    """GetModelMetadata asking for no field, unknown fields, or ``signature_def``."""
    field = st.sampled_from(["signature_def", "signature_def", ""]) | st.text(max_size=8)
    fields = draw(st.lists(field, max_size=3))
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=fields)
    request.model_spec.name = draw(st.sampled_from([MODEL_NAME, EXAMPLE_MODEL, "no_such_model"]))
    if not fields:  # get_model_metadata_impl.cc
        details = "GetModelMetadataRequest must specify at least one metadata_field"
        return GrpcCase("metadata", "GetModelMetadata", request, frozenset({INVALID}), details)
    for field in fields:
        if field != "signature_def":
            details = f"Metadata field {field} is not supported"
            return GrpcCase("metadata", "GetModelMetadata", request, frozenset({INVALID}), details)
    codes = {NOT_FOUND} if request.model_spec.name == "no_such_model" else {OK}
    return GrpcCase("metadata", "GetModelMetadata", request, frozenset(codes))


@st.composite
def _wire(draw: st.DrawFn) -> GrpcCase:
    """A serialized request with bytes flipped, inserted or cut: gRPC's INTERNAL when it does
    not parse, else whatever the request it became may get. Predict's tensor is sent as
    content, so that a mutated dim cannot make a tensor of gigabytes out of a typed value."""
    method = draw(st.sampled_from(["Predict", "Classify", "GetModelMetadata"]))
    base: Message
    if method == "Predict":
        base = predict_request(
            MODEL_NAME, {IMAGES: tensor_proto(types_pb2.DT_FLOAT, [1, 28, 28, 1])}
        )
        base.inputs[IMAGES].tensor_content = bytes(4 * 784)
    elif method == "Classify":
        base = classification_pb2.ClassificationRequest()
        base.model_spec.name, base.model_spec.signature_name = EXAMPLE_MODEL, "classify_x_to_y"
        example = base.input.example_list.examples.add()
        example.features.feature["x"].float_list.value.append(1.0)
    else:
        base = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        base.model_spec.name = MODEL_NAME
    data = bytearray(base.SerializeToString())
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "cut"]))
        if action == "flip" and position < len(data):
            data[position] ^= draw(st.integers(1, 255))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=4))
        else:
            del data[position:]
    codes = RUN | {NOT_FOUND, FAILED_PRECONDITION, UNPARSEABLE}
    return GrpcCase("wire", method, bytes(data), codes)


# (name, strategy, slow, quick, warm-up); examples warms up more for its lists of 10,000.
REQUEST_FAMILIES: tuple[Family[GrpcCase], ...] = (
    Family("names", _names_family(), 800, 10, 30),
    Family("model_specs", _model_specs(), 1_200, 12, 40),
    Family("output_filter", _output_filter(), 600, 8, 20),
    Family("examples", _examples(), 1_300, 12, 100),
    Family("metadata", _metadata(), 400, 8, 20),
    Family("wire", _wire(), 800, 12, 30),
)
