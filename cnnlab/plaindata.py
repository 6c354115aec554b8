"""Plain data across the sandbox wall: values encoded as JSON, arrays as `.npy`.

The probe (probe.py, inside the sandbox) encodes what the student's code
returned; the verifier (grading/verify.py, trusted) decodes it. Decoding
never runs code of the sender: JSON is parsed into a fixed set of tagged
shapes, arrays are read with ``np.load(allow_pickle=False)`` and only of
numeric or boolean dtypes, and every value is size- and depth-capped.
Anything the codec does not know (an object whose ``__eq__`` is always true,
a generator, a module) travels as its type name only and decodes to an
`Opaque` that equals nothing.

The grader's scalar functions (scalarfns.py, for 05's numerical_gradient)
travel by name. Tuples, sets and dicts keep their type (a shape given as a list is not a
tuple); NumPy scalars keep their dtype (``np.int64(3)`` is not ``3``).
"""
from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass

import numpy as np

from .scalarfns import FUNCTIONS, ScalarFunction

#: Largest array (bytes of .npy) and whole payload the verifier accepts.
MAX_ARRAY_BYTES = 4 * 1024**2
MAX_DEPTH = 16
MAX_ITEMS = 10_000
NUMERIC_KINDS = set("biufc")


class PlainDataError(ValueError):
    """The data cannot be decoded (too large, too deep, or not ours)."""


@dataclass(frozen=True)
class Opaque:
    """A value the codec does not carry: only its type name survives. It equals nothing."""

    type_name: str
    why: str = "not plain data"

    def __eq__(self, other):
        return False

    def __hash__(self):
        return hash(("Opaque", self.type_name))

    def __repr__(self):
        return f"<{self.type_name}>"


#: Type names an Opaque may show; any other name was chosen by the student's code
#: (a class can be named after a hidden input) and is not shown.
KNOWN_TYPES = {"generator", "map", "filter", "zip", "range", "function", "builtin_function_or_method", "module",
               "bytes", "bytearray", "complex", "memoryview", "NotImplementedType", "ellipsis", "method",
               "dict_keys", "dict_values", "list_iterator", "Matrix", "DataFrame", "Series", "Tensor"}


def type_name(value) -> str:
    """The name to show for a value's type."""
    if isinstance(value, Opaque):
        return value.type_name if value.type_name in KNOWN_TYPES else "an object of its own class"
    return type(value).__name__


# ----------------------------------------------------------------------------
# Encoding (runs in the sandbox, on whatever the student returned)
# ----------------------------------------------------------------------------
def _npy(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def encode(value, depth: int = 0, budget: list | None = None):
    """`value` as JSON-able tagged data; exact types only (a subclass of int
    with its own ``__eq__`` is not an int here)."""
    budget = [0] if budget is None else budget
    budget[0] += 1
    if depth > MAX_DEPTH or budget[0] > MAX_ITEMS:
        return {"t": "opaque", "type": type(value).__name__, "why": "nested too deeply or too large"}
    kind = type(value)
    if value is None or kind in (bool, str):
        return value
    if kind is int:
        return value if abs(value) < 2**53 else {"t": "bigint", "v": str(value)}
    if kind is float:
        return value if math.isfinite(value) else {"t": "float", "v": repr(value)}
    if kind in (list, tuple, set, frozenset):
        items = [encode(v, depth + 1, budget) for v in value]
        return items if kind is list else {"t": kind.__name__, "v": items}
    if kind is dict:
        return {"t": "dict", "v": [[encode(k, depth + 1, budget), encode(v, depth + 1, budget)]
                                   for k, v in value.items()]}
    if isinstance(value, np.ndarray) or (isinstance(value, np.generic) and kind.__module__ == "numpy"):
        array = np.array(value, copy=True) if isinstance(value, np.ndarray) else np.asarray(value)
        array = np.asarray(array.view(np.ndarray) if isinstance(array, np.ndarray) else array)
        if array.dtype.kind not in NUMERIC_KINDS:
            return {"t": "opaque", "type": f"array of {array.dtype}", "why": "not a numeric array"}
        if array.nbytes > MAX_ARRAY_BYTES:
            return {"t": "opaque", "type": kind.__name__, "why": f"too large ({array.nbytes} bytes)"}
        return {"t": "ndarray" if isinstance(value, np.ndarray) else "npscalar", "v": _npy(array)}
    if kind is ScalarFunction:  # a function the grader hands to numerical_gradient travels by name
        return {"t": "scalarfn", "v": value.name}
    return {"t": "opaque", "type": kind.__name__, "why": "not plain data"}


# ----------------------------------------------------------------------------
# Decoding (trusted side)
# ----------------------------------------------------------------------------
def _load_npy(text) -> np.ndarray:
    if not isinstance(text, str) or len(text) > MAX_ARRAY_BYTES * 4 // 3 + 64:
        raise PlainDataError("array data missing or too large")
    try:
        raw = base64.b64decode(text, validate=True)
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except Exception as exc:
        raise PlainDataError(f"unreadable array ({type(exc).__name__})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in NUMERIC_KINDS:
        raise PlainDataError("not a numeric array")
    return array


def decode(data, depth: int = 0, budget: list | None = None):
    """The value `encode` described; raises PlainDataError for anything else."""
    budget = [0] if budget is None else budget
    budget[0] += 1
    if depth > MAX_DEPTH + 1 or budget[0] > MAX_ITEMS + 1:
        raise PlainDataError("nested too deeply or too large")
    if data is None or type(data) in (bool, str, int):
        return data
    if type(data) is float:
        return data
    if type(data) is list:
        return [decode(v, depth + 1, budget) for v in data]
    if type(data) is not dict or type(data.get("t")) is not str:
        raise PlainDataError(f"unexpected {type(data).__name__}")
    tag, value = data["t"], data.get("v")
    if tag in ("tuple", "set", "frozenset"):
        if type(value) is not list:
            raise PlainDataError(f"malformed {tag}")
        items = [decode(v, depth + 1, budget) for v in value]
        if tag == "tuple":
            return tuple(items)
        try:
            return set(items) if tag == "set" else frozenset(items)
        except TypeError:
            raise PlainDataError(f"unhashable item in a {tag}") from None
    if tag == "dict":
        if type(value) is not list or not all(type(p) is list and len(p) == 2 for p in value):
            raise PlainDataError("malformed dict")
        try:
            return {decode(k, depth + 1, budget): decode(v, depth + 1, budget) for k, v in value}
        except TypeError:
            raise PlainDataError("unhashable dict key") from None
    if tag == "bigint" and type(value) is str and len(value) <= 4300:
        try:
            return int(value)
        except ValueError:
            raise PlainDataError("malformed int") from None
    if tag == "float" and value in ("nan", "inf", "-inf"):
        return float(value)
    if tag == "ndarray":
        return _load_npy(value)
    if tag == "npscalar":
        array = _load_npy(value)
        if array.shape != ():
            raise PlainDataError("malformed NumPy scalar")
        return array[()]
    if tag == "scalarfn":
        if type(value) is not str or value not in FUNCTIONS:
            raise PlainDataError("unknown scalar function")
        return ScalarFunction(value)
    if tag == "opaque":
        name, why = data.get("type"), data.get("why")
        return Opaque(str(name)[:80] if name is not None else "object", str(why)[:80] if why else "not plain data")
    raise PlainDataError("unknown tag")
