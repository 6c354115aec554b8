"""Scalar functions the grader hands to a student's `numerical_gradient` (assignment 05).

A hidden case's arguments cross the sandbox wall as plain data, and a Python
function is not plain data. So the functions a gradient is taken of live here,
in the package both sides import, and travel by name: `ScalarFunction("...")`
is encoded as its name (plaindata.py) and decoded to the same object, which
calls the function of that name. A student's code can only change what its own
kernel computes with them; the verifier's expected values come from this module
in the grader's process.

Each function couples elements or depends on the shape of its input, so that a
gradient that perturbs several elements at once, or forgets to restore one, is
caught; all are smooth, so central differences at h = 1e-5 are accurate to
about 1e-10, far tighter than the 1e-6 the checks allow, while forward
differences are off by about h (1e-5) and fail.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _weighted_square(x):
    """sum_i w_i x_i**2 with weights 1, 2, ...: each element's slope is different."""
    w = np.arange(1, x.size + 1, dtype=float).reshape(x.shape)
    return float(np.sum(w * x ** 2))


def _pairwise(x):
    """Couples neighbours in C order: a change of x_i moves two terms."""
    flat = x.ravel()
    return float(np.sum(np.sin(flat[:-1]) * flat[1:]) + np.sum(flat ** 3) / 3)


def _log_sum_exp(x):
    """Every element is coupled to every other (softmax's normaliser)."""
    m = np.max(x)
    return float(m + np.log(np.sum(np.exp(x - m))))


def _shape_aware(x):
    """Depends on the array's shape: rows and columns weighted differently (2-D and up)."""
    rows = np.arange(x.shape[0], dtype=float).reshape((-1,) + (1,) * (x.ndim - 1))
    return float(np.sum(np.cos(x) * (1 + rows)) + np.sum(x, axis=0).prod())


def _product(x):
    """The product of all elements: every partial derivative involves all the others."""
    return float(np.prod(x))


FUNCTIONS = {
    "weighted square": _weighted_square,
    "neighbour coupling": _pairwise,
    "log-sum-exp": _log_sum_exp,
    "row-weighted cosine": _shape_aware,
    "product": _product,
}


@dataclass(frozen=True)
class ScalarFunction:
    """A named scalar function f(x) -> float, callable like the function itself."""

    name: str

    def __post_init__(self):
        if self.name not in FUNCTIONS:
            raise ValueError(f"no scalar function named {self.name!r}")

    def __call__(self, x):
        return FUNCTIONS[self.name](np.asarray(x, dtype=float))

    def __repr__(self):
        return f"f[{self.name}]"
