"""Simulated answers for 02_kernels (kernels.ipynb): realistic mistakes and correct alternatives.

Each `code` is the full content of the answer cell `<item>_answer`; the rest of the notebook
holds the instructor's answers. See README.md in this folder.
"""
from cnnlab.simulate import Variant

MISTAKES = [
    # ------------------------------------------------------------------ cross_correlate2d
    Variant("cross_correlate2d", "flips the kernel (true convolution)", '''\
def cross_correlate2d(image, kernel):
    image = np.asarray(image, dtype=float)
    kernel = np.flip(np.asarray(kernel, dtype=float))   # the textbook convolution
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out
'''),
    Variant("cross_correlate2d", "output size without the +1", '''\
def cross_correlate2d(image, kernel):
    H, W = image.shape
    kh, kw = kernel.shape
    out = np.zeros((H - kh, W - kw))
    for i in range(H - kh):
        for j in range(W - kw):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out
'''),
    Variant("cross_correlate2d", "swapped image axes (W, H = image.shape)", '''\
def cross_correlate2d(image, kernel):
    W, H = image.shape
    kh, kw = kernel.shape
    out = np.zeros((H - kh + 1, W - kw + 1))
    for i in range(H - kh + 1):
        for j in range(W - kw + 1):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out
'''),
    Variant("cross_correlate2d", "swapped kernel axes (kw, kh = kernel.shape)", '''\
def cross_correlate2d(image, kernel):
    H, W = image.shape
    kw, kh = kernel.shape
    out = np.zeros((H - kh + 1, W - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out
'''),
    Variant("cross_correlate2d", "integer output dtype (output built with the image's dtype)", '''\
def cross_correlate2d(image, kernel):
    H, W = image.shape
    kh, kw = kernel.shape
    out = np.zeros((H - kh + 1, W - kw + 1), dtype=image.dtype)
    for i in range(H - kh + 1):
        for j in range(W - kw + 1):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out
'''),
    Variant("cross_correlate2d", "multiplies the window in place (changes the image)", '''\
def cross_correlate2d(image, kernel):
    H, W = image.shape
    kh, kw = kernel.shape
    out = np.zeros((H - kh + 1, W - kw + 1))
    for i in range(H - kh + 1):
        for j in range(W - kw + 1):
            window = image[i:i + kh, j:j + kw]
            window *= kernel
            out[i, j] = window.sum()
    return out
'''),
    Variant("cross_correlate2d", "uses scipy.signal.correlate2d", '''\
from scipy import signal

def cross_correlate2d(image, kernel):
    return signal.correlate2d(np.asarray(image, dtype=float), kernel, mode="valid")
'''),
    # ------------------------------------------------------------------ vertical_edge_kernel
    Variant("vertical_edge_kernel", "horizontal-edge kernel (Sobel transposed)", '''\
vertical_edge_kernel = np.array([[-1, -2, -1],
                                 [ 0,  0,  0],
                                 [ 1,  2,  1]], dtype=float)
'''),
    Variant("vertical_edge_kernel", "a blur (box) kernel", '''\
vertical_edge_kernel = np.ones((3, 3)) / 9
'''),
    Variant("vertical_edge_kernel", "a vertical line of ones (weights do not sum to zero)", '''\
vertical_edge_kernel = np.array([[0, 1, 0],
                                 [0, 1, 0],
                                 [0, 1, 0]], dtype=float)
'''),
    Variant("vertical_edge_kernel", "Sobel with a 1 in the centre", '''\
vertical_edge_kernel = np.array([[-1, 0, 1],
                                 [-2, 1, 2],
                                 [-1, 0, 1]], dtype=float)
'''),
    Variant("vertical_edge_kernel", "all zeros", '''\
vertical_edge_kernel = np.zeros((3, 3))
'''),
    # ------------------------------------------------------------------ shifted_feature_map
    Variant("shifted_feature_map", "rolled the wrong way", '''\
shifted_feature_map = np.roll(fmap, shift=(-1, 1), axis=(0, 1))
'''),
    Variant("shifted_feature_map", "copied the figure's shift", '''\
shifted_feature_map = np.roll(fmap, shift=(2, 3), axis=(0, 1))
'''),
    Variant("shifted_feature_map", "left taken as a positive column shift", '''\
shifted_feature_map = np.roll(fmap, shift=(1, 1), axis=(0, 1))
'''),
    Variant("shifted_feature_map", "the feature map does not move", '''\
shifted_feature_map = fmap.copy()
'''),
    Variant("shifted_feature_map", "moved the image instead of the feature map", '''\
shifted_feature_map = np.roll(letter_f, shift=(1, -1), axis=(0, 1))
'''),
    # ------------------------------------------------------------------ peak_window
    Variant("peak_window", "takes the map's index for the window's centre", '''\
peak_window = {"top_left": (4, 2), "centre": (5, 4)}
'''),
    Variant("peak_window", "column before row", '''\
peak_window = {"top_left": (4, 5), "centre": (6, 6)}
'''),
    Variant("peak_window", "every window's centre is one pixel in (a 3×3 habit)", '''\
_i, _j = np.unravel_index(np.argmax(bar_map), bar_map.shape)
peak_window = {"top_left": (int(_i), int(_j)), "centre": (int(_i) + 1, int(_j) + 1)}
'''),
    Variant("peak_window", "the smallest value instead of the largest", '''\
_i, _j = np.unravel_index(np.argmin(bar_map), bar_map.shape)
peak_window = {"top_left": (int(_i), int(_j)), "centre": (int(_i) + 1, int(_j) + 2)}
'''),
    Variant("peak_window", "np.argmax's flat index read as a position", '''\
_k = int(np.argmax(bar_map))
peak_window = {"top_left": (_k // 10, _k % 10), "centre": (_k // 10 + 1, _k % 10 + 2)}
'''),
    # ------------------------------------------------------------------ filter_vs_kernel
    Variant("filter_vs_kernel", "one feature map per colour channel (A ticked)", '''\
filter_vs_kernel = {"A", "B", "C", "F", "H"}
'''),
    Variant("filter_vs_kernel", "only the definitions (F and H missing)", '''\
filter_vs_kernel = {"B", "C"}
'''),
    Variant("filter_vs_kernel", "kernels fixed by hand, maps as large as the input", '''\
filter_vs_kernel = {"A", "D", "G"}
'''),
    Variant("filter_vs_kernel", "a second-layer filter matches the image's 3 colours (E ticked)", '''\
filter_vs_kernel = {"B", "C", "E", "F", "H"}
'''),
    # ------------------------------------------------------------------ weights_shape
    Variant("weights_shape", "PyTorch order (C_out, C_in, kh, kw)", '''\
weights_shape = (16, 3, 3, 3)
'''),
    Variant("weights_shape", "forgot the input channels", '''\
weights_shape = (3, 3, 16)
'''),
    Variant("weights_shape", "used the image size", '''\
weights_shape = (64, 64, 3, 16)
'''),
    # ------------------------------------------------------------------ conv2d
    Variant("conv2d", "stride ignored in window indexing", '''\
def conv2d(x, weights, bias=None, stride=1, padding=0):
    kh, kw, c_in, c_out = weights.shape
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0))).astype(float)
    h_out = (xp.shape[0] - kh) // stride + 1
    w_out = (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i:i + kh, j:j + kw, :]
            for k in range(c_out):
                out[i, j, k] = np.sum(window * weights[:, :, :, k])
    if bias is not None:
        out += bias
    return out
'''),
    Variant("conv2d", "slices the unpadded input", '''\
def conv2d(x, weights, bias=None, stride=1, padding=0):
    kh, kw, c_in, c_out = weights.shape
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    h_out = (xp.shape[0] - kh) // stride + 1
    w_out = (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = x[i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            for k in range(c_out):
                out[i, j, k] = np.sum(window * weights[:, :, :, k])
    if bias is not None:
        out += bias
    return out
'''),
    Variant("conv2d", "pads the channel axis too (np.pad(x, padding))", '''\
def conv2d(x, weights, bias=None, stride=1, padding=0):
    kh, kw, c_in, c_out = weights.shape
    xp = np.pad(x, padding)
    h_out = (xp.shape[0] - kh) // stride + 1
    w_out = (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            for k in range(c_out):
                out[i, j, k] = np.sum(window * weights[:, :, :, k])
    if bias is not None:
        out += bias
    return out
'''),
    Variant("conv2d", "bias added inside the element-wise sum", '''\
def conv2d(x, weights, bias=None, stride=1, padding=0):
    kh, kw, c_in, c_out = weights.shape
    if bias is None:
        bias = np.zeros(c_out)
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    h_out = (xp.shape[0] - kh) // stride + 1
    w_out = (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            for k in range(c_out):
                out[i, j, k] = np.sum(window * weights[:, :, :, k] + bias[k])
    return out
'''),
    Variant("conv2d", "bias ignored", '''\
def conv2d(x, weights, bias=None, stride=1, padding=0):
    kh, kw, c_in, c_out = weights.shape
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    h_out = (xp.shape[0] - kh) // stride + 1
    w_out = (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            for k in range(c_out):
                out[i, j, k] = np.sum(window * weights[:, :, :, k])
    return out
'''),
    Variant("conv2d", "round instead of floor for the output size", '''\
def conv2d(x, weights, bias=None, stride=1, padding=0):
    kh, kw, c_in, c_out = weights.shape
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    h_out = int(round((xp.shape[0] - kh) / stride)) + 1
    w_out = int(round((xp.shape[1] - kw) / stride)) + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            for k in range(c_out):
                out[i, j, k] = np.sum(window * weights[:, :, :, k])
    if bias is not None:
        out += bias
    return out
'''),
    Variant("conv2d", "output size without the +1", '''\
def conv2d(x, weights, bias=None, stride=1, padding=0):
    kh, kw, c_in, c_out = weights.shape
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    h_out = (xp.shape[0] - kh) // stride
    w_out = (xp.shape[1] - kw) // stride
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            for k in range(c_out):
                out[i, j, k] = np.sum(window * weights[:, :, :, k])
    if bias is not None:
        out += bias
    return out
'''),
    Variant("conv2d", "flips the kernel (true convolution)", '''\
def conv2d(x, weights, bias=None, stride=1, padding=0):
    kh, kw, c_in, c_out = weights.shape
    flipped = weights[::-1, ::-1, :, :]
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    h_out = (xp.shape[0] - kh) // stride + 1
    w_out = (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            for k in range(c_out):
                out[i, j, k] = np.sum(window * flipped[:, :, :, k])
    if bias is not None:
        out += bias
    return out
'''),
    Variant("conv2d", "integer output dtype (output built with x's dtype)", '''\
def conv2d(x, weights, bias=None, stride=1, padding=0):
    kh, kw, c_in, c_out = weights.shape
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    h_out = (xp.shape[0] - kh) // stride + 1
    w_out = (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out), dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            for k in range(c_out):
                out[i, j, k] = np.sum(window * weights[:, :, :, k])
                if bias is not None:
                    out[i, j, k] += bias[k]
    return out
'''),
    Variant("conv2d", "PyTorch weight layout (C_out, C_in, kh, kw)", '''\
def conv2d(x, weights, bias=None, stride=1, padding=0):
    c_out, c_in, kh, kw = weights.shape
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    h_out = (xp.shape[0] - kh) // stride + 1
    w_out = (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            for k in range(c_out):
                out[i, j, k] = np.sum(window * weights[k].transpose(1, 2, 0))
    if bias is not None:
        out += bias
    return out
'''),
    Variant("conv2d", "multiplies windows in place (changes x)", '''\
def conv2d(x, weights, bias=None, stride=1, padding=0):
    kh, kw, c_in, c_out = weights.shape
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0))) if padding else x
    h_out = (xp.shape[0] - kh) // stride + 1
    w_out = (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for k in range(c_out):
        for i in range(h_out):
            for j in range(w_out):
                window = xp[i * stride:i * stride + kh, j * stride:j * stride + kw, :]
                window *= weights[:, :, :, k]
                out[i, j, k] = window.sum()
    if bias is not None:
        out += bias
    return out
'''),
    Variant("conv2d", "uses scipy.signal.correlate per channel", '''\
import scipy.signal

def conv2d(x, weights, bias=None, stride=1, padding=0):
    kh, kw, c_in, c_out = weights.shape
    xp = np.pad(np.asarray(x, dtype=float), ((padding, padding), (padding, padding), (0, 0)))
    maps = [sum(scipy.signal.correlate(xp[:, :, c], weights[:, :, c, k], mode="valid")
                for c in range(c_in)) for k in range(c_out)]
    out = np.stack(maps, axis=-1)[::stride, ::stride, :]
    if bias is not None:
        out = out + bias
    return out
'''),
]

