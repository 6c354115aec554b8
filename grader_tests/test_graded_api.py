"""The instructor's answers implement graded-api.md: checked here against the
reference numbers of the lectures and an independent einsum formulation, so
that a wrong reference cannot hide behind hidden tests that share its mistake."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlab.nbtools import instructor_answers

FUNCTIONS = {
    "cross_correlate2d": "02_kernels/kernels",
    "conv2d": "02_kernels/kernels",
    "zero_pad": "03_padding_pooling/padding_pooling",
    "pool2d": "03_padding_pooling/padding_pooling",
    "conv_output_size": "04_dimensions/dimensions",
    "conv_param_count": "04_dimensions/dimensions",
    "dense_param_count": "04_dimensions/dimensions",
}


@pytest.fixture(scope="module")
def api(course):
    ns = {"np": np, "numpy": np}
    for name, where in FUNCTIONS.items():
        assignment, notebook = where.split("/")
        answers = instructor_answers(course.read_source(assignment, notebook))
        exec(answers[f"{name}_answer"], ns)
    return ns


def _conv_einsum(x, w, b, stride, pad):
    x = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    kh, kw = w.shape[:2]
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(0, 1))[::stride, ::stride]
    return np.einsum("ijcab,abck->ijk", win, w) + (0 if b is None else b)


def test_reference_numbers_of_the_lectures(api):
    assert api["conv_output_size"](32, 5, stride=1, padding=2) == 32
    assert api["conv_param_count"](5, 3, 10) == 760
    assert api["dense_param_count"]((300, 300, 3), 100) == 27_000_100
    assert api["conv_param_count"](5, 3, 100) == 7_600
    assert [api["conv_output_size"](7, 3, stride=s) for s in (1, 2)] == [5, 3]
    assert api["conv_output_size"](227, 11, stride=4) == 55
    assert api["conv_param_count"](11, 3, 96) == 34_944
    assert api["conv_param_count"]((3, 5), 4, 2, bias=False) == 120
    with pytest.raises(ValueError):
        api["conv_output_size"](7, 3, stride=0)
    with pytest.raises(ValueError):
        api["conv_output_size"](3, 5, padding=0)


@pytest.mark.parametrize("seed", range(5))
def test_conv2d_matches_an_independent_formulation(api, seed):
    rng = np.random.default_rng(seed)
    h, w, cin, cout = rng.integers(5, 9), rng.integers(5, 9), rng.integers(1, 4), rng.integers(1, 4)
    kh, kw, stride, pad = rng.integers(1, 4), rng.integers(1, 4), rng.integers(1, 4), rng.integers(0, 3)
    x, wts, b = rng.normal(size=(h, w, cin)), rng.normal(size=(kh, kw, cin, cout)), rng.normal(size=cout)
    x0 = x.copy()
    out = api["conv2d"](x, wts, b, stride=int(stride), padding=int(pad))
    assert np.allclose(out, _conv_einsum(x, wts, b, stride, pad))
    assert np.array_equal(x, x0)
    one = api["cross_correlate2d"](x[..., 0], wts[..., 0, 0])
    assert np.allclose(one, _conv_einsum(x[..., :1], wts[:, :, :1, :1], None, 1, 0)[..., 0])


def test_padding_and_pooling_by_hand(api):
    x = np.array([[1, 5, 2, 0, 7], [3, 4, 9, 1, 1], [8, 0, 6, 6, 2]])
    padded = api["zero_pad"](x[..., None].repeat(2, axis=2), 1)
    assert padded.shape == (5, 7, 2) and padded.dtype == x.dtype and padded[0].sum() == 0
    assert np.array_equal(padded[1:-1, 1:-1, 1], x)
    assert np.array_equal(api["pool2d"](x, 2), [[5.0, 9.0]])
    assert np.allclose(api["pool2d"](x, 2, mode="avg"), [[13 / 4, 12 / 4]])
    assert np.array_equal(api["pool2d"](x, 2, stride=1), [[5, 9, 9, 7], [8, 9, 9, 6]])
    assert np.issubdtype(api["pool2d"](x, 3).dtype, np.floating)
    with pytest.raises(ValueError):
        api["pool2d"](x, 2, mode="average")
