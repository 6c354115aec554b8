"""Simulated answers for 03_padding_pooling (padding_pooling.ipynb).

MISTAKES must lose marks on their own item only; ALTERNATIVES must keep full marks.
"""
from cnnlab.simulate import Variant

MISTAKES = [
    # --- zero_pad ---------------------------------------------------------------
    Variant("zero_pad", "channel axis padded too (np.pad on every axis)", '''
def zero_pad(x, pad):
    return np.pad(x, pad, mode="constant")
'''),
    Variant("zero_pad", "pads on one side only", '''
def zero_pad(x, pad):
    x = np.asarray(x)
    H, W = x.shape[:2]
    out = np.zeros((H + pad, W + pad) + x.shape[2:], dtype=x.dtype)
    out[pad:, pad:] = x
    return out
'''),
    Variant("zero_pad", "float output instead of keeping the dtype", '''
def zero_pad(x, pad):
    H, W = x.shape[:2]
    out = np.zeros((H + 2 * pad, W + 2 * pad) + x.shape[2:])
    out[pad:pad + H, pad:pad + W] = x
    return out
'''),
    Variant("zero_pad", "out[pad:-pad] slice breaks for pad 0", '''
def zero_pad(x, pad):
    H, W = x.shape[:2]
    out = np.zeros((H + 2 * pad, W + 2 * pad) + x.shape[2:], dtype=x.dtype)
    out[pad:-pad, pad:-pad] = x
    return out
'''),
    Variant("zero_pad", "returns the input itself when pad is 0", '''
def zero_pad(x, pad):
    if pad == 0:
        return x
    H, W = x.shape[:2]
    out = np.zeros((H + 2 * pad, W + 2 * pad) + x.shape[2:], dtype=x.dtype)
    out[pad:pad + H, pad:pad + W] = x
    return out
'''),
    Variant("zero_pad", "repeats the edge pixels (np.pad mode='edge')", '''
def zero_pad(x, pad):
    widths = [(pad, pad), (pad, pad)] + [(0, 0)] * (x.ndim - 2)
    return np.pad(x, widths, mode="edge")
'''),
    Variant("zero_pad", "pads with ones", '''
def zero_pad(x, pad):
    H, W = x.shape[:2]
    out = np.ones((H + 2 * pad, W + 2 * pad) + x.shape[2:], dtype=x.dtype)
    out[pad:pad + H, pad:pad + W] = x
    return out
'''),
    # --- padding_purpose ----------------------------------------------------------
    Variant("padding_purpose", "padding adds information (C)", 'padding_purpose = {"B", "C", "D", "F"}'),
    Variant("padding_purpose", "learned frame, fewer computations (A, E)", 'padding_purpose = {"A", "B", "E"}'),
    Variant("padding_purpose", "thinks padding saves work (E)", 'padding_purpose = {"B", "D", "E", "F"}'),
    # --- same_padding ---------------------------------------------------------------
    Variant("same_padding", "total padding instead of per side", 'same_padding = {3: 2, 5: 4, 7: 6}'),
    Variant("same_padding", "padding equal to the kernel size", 'same_padding = {3: 3, 5: 5, 7: 7}'),
    # --- pool2d -----------------------------------------------------------------------
    Variant("pool2d", "stride ignored (always moves by size)", '''
def pool2d(x, size=2, stride=None, mode="max"):
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    x = np.asarray(x, dtype=float)
    H_out, W_out = x.shape[0] // size, x.shape[1] // size
    out = np.zeros((H_out, W_out) + x.shape[2:])
    for i in range(H_out):
        for j in range(W_out):
            window = x[i * size:(i + 1) * size, j * size:(j + 1) * size]
            out[i, j] = window.max(axis=(0, 1)) if mode == "max" else window.mean(axis=(0, 1))
    return out
'''),
    Variant("pool2d", "default stride 1 instead of size", '''
def pool2d(x, size=2, stride=None, mode="max"):
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    if stride is None:
        stride = 1
    x = np.asarray(x, dtype=float)
    H_out = (x.shape[0] - size) // stride + 1
    W_out = (x.shape[1] - size) // stride + 1
    out = np.zeros((H_out, W_out) + x.shape[2:])
    for i in range(H_out):
        for j in range(W_out):
            window = x[i * stride:i * stride + size, j * stride:j * stride + size]
            out[i, j] = window.max(axis=(0, 1)) if mode == "max" else window.mean(axis=(0, 1))
    return out
'''),
    Variant("pool2d", "ceil instead of floor (partial windows kept)", '''
import math
def pool2d(x, size=2, stride=None, mode="max"):
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    if stride is None:
        stride = size
    x = np.asarray(x, dtype=float)
    H_out = math.ceil((x.shape[0] - size) / stride) + 1
    W_out = math.ceil((x.shape[1] - size) / stride) + 1
    out = np.zeros((H_out, W_out) + x.shape[2:])
    for i in range(H_out):
        for j in range(W_out):
            window = x[i * stride:i * stride + size, j * stride:j * stride + size]
            out[i, j] = window.max(axis=(0, 1)) if mode == "max" else window.mean(axis=(0, 1))
    return out
'''),
    Variant("pool2d", "max takes the last element of the window", '''
def pool2d(x, size=2, stride=None, mode="max"):
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    if stride is None:
        stride = size
    x = np.asarray(x, dtype=float)
    H_out = (x.shape[0] - size) // stride + 1
    W_out = (x.shape[1] - size) // stride + 1
    out = np.zeros((H_out, W_out) + x.shape[2:])
    for i in range(H_out):
        for j in range(W_out):
            window = x[i * stride:i * stride + size, j * stride:j * stride + size]
            out[i, j] = window[-1, -1] if mode == "max" else window.mean(axis=(0, 1))
    return out
'''),
    Variant("pool2d", 'mode string "average" instead of "avg"', '''
def pool2d(x, size=2, stride=None, mode="max"):
    if mode not in ("max", "average"):
        raise ValueError(mode)
    if stride is None:
        stride = size
    x = np.asarray(x, dtype=float)
    H_out = (x.shape[0] - size) // stride + 1
    W_out = (x.shape[1] - size) // stride + 1
    out = np.zeros((H_out, W_out) + x.shape[2:])
    for i in range(H_out):
        for j in range(W_out):
            window = x[i * stride:i * stride + size, j * stride:j * stride + size]
            out[i, j] = window.max(axis=(0, 1)) if mode == "max" else window.mean(axis=(0, 1))
    return out
'''),
    Variant("pool2d", "pools across channels (one value per window)", '''
def pool2d(x, size=2, stride=None, mode="max"):
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    if stride is None:
        stride = size
    x = np.asarray(x, dtype=float)
    H_out = (x.shape[0] - size) // stride + 1
    W_out = (x.shape[1] - size) // stride + 1
    out = np.zeros((H_out, W_out) + x.shape[2:])
    for i in range(H_out):
        for j in range(W_out):
            window = x[i * stride:i * stride + size, j * stride:j * stride + size]
            out[i, j] = window.max() if mode == "max" else window.mean()
    return out
'''),
    Variant("pool2d", "integer output for integer input", '''
def pool2d(x, size=2, stride=None, mode="max"):
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    if stride is None:
        stride = size
    H_out = (x.shape[0] - size) // stride + 1
    W_out = (x.shape[1] - size) // stride + 1
    out = np.zeros((H_out, W_out) + x.shape[2:], dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = x[i * stride:i * stride + size, j * stride:j * stride + size]
            out[i, j] = window.max(axis=(0, 1)) if mode == "max" else window.mean(axis=(0, 1))
    return out
'''),
    Variant("pool2d", "average computed as the sum", '''
def pool2d(x, size=2, stride=None, mode="max"):
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    if stride is None:
        stride = size
    x = np.asarray(x, dtype=float)
    H_out = (x.shape[0] - size) // stride + 1
    W_out = (x.shape[1] - size) // stride + 1
    out = np.zeros((H_out, W_out) + x.shape[2:])
    for i in range(H_out):
        for j in range(W_out):
            window = x[i * stride:i * stride + size, j * stride:j * stride + size]
            out[i, j] = window.max(axis=(0, 1)) if mode == "max" else window.sum(axis=(0, 1))
    return out
'''),
    Variant("pool2d", "height and width swapped", '''
def pool2d(x, size=2, stride=None, mode="max"):
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    if stride is None:
        stride = size
    x = np.asarray(x, dtype=float)
    W, H = x.shape[0], x.shape[1]
    H_out = (H - size) // stride + 1
    W_out = (W - size) // stride + 1
    out = np.zeros((H_out, W_out) + x.shape[2:])
    for i in range(H_out):
        for j in range(W_out):
            window = x[i * stride:i * stride + size, j * stride:j * stride + size]
            out[i, j] = window.max(axis=(0, 1)) if mode == "max" else window.mean(axis=(0, 1))
    return out
'''),
    Variant("pool2d", "divides the input in place for the average", '''
def pool2d(x, size=2, stride=None, mode="max"):
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    if stride is None:
        stride = size
    x = np.asarray(x, dtype=float)
    if mode == "avg":
        x /= size * size
    H_out = (x.shape[0] - size) // stride + 1
    W_out = (x.shape[1] - size) // stride + 1
    out = np.zeros((H_out, W_out) + x.shape[2:])
    for i in range(H_out):
        for j in range(W_out):
            window = x[i * stride:i * stride + size, j * stride:j * stride + size]
            out[i, j] = window.max(axis=(0, 1)) if mode == "max" else window.sum(axis=(0, 1))
    return out
'''),
    Variant("pool2d", "accepts any letter case (mode.lower())", '''
def pool2d(x, size=2, stride=None, mode="max"):
    mode = mode.lower()
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    if stride is None:
        stride = size
    x = np.asarray(x, dtype=float)
    H_out = (x.shape[0] - size) // stride + 1
    W_out = (x.shape[1] - size) // stride + 1
    out = np.zeros((H_out, W_out) + x.shape[2:])
    for i in range(H_out):
        for j in range(W_out):
            window = x[i * stride:i * stride + size, j * stride:j * stride + size]
            out[i, j] = window.max(axis=(0, 1)) if mode == "max" else window.mean(axis=(0, 1))
    return out
'''),
    Variant("pool2d", "uses scipy.ndimage filters", '''
import scipy.ndimage
def pool2d(x, size=2, stride=None, mode="max"):
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    if stride is None:
        stride = size
    x = np.asarray(x, dtype=float)
    fsize = (size, size) + (1,) * (x.ndim - 2)
    if mode == "max":
        f = scipy.ndimage.maximum_filter(x, size=fsize, origin=-(size // 2))
    else:
        f = scipy.ndimage.uniform_filter(x, size=fsize, origin=-(size // 2))
    H_out = (x.shape[0] - size) // stride + 1
    W_out = (x.shape[1] - size) // stride + 1
    return f[:(H_out - 1) * stride + 1:stride, :(W_out - 1) * stride + 1:stride]
'''),
    # --- pooling_purpose ----------------------------------------------------------
    Variant("pooling_purpose", "pooling mixes channels (G)", 'pooling_purpose = {"A", "C", "D", "E", "G"}'),
    Variant("pooling_purpose", "pooling learns weights (F)", 'pooling_purpose = {"A", "C", "F"}'),
    Variant("pooling_purpose", "max pooling blind to every one-pixel shift (B)",
            'pooling_purpose = {"A", "B", "C", "D", "E"}'),
    Variant("pooling_purpose", "a smaller input means fewer weights in the next conv (H)",
            'pooling_purpose = {"A", "C", "D", "E", "H"}'),
    # --- pool_shape -------------------------------------------------------------------
    Variant("pool_shape", "forgot the +1 ((224 - 2) / 2)", 'pool_shape = (111, 111, 64)'),
    Variant("pool_shape", "forgot the channels", 'pool_shape = (112, 112)'),
]