ALTERNATIVES = [
    # ------------------------------------------------------------------ cross_correlate2d
    Variant("cross_correlate2d", "pure Python loops over output and kernel", '''\
def cross_correlate2d(image, kernel):
    H, W = image.shape
    kh, kw = kernel.shape
    out = np.zeros((H - kh + 1, W - kw + 1))
    for i in range(H - kh + 1):
        for j in range(W - kw + 1):
            total = 0.0
            for u in range(kh):
                for v in range(kw):
                    total += image[i + u, j + v] * kernel[u, v]
            out[i, j] = total
    return out
'''),
    Variant("cross_correlate2d", "einsum over sliding_window_view", '''\
from numpy.lib.stride_tricks import sliding_window_view

def cross_correlate2d(image, kernel):
    windows = sliding_window_view(image, kernel.shape)
    return np.einsum("ijuv,uv->ij", windows, kernel).astype(float)
'''),
    Variant("cross_correlate2d", "tensordot over the windows", '''\
def cross_correlate2d(image, kernel):
    windows = np.lib.stride_tricks.sliding_window_view(np.asarray(image, dtype=float), kernel.shape)
    return np.tensordot(windows, kernel, axes=([2, 3], [0, 1]))
'''),
    Variant("cross_correlate2d", "im2col: one row per window, then a matrix product", '''\
def cross_correlate2d(image, kernel):
    H, W = image.shape
    kh, kw = kernel.shape
    oh, ow = H - kh + 1, W - kw + 1
    cols = np.array([image[i:i + kh, j:j + kw].reshape(-1)
                     for i in range(oh) for j in range(ow)], dtype=float)
    return (cols @ kernel.reshape(-1)).reshape(oh, ow)
'''),
    Variant("cross_correlate2d", "sum of shifted slices, one per kernel weight", '''\
def cross_correlate2d(image, kernel):
    H, W = image.shape
    kh, kw = kernel.shape
    oh, ow = H - kh + 1, W - kw + 1
    out = np.zeros((oh, ow))
    for u in range(kh):
        for v in range(kw):
            out += kernel[u, v] * image[u:u + oh, v:v + ow]
    return out
'''),
    # ------------------------------------------------------------------ vertical_edge_kernel
    Variant("vertical_edge_kernel", "Prewitt, opposite sign, as a list of lists", '''\
vertical_edge_kernel = [[1, 0, -1],
                        [1, 0, -1],
                        [1, 0, -1]]
'''),
    Variant("vertical_edge_kernel", "a line detector (-1, 2, -1 columns)", '''\
vertical_edge_kernel = np.array([[-1.0, 2.0, -1.0]] * 3)
'''),
    Variant("vertical_edge_kernel", "small weights in two columns only", '''\
vertical_edge_kernel = np.array([[0.0, -0.1, 0.1],
                                 [0.0, -0.1, 0.1],
                                 [0.0, -0.1, 0.1]])
'''),
    # ------------------------------------------------------------------ shifted_feature_map
    Variant("shifted_feature_map", "moved by slicing into zeros", '''\
shifted_feature_map = np.zeros_like(fmap)
shifted_feature_map[1:, :-1] = fmap[:-1, 1:]
'''),
    Variant("shifted_feature_map", "recomputed on the moved letter with stride tricks", '''\
from numpy.lib.stride_tricks import sliding_window_view
shifted_feature_map = np.einsum("ijuv,uv->ij", sliding_window_view(np.roll(letter_f, (1, -1), axis=(0, 1)), (3, 3)),
                                edge_kernel)
'''),
    # ------------------------------------------------------------------ peak_window
    Variant("peak_window", "read off the figure, as lists", '''\
peak_window = {"centre": [6, 6], "top_left": [5, 4]}
'''),
    Variant("peak_window", "np.where on the maximum, NumPy integers", '''\
_rows, _cols = np.where(bar_map == bar_map.max())
peak_window = {"top_left": (_rows[0], _cols[0]),
               "centre": (_rows[0] + bar_kernel.shape[0] // 2, _cols[0] + bar_kernel.shape[1] // 2)}
'''),
    # ------------------------------------------------------------------ filter_vs_kernel, weights_shape
    Variant("filter_vs_kernel", "a list of lower-case letters", '''\
filter_vs_kernel = ["h", "f", "c", "b"]
'''),
    Variant("weights_shape", "a list instead of a tuple", '''\
weights_shape = [3, 3, 3, 16]
'''),
    # ------------------------------------------------------------------ conv2d
    Variant("conv2d", "pure Python loops, padding built by hand", '''\
def conv2d(x, weights, bias=None, stride=1, padding=0):
    H, W, c_in = x.shape
    kh, kw, _, c_out = weights.shape
    xp = np.zeros((H + 2 * padding, W + 2 * padding, c_in))
    xp[padding:padding + H, padding:padding + W, :] = x
    h_out = (H + 2 * padding - kh) // stride + 1
    w_out = (W + 2 * padding - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            for k in range(c_out):
                total = 0.0 if bias is None else float(bias[k])
                for u in range(kh):
                    for v in range(kw):
                        for c in range(c_in):
                            total += xp[i * stride + u, j * stride + v, c] * weights[u, v, c, k]
                out[i, j, k] = total
    return out
'''),
    Variant("conv2d", "einsum over sliding_window_view", '''\
from numpy.lib.stride_tricks import sliding_window_view

def conv2d(x, weights, bias=None, stride=1, padding=0):
    kh, kw, c_in, c_out = weights.shape
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    windows = sliding_window_view(xp, (kh, kw), axis=(0, 1))[::stride, ::stride]  # (H', W', C_in, kh, kw)
    out = np.einsum("ijcuv,uvck->ijk", windows, weights).astype(float)
    if bias is not None:
        out = out + bias
    return out
'''),
    Variant("conv2d", "tensordot per output position", '''\
def conv2d(x, weights, bias=None, stride=1, padding=0):
    kh, kw, c_in, c_out = weights.shape
    xp = np.pad(np.asarray(x, dtype=float), ((padding, padding), (padding, padding), (0, 0)))
    h_out = (xp.shape[0] - kh) // stride + 1
    w_out = (xp.shape[1] - kw) // stride + 1
    out = np.empty((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[i, j] = np.tensordot(window, weights, axes=3)
    return out if bias is None else out + bias
'''),
    Variant("conv2d", "im2col with reshape and one matrix product", '''\
def conv2d(x, weights, bias=None, stride=1, padding=0):
    kh, kw, c_in, c_out = weights.shape
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0))).astype(float)
    h_out = (xp.shape[0] - kh) // stride + 1
    w_out = (xp.shape[1] - kw) // stride + 1
    cols = np.empty((h_out * w_out, kh * kw * c_in))
    for i in range(h_out):
        for j in range(w_out):
            cols[i * w_out + j] = xp[i * stride:i * stride + kh, j * stride:j * stride + kw, :].reshape(-1)
    out = (cols @ weights.reshape(-1, c_out)).reshape(h_out, w_out, c_out)
    if bias is not None:
        out += bias
    return out
'''),
    Variant("conv2d", "stride-1 correlation per channel, then every stride-th row and column", '''\
def conv2d(x, weights, bias=None, stride=1, padding=0):
    kh, kw, c_in, c_out = weights.shape
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0))).astype(float)
    oh, ow = xp.shape[0] - kh + 1, xp.shape[1] - kw + 1
    full = np.zeros((oh, ow, c_out))
    for k in range(c_out):
        for c in range(c_in):
            for u in range(kh):
                for v in range(kw):
                    full[:, :, k] += weights[u, v, c, k] * xp[u:u + oh, v:v + ow, c]
    out = full[::stride, ::stride, :]
    if bias is not None:
        out = out + bias
    return out
'''),
]
