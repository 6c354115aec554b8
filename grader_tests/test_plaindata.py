"""Plain data across the sandbox wall: what the probe sends decodes to the
same values, and nothing the sandbox could send makes the verifier run code."""
from __future__ import annotations

import base64
import io
import pickle

import numpy as np
import pytest

from cnnlab.plaindata import MAX_DEPTH, Opaque, PlainDataError, decode, encode, type_name


@pytest.mark.parametrize("value", [
    None, True, 3, -2**70, 2.5, float("inf"), "text", [1, [2, 3]], (1, 2), {3: 1, 5: 2}, {"A", "C"},
    frozenset({1}), np.int64(7), np.float32(0.5), np.arange(12.0).reshape(3, 4), np.zeros((2, 0)),
    np.array([1, 2], dtype=np.uint8), [(32, 32, 10), (16, 16, 10)],
])
def test_values_survive_the_round_trip_with_their_types(value):
    back = decode(encode(value))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and np.array_equal(back, value)
    else:
        assert back == value


def test_nan_survives():
    assert np.isnan(decode(encode(float("nan"))))


def test_objects_that_are_not_data_arrive_as_opaque_and_equal_nothing():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    back = decode(encode(AlwaysEqual()))
    assert isinstance(back, Opaque) and back.type_name == "AlwaysEqual"
    assert type_name(back) == "an object of its own class"  # a class name is the student's text
    assert type_name(decode(encode(x for x in ()))) == "generator"
    assert back != back and not (back == 3)
    assert isinstance(decode(encode(np.array([object()]))), Opaque)


def test_subclasses_travel_as_their_plain_data():
    class Sneaky(np.ndarray):
        def __eq__(self, other):
            return True

    back = decode(encode(np.arange(3.0).view(Sneaky)))
    assert type(back) is np.ndarray and list(back) == [0.0, 1.0, 2.0]

    class Truthy(int):
        def __eq__(self, other):
            return True

    assert isinstance(decode(encode(Truthy(3))), Opaque)


def test_a_pickled_array_is_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(PlainDataError):
        decode({"t": "ndarray", "v": base64.b64encode(buffer.getvalue()).decode()})
    with pytest.raises(PlainDataError):
        decode({"t": "ndarray", "v": base64.b64encode(pickle.dumps(np.arange(3))).decode()})


@pytest.mark.parametrize("data", [
    {"t": "unknown"}, {"no": "tag"}, {"t": "tuple", "v": 3}, {"t": "dict", "v": [[1]]},
    {"t": "ndarray", "v": "not base64!"}, {"t": "bigint", "v": "12x"}, {"t": "float", "v": "1e400"},
    {"t": "set", "v": [[1, 2]]}, {"t": "npscalar", "v": encode(np.arange(3))["v"]},
])
def test_malformed_data_is_refused_with_a_reason(data):
    with pytest.raises(PlainDataError):
        decode(data)


def test_deep_or_huge_data_is_refused():
    deep = None
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(PlainDataError):
        decode(deep)
    with pytest.raises(PlainDataError):
        decode([0] * 20_000)
    assert isinstance(decode(encode(np.zeros(10**7))), Opaque)  # too large to carry


def test_the_graders_scalar_functions_travel_by_name_and_nothing_else_does():
    from cnnlab.scalarfns import FUNCTIONS, ScalarFunction

    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    for name in FUNCTIONS:
        back = decode(encode((ScalarFunction(name), x)))
        assert back[0] == ScalarFunction(name) and back[0](x) == FUNCTIONS[name](x)
    with pytest.raises(PlainDataError, match="unknown scalar function"):
        decode({"t": "scalarfn", "v": "os.system"})
    with pytest.raises(PlainDataError, match="unknown scalar function"):
        decode({"t": "scalarfn", "v": ["weighted square"]})

    class Lookalike(ScalarFunction):  # a student's subclass is not the grader's function
        def __call__(self, x):
            return 0.0

    assert isinstance(decode(encode(Lookalike("product"))), Opaque)
    assert isinstance(decode(encode(lambda x: 0.0)), Opaque)