ALTERNATIVES = [
    # --- zero_pad ---------------------------------------------------------------
    Variant("zero_pad", "np.pad on the spatial axes only", '''
def zero_pad(x, pad):
    x = np.asarray(x)
    widths = [(pad, pad), (pad, pad)] + [(0, 0)] * (x.ndim - 2)
    return np.pad(x, widths, mode="constant", constant_values=0)
'''),
    Variant("zero_pad", "plain loops into np.zeros", '''
def zero_pad(x, pad):
    H, W = x.shape[0], x.shape[1]
    out = np.zeros((H + 2 * pad, W + 2 * pad) + x.shape[2:], dtype=x.dtype)
    for i in range(H):
        for j in range(W):
            out[i + pad, j + pad] = x[i, j]
    return out
'''),
    Variant("zero_pad", "np.concatenate of zero blocks", '''
def zero_pad(x, pad):
    x = np.asarray(x)
    H, W = x.shape[:2]
    rest = x.shape[2:]
    side = np.zeros((H, pad) + rest, dtype=x.dtype)
    middle = np.concatenate([side, x, side], axis=1)
    cap = np.zeros((pad, W + 2 * pad) + rest, dtype=x.dtype)
    return np.concatenate([cap, middle, cap], axis=0)
'''),
    Variant("zero_pad", "np.zeros_like of a bigger shape via copy", '''
def zero_pad(x, pad):
    shape = list(x.shape)
    shape[0] += 2 * pad
    shape[1] += 2 * pad
    out = np.zeros(shape, dtype=x.dtype)
    out[pad:out.shape[0] - pad, pad:out.shape[1] - pad] = x.copy()
    return out
'''),
    # --- pool2d -----------------------------------------------------------------------
    Variant("pool2d", "explicit loops over every window element", '''
def pool2d(x, size=2, stride=None, mode="max"):
    if mode != "max" and mode != "avg":
        raise ValueError("mode must be 'max' or 'avg'")
    s = size if stride is None else stride
    H, W = x.shape[0], x.shape[1]
    C = x.shape[2] if x.ndim == 3 else 1
    x3 = np.asarray(x, dtype=float).reshape(H, W, C)
    H_out, W_out = (H - size) // s + 1, (W - size) // s + 1
    out = np.zeros((H_out, W_out, C))
    for c in range(C):
        for i in range(H_out):
            for j in range(W_out):
                best, total = None, 0.0
                for di in range(size):
                    for dj in range(size):
                        v = x3[i * s + di, j * s + dj, c]
                        total += v
                        if best is None or v > best:
                            best = v
                out[i, j, c] = best if mode == "max" else total / (size * size)
    return out if x.ndim == 3 else out[:, :, 0]
'''),
    Variant("pool2d", "sliding_window_view with strided slicing", '''
from numpy.lib.stride_tricks import sliding_window_view
def pool2d(x, size=2, stride=None, mode="max"):
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    if stride is None:
        stride = size
    x = np.asarray(x, dtype=float)
    windows = sliding_window_view(x, (size, size), axis=(0, 1))[::stride, ::stride]
    if mode == "max":
        return windows.max(axis=(-2, -1))
    return windows.mean(axis=(-2, -1))
'''),
    Variant("pool2d", "as_strided window view", '''
from numpy.lib.stride_tricks import as_strided
def pool2d(x, size=2, stride=None, mode="max"):
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    if stride is None:
        stride = size
    x = np.array(x, dtype=float)
    H_out = (x.shape[0] - size) // stride + 1
    W_out = (x.shape[1] - size) // stride + 1
    s0, s1 = x.strides[:2]
    view = as_strided(x, shape=(H_out, W_out, size, size) + x.shape[2:],
                      strides=(s0 * stride, s1 * stride, s0, s1) + x.strides[2:], writeable=False)
    return view.max(axis=(2, 3)) if mode == "max" else view.mean(axis=(2, 3))
'''),
    Variant("pool2d", "loop over window offsets with strided slices", '''
def pool2d(x, size=2, stride=None, mode="max"):
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    s = size if stride is None else stride
    x = np.asarray(x, dtype=float)
    H_out = (x.shape[0] - size) // s + 1
    W_out = (x.shape[1] - size) // s + 1
    out = None
    for di in range(size):
        for dj in range(size):
            part = x[di:di + s * (H_out - 1) + 1:s, dj:dj + s * (W_out - 1) + 1:s]
            if out is None:
                out = part.copy()
            elif mode == "max":
                out = np.maximum(out, part)
            else:
                out = out + part
    return out if mode == "max" else out / (size * size)
'''),
]
