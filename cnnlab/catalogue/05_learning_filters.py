"""Simulated answers for 05_learning_filters (learning_filters.ipynb).

MISTAKES must lose marks on their own item only; ALTERNATIVES must keep full marks.

The network item is trained in the notebook with the student's own backward passes, so a
backward-pass mistake listed here is one that fails its hidden cases yet still trains the
network past every threshold (measured: 95.5 % or better on the hidden test set, against the
solution's 96.5 %): strides, padding, overlaps, average pooling and extreme scores are not
exercised by the X-vs-O network. Mistakes that do break training (a ReLU mask taken from
dout, softmax without the one-hot) lose marks on both items, as they should, and so are not
"own item only" material; the xo_network mistakes below break only the network.
"""
from cnnlab.simulate import Variant

_CONV = '''
def conv2d_backward(dout, x, weights, stride=1, padding=0):
    x = np.asarray(x, dtype=float)
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    kh, kw = weights.shape[:2]
    dxp, dweights = np.zeros(xp.shape), np.zeros(weights.shape)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            r, c = i * stride, j * stride
            WEIGHTS
            INPUT
    return CROP, dweights, BIAS
'''


def _conv(weights="dweights += xp[r:r + kh, c:c + kw][:, :, :, None] * dout[i, j]",
          input="dxp[r:r + kh, c:c + kw] += weights @ dout[i, j]",
          crop="dxp[padding:padding + x.shape[0], padding:padding + x.shape[1]]",
          bias="dout.sum(axis=(0, 1))"):
    return (_CONV.replace("WEIGHTS", weights).replace("INPUT", input).replace("CROP", crop)
            .replace("BIAS", bias))


_POOL = '''
def pool2d_backward(dout, x, size=2, stride=None, mode="max"):
    CHECK
    stride = DEFAULT if stride is None else stride
    x = np.asarray(x, dtype=float)
    dx = np.zeros(x.shape)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            r, c = i * stride, j * stride
            window = x[r:r + size, c:c + size]
            if mode == "max":
                MAX
            else:
                AVG
    return dx
'''


def _pool(check='if mode not in ("max", "avg"):\n        raise ValueError(mode)', default="size",
          max="dx[r:r + size, c:c + size] += (window == window.max(axis=(0, 1))) * dout[i, j]",
          avg="dx[r:r + size, c:c + size] += dout[i, j] / (size * size)"):
    return (_POOL.replace("CHECK", check).replace("DEFAULT", default).replace("MAX", max)
            .replace("AVG", avg))


_XO = '''
def xo_gradients(params, image, label):
    x = image[:, :, None]
    z = conv2d(x, params["weights"], params["bias"])
    a = relu(z)
    m = pool2d(a, 2)
    f = m.ravel()
    scores = f @ params["dense_w"] + params["dense_b"]
    loss, dscores = softmax_cross_entropy(scores, LABEL)
    dm = (params["dense_w"] @ dscores).reshape(RESHAPE)
    dz = RELU
    _, dweights, dbias = conv2d_backward(dz, x, params["weights"])
    return loss, {"weights": SIGNdweights, "bias": SIGNdbias, "dense_w": SIGNDENSE, "dense_b": SIGNdscores}
'''


def _xo(label="label", reshape="m.shape", relu="relu_backward(pool2d_backward(dm, a, 2), z)",
        dense="np.outer(f, dscores)", sign=""):
    return (_XO.replace("LABEL", label).replace("RESHAPE", reshape).replace("RELU", relu)
            .replace("DENSE", dense).replace("SIGN", sign))


MISTAKES = [
    # --- kernel_gradient -----------------------------------------------------------
    Variant("kernel_gradient", "residual the wrong way round (target - output)", '''
def kernel_gradient(image, kernel, target):
    return cross_correlate2d(image, target - cross_correlate2d(image, kernel))
'''),
    Variant("kernel_gradient", "correlates the image with the target, not the residual", '''
def kernel_gradient(image, kernel, target):
    return cross_correlate2d(image, target)
'''),
    Variant("kernel_gradient", "a factor 2 (the gradient of the sum without its 1/2)", '''
def kernel_gradient(image, kernel, target):
    return 2 * cross_correlate2d(image, cross_correlate2d(image, kernel) - target)
'''),
    # --- numerical_gradient ----------------------------------------------------------
    Variant("numerical_gradient", "forward differences", '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    base = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - base) / h
        x[i] = old
    return grad
'''),
    Variant("numerical_gradient", "x not restored (each element left at x - h)", '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        grad[i] = (up - f(x)) / (2 * h)
    return grad
'''),
    Variant("numerical_gradient", "perturbs every element at once", '''
def numerical_gradient(f, x, h=1e-5):
    slope = (f(x + h) - f(x - h)) / (2 * h)
    return np.full(x.shape, slope / x.size)
'''),
    Variant("numerical_gradient", "calls f with the flattened array", '''
def numerical_gradient(f, x, h=1e-5):
    flat = x.astype(float).ravel()
    grad = np.zeros(flat.shape)
    for i in range(flat.size):
        up, down = flat.copy(), flat.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / (2 * h)
    return grad.reshape(x.shape)
'''),
    Variant("numerical_gradient", "divides by h instead of 2h", '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / h
    return grad
'''),
    Variant("numerical_gradient", "ignores the h it is given", '''
def numerical_gradient(f, x, h=1e-5):
    step = 1e-5
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        grad[i] = (f(up) - f(down)) / (2 * step)
    return grad
'''),
    # --- relu_backward -----------------------------------------------------------------
    Variant("relu_backward", "ReLU passes the gradient at 0 (x >= 0)", '''
def relu_backward(dout, x):
    return np.where(x >= 0, dout, 0.0)
'''),
    Variant("relu_backward", "np.heaviside(x, 1): a slope of 1 at 0", '''
def relu_backward(dout, x):
    return dout * np.heaviside(x, 1.0)
'''),
    Variant("relu_backward", "zeroes dout in place and returns it", '''
def relu_backward(dout, x):
    dout[x <= 0] = 0
    return dout
'''),
    Variant("relu_backward", "mask = x (no copy) overwrites the input", '''
def relu_backward(dout, x):
    mask = x
    mask[mask <= 0] = 0
    mask[mask > 0] = 1
    return mask * dout
'''),
    Variant("relu_backward", "leaky ReLU's slope 0.01 for x < 0", '''
def relu_backward(dout, x):
    return np.where(x > 0, dout, 0.01 * dout)
'''),
    Variant("relu_backward", "half the gradient at exactly 0", '''
def relu_backward(dout, x):
    return dout * np.where(x > 0, 1.0, np.where(x == 0, 0.5, 0.0))
'''),
    # --- conv2d_backward ------------------------------------------------------------------
    Variant("conv2d_backward", "padding not cropped from dx", _conv(crop="dxp")),
    Variant("conv2d_backward", "stride ignored in dweights",
            _conv(weights="dweights += xp[i:i + kh, j:j + kw][:, :, :, None] * dout[i, j]")),
    Variant("conv2d_backward", "stride ignored in dx", _conv(input="dxp[i:i + kh, j:j + kw] += weights @ dout[i, j]")),
    Variant("conv2d_backward", "dx assigned, not accumulated, where windows overlap",
            _conv(input="dxp[r:r + kh, c:c + kw] = weights @ dout[i, j]")),
    Variant("conv2d_backward", "flipped weights in dx (as in a true convolution)",
            _conv(input="dxp[r:r + kh, c:c + kw] += weights[::-1, ::-1] @ dout[i, j]")),
    Variant("conv2d_backward", "crops the padding from the wrong corner", _conv(crop="dxp[:x.shape[0], :x.shape[1]]")),
    Variant("conv2d_backward", "dbias summed over the channels too (a scalar)", _conv(bias="dout.sum()")),
    # --- weight_sharing ----------------------------------------------------------------------
    Variant("weight_sharing", "thinks each position has its own weights (B)", 'weight_sharing = {"B", "E"}'),
    Variant("weight_sharing", "parameters grow with the image (F)", 'weight_sharing = {"A", "C", "E", "F"}'),
    # --- pool2d_backward ------------------------------------------------------------------
    Variant("pool2d_backward", "gradient to the window's last element, not its maximum", _pool(
        max="dx[r + size - 1, c + size - 1] += dout[i, j]")),
    Variant("pool2d_backward", "avg not divided by size*size", _pool(avg="dx[r:r + size, c:c + size] += dout[i, j]")),
    Variant("pool2d_backward", "avg divided by size, not size*size",
            _pool(avg="dx[r:r + size, c:c + size] += dout[i, j] / size")),
    Variant("pool2d_backward", "max spreads the gradient like avg", _pool(
        max="dx[r:r + size, c:c + size] += dout[i, j] / (size * size)")),
    Variant("pool2d_backward", "no accumulation where windows overlap", _pool(
        max="dx[r:r + size, c:c + size][window == window.max(axis=(0, 1))] = "
            "(np.ones(window.shape) * dout[i, j])[window == window.max(axis=(0, 1))]",
        avg="dx[r:r + size, c:c + size] = dout[i, j] / (size * size)")),
    Variant("pool2d_backward", "stride ignored (np.repeat of dout tiles the windows)", '''
def pool2d_backward(dout, x, size=2, stride=None, mode="max"):
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    x = np.asarray(x, dtype=float)
    dx = np.zeros(x.shape)
    H, W = dout.shape[0] * size, dout.shape[1] * size
    up = np.repeat(np.repeat(dout, size, axis=0), size, axis=1)
    if mode == "avg":
        dx[:H, :W] = up / (size * size)
        return dx
    blocks = x[:H, :W].reshape((dout.shape[0], size, dout.shape[1], size) + x.shape[2:])
    top = np.repeat(np.repeat(blocks.max(axis=(1, 3)), size, axis=0), size, axis=1)
    dx[:H, :W] = (x[:H, :W] == top) * up
    return dx
'''),
    Variant("pool2d_backward", "any mode but 'avg' treated as max (no ValueError)", _pool(check="pass")),
    # --- pooled_gradient -------------------------------------------------------------------
    Variant("pooled_gradient", "max pooling shares the gradient (B)", 'pooled_gradient = {"B", "E"}'),
    Variant("pooled_gradient", "pooling has weights (D, F)", 'pooled_gradient = {"A", "D", "F"}'),
    # --- softmax_cross_entropy -------------------------------------------------------------
    Variant("softmax_cross_entropy", "np.exp of the raw scores overflows", '''
def softmax_cross_entropy(scores, label):
    e = np.exp(scores)
    p = e / e.sum()
    d = p.copy()
    d[label] -= 1
    return float(-np.log(p[label])), d
'''),
    Variant("softmax_cross_entropy", "log of the probability plus an epsilon", '''
def softmax_cross_entropy(scores, label):
    s = scores - scores.max()
    p = np.exp(s) / np.exp(s).sum()
    d = p.copy()
    d[label] -= 1
    return float(-np.log(p[label] + 1e-12)), d
'''),
    Variant("softmax_cross_entropy", "log of a stable softmax still underflows to -inf", '''
def softmax_cross_entropy(scores, label):
    s = scores - scores.max()
    p = np.exp(s) / np.exp(s).sum()
    d = p.copy()
    d[label] -= 1
    return float(-np.log(p[label])), d
'''),
    Variant("softmax_cross_entropy", "subtracts the smallest score instead of the largest", '''
def softmax_cross_entropy(scores, label):
    s = scores - scores.min()
    lse = np.log(np.exp(s).sum())
    d = np.exp(s - lse)
    d[label] -= 1
    return float(lse - s[label]), d
'''),
    Variant("softmax_cross_entropy", "shifts the scores in place", '''
def softmax_cross_entropy(scores, label):
    scores -= scores.max()
    lse = np.log(np.exp(scores).sum())
    d = np.exp(scores - lse)
    d[label] -= 1
    return float(lse - scores[label]), d
'''),
    Variant("softmax_cross_entropy", "loss forgets the true score (log-sum-exp alone)", '''
def softmax_cross_entropy(scores, label):
    top = scores.max()
    lse = top + np.log(np.exp(scores - top).sum())
    d = np.exp(scores - lse)
    d[label] -= 1
    return float(lse - top), d
'''),
    # --- xo_network --------------------------------------------------------------------------
    Variant("xo_network", "unflattens dout in F order", _xo(reshape='m.shape, order="F"')),
    Variant("xo_network", "labels swapped (1 - label)", _xo(label="1 - label")),
    Variant("xo_network", "skips the ReLU's backward pass", _xo(relu="pool2d_backward(dm, a, 2)")),
    Variant("xo_network", "dense gradient transposed (2, D)", _xo(dense="np.outer(dscores, f)")),
    Variant("xo_network", "gradients with the wrong sign (ascent)", _xo(sign="-")),
    # --- learned_filters ----------------------------------------------------------------------
    Variant("learned_filters", "filters are the hand-made ones (B)", 'learned_filters = {"A", "B", "E"}'),
    Variant("learned_filters", "one filter per region, whole shapes (D, F)", 'learned_filters = {"D", "F"}'),
]

ALTERNATIVES = [
    Variant("kernel_gradient", "loops over the kernel's entries", '''
def kernel_gradient(image, kernel, target):
    kh, kw = kernel.shape
    residual = cross_correlate2d(image, kernel) - target
    grad = np.zeros((kh, kw))
    for a in range(kh):
        for b in range(kw):
            grad[a, b] = np.sum(image[a:a + residual.shape[0], b:b + residual.shape[1]] * residual)
    return grad
'''),
    Variant("numerical_gradient", "+h, -2h, +h in place (restored up to rounding)", '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        x[i] += h
        up = f(x)
        x[i] -= 2 * h
        down = f(x)
        x[i] += h
        grad[i] = (up - down) / (2 * h)
    return grad
'''),
    Variant("numerical_gradient", "a fresh copy per element, flat index", '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.size)
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = h
        e = e.reshape(x.shape)
        grad[k] = (f(x + e) - f(x - e)) / (2 * h)
    return grad.reshape(x.shape)
'''),
    Variant("relu_backward", "dout times the boolean mask", '''
def relu_backward(dout, x):
    return dout * (x > 0)
'''),
    Variant("relu_backward", "mask from the forward output relu(x) > 0", '''
def relu_backward(dout, x):
    out = np.maximum(x, 0)
    grad = np.zeros_like(dout, dtype=float)
    grad[out > 0] = dout[out > 0]
    return grad
'''),
    Variant("conv2d_backward", "loops over the output positions", _conv()),
    Variant("conv2d_backward", "pure Python loops, element by element", '''
def conv2d_backward(dout, x, weights, stride=1, padding=0):
    H, W, C_in = x.shape
    kh, kw, _, C_out = weights.shape
    xp = np.zeros((H + 2 * padding, W + 2 * padding, C_in))
    xp[padding:padding + H, padding:padding + W] = x
    dxp = np.zeros(xp.shape)
    dw = np.zeros(weights.shape)
    db = np.zeros(C_out)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            for k in range(C_out):
                g = dout[i, j, k]
                db[k] += g
                for a in range(kh):
                    for b in range(kw):
                        for c in range(C_in):
                            dw[a, b, c, k] += xp[i * stride + a, j * stride + b, c] * g
                            dxp[i * stride + a, j * stride + b, c] += weights[a, b, c, k] * g
    return dxp[padding:padding + H, padding:padding + W], dw, db
'''),
    Variant("conv2d_backward", "im2col: windows as rows of a matrix, np.add.at back", '''
def conv2d_backward(dout, x, weights, stride=1, padding=0):
    xp = np.pad(np.asarray(x, dtype=float), ((padding, padding), (padding, padding), (0, 0)))
    kh, kw, c_in, c_out = weights.shape
    H_out, W_out = dout.shape[:2]
    r = (np.arange(H_out) * stride)[:, None, None, None] + np.arange(kh)[None, None, :, None]
    c = (np.arange(W_out) * stride)[None, :, None, None] + np.arange(kw)[None, None, None, :]
    r, c = np.broadcast_arrays(r, c)
    cols = xp[r, c].reshape(H_out * W_out, kh * kw * c_in)
    d = dout.reshape(H_out * W_out, c_out)
    dweights = (cols.T @ d).reshape(weights.shape)
    dcols = (d @ weights.reshape(-1, c_out).T).reshape(H_out, W_out, kh, kw, c_in)
    dxp = np.zeros(xp.shape)
    np.add.at(dxp, (r, c), dcols)
    return dxp[padding:padding + x.shape[0], padding:padding + x.shape[1]], dweights, d.sum(axis=0)
'''),
    Variant("conv2d_backward", "dx as a full correlation of dilated dout with flipped weights", '''
def conv2d_backward(dout, x, weights, stride=1, padding=0):
    from numpy.lib.stride_tricks import sliding_window_view
    xp = np.pad(np.asarray(x, dtype=float), ((padding, padding), (padding, padding), (0, 0)))
    kh, kw, c_in, c_out = weights.shape
    H_out, W_out = dout.shape[:2]
    dilated = np.zeros(((H_out - 1) * stride + 1, (W_out - 1) * stride + 1, c_out))
    dilated[::stride, ::stride] = dout
    full = np.pad(dilated, ((kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    flipped = weights[::-1, ::-1]
    windows = sliding_window_view(full, (kh, kw), axis=(0, 1))        # (., ., c_out, kh, kw)
    dcore = np.einsum("ijkab,abck->ijc", windows, flipped)
    dxp = np.zeros(xp.shape)
    dxp[:dcore.shape[0], :dcore.shape[1]] = dcore
    seen = sliding_window_view(xp, (kh, kw), axis=(0, 1))[::stride, ::stride][:H_out, :W_out]
    dweights = np.einsum("ijcab,ijk->abck", seen, dout)
    return dxp[padding:padding + x.shape[0], padding:padding + x.shape[1]], dweights, dout.sum(axis=(0, 1))
'''),
    Variant("pool2d_backward", "np.add.at at each window's argmax", '''
def pool2d_backward(dout, x, size=2, stride=None, mode="max"):
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    stride = size if stride is None else stride
    x = np.asarray(x, dtype=float)
    squeeze = x.ndim == 2
    x3 = x[:, :, None] if squeeze else x
    d3 = dout[:, :, None] if squeeze else dout
    dx = np.zeros(x3.shape)
    for i in range(d3.shape[0]):
        for j in range(d3.shape[1]):
            r, c = i * stride, j * stride
            window = x3[r:r + size, c:c + size]
            if mode == "avg":
                dx[r:r + size, c:c + size] += d3[i, j] / size ** 2
                continue
            flat = window.reshape(size * size, -1).argmax(axis=0)
            a, b = np.unravel_index(flat, (size, size))
            np.add.at(dx, (r + a, c + b, np.arange(x3.shape[2])), d3[i, j])
    return dx[:, :, 0] if squeeze else dx
'''),
    Variant("pool2d_backward", "sliding windows and a mask, offset by offset", '''
def pool2d_backward(dout, x, size=2, stride=None, mode="max"):
    from numpy.lib.stride_tricks import sliding_window_view
    if mode not in ("max", "avg"):
        raise ValueError(mode)
    stride = size if stride is None else stride
    x = np.asarray(x, dtype=float)
    H_out, W_out = dout.shape[:2]
    windows = sliding_window_view(x, (size, size), axis=(0, 1))[::stride, ::stride][:H_out, :W_out]
    top = windows.max(axis=(-2, -1), keepdims=True)
    dx = np.zeros(x.shape)
    for a in range(size):
        for b in range(size):
            share = (windows[..., a, b] == top[..., 0, 0]) if mode == "max" else 1 / size ** 2
            dx[a:a + stride * H_out:stride, b:b + stride * W_out:stride] += share * dout
    return dx
'''),
    Variant("softmax_cross_entropy", "np.logaddexp.reduce for the log-sum-exp", '''
def softmax_cross_entropy(scores, label):
    lse = np.logaddexp.reduce(scores)
    return lse - scores[label], np.exp(scores - lse) - np.eye(len(scores))[label]
'''),
    Variant("softmax_cross_entropy", "log-softmax first, 0-d array loss", '''
def softmax_cross_entropy(scores, label):
    shifted = scores - np.max(scores)
    log_p = shifted - np.log(np.sum(np.exp(shifted)))
    onehot = np.zeros_like(scores)
    onehot[label] = 1
    return np.array(-log_p[label]), np.exp(log_p) - onehot
'''),
    Variant("xo_network", "pool2d_backward with stride 2 spelled out, einsum for the dense layer", '''
def xo_gradients(params, image, label):
    x = image.reshape(image.shape + (1,))
    z = conv2d(x, params["weights"], params["bias"])
    a = relu(z)
    m = pool2d(a, size=2, stride=2, mode="max")
    f = m.reshape(-1)
    scores = np.einsum("d,dk->k", f, params["dense_w"]) + params["dense_b"]
    loss, dscores = softmax_cross_entropy(scores, label)
    grads = {"dense_w": np.einsum("d,k->dk", f, dscores), "dense_b": dscores.copy()}
    da = pool2d_backward(np.einsum("dk,k->d", params["dense_w"], dscores).reshape(m.shape), a, size=2, stride=2)
    _, grads["weights"], grads["bias"] = conv2d_backward(relu_backward(da, z), x, params["weights"], stride=1)
    return loss, grads
'''),
]
