"""Simulated answers for 04_dimensions (notebook `dimensions`).

MISTAKES must each lose marks on their own item only; ALTERNATIVES must keep full marks.
"""
from cnnlab.simulate import Variant

# ----------------------------------------------------------------------------
# Mistakes
# ----------------------------------------------------------------------------
MISTAKES = [
    # -- conv_output_size ------------------------------------------------------
    Variant("conv_output_size", "round instead of floor", '''\
def conv_output_size(n, kernel_size, stride=1, padding=0):
    if stride < 1:
        raise ValueError("stride must be >= 1")
    if kernel_size > n + 2 * padding:
        raise ValueError("kernel larger than the padded input")
    return int(round((n + 2 * padding - kernel_size) / stride)) + 1
'''),
    Variant("conv_output_size", "ceil instead of floor", '''\
import math

def conv_output_size(n, kernel_size, stride=1, padding=0):
    if stride < 1:
        raise ValueError("stride must be >= 1")
    if kernel_size > n + 2 * padding:
        raise ValueError("kernel larger than the padded input")
    return math.ceil((n + 2 * padding - kernel_size) / stride) + 1
'''),
    Variant("conv_output_size", "missing +1", '''\
def conv_output_size(n, kernel_size, stride=1, padding=0):
    if stride < 1:
        raise ValueError("stride must be >= 1")
    if kernel_size > n + 2 * padding:
        raise ValueError("kernel larger than the padded input")
    return (n + 2 * padding - kernel_size) // stride
'''),
    Variant("conv_output_size", "padding counted on one side only", '''\
def conv_output_size(n, kernel_size, stride=1, padding=0):
    if stride < 1:
        raise ValueError("stride must be >= 1")
    if kernel_size > n + padding:
        raise ValueError("kernel larger than the padded input")
    return (n + padding - kernel_size) // stride + 1
'''),
    Variant("conv_output_size", "no ValueError raised", '''\
def conv_output_size(n, kernel_size, stride=1, padding=0):
    return (n + 2 * padding - kernel_size) // stride + 1
'''),
    Variant("conv_output_size", "ValueError only for stride 0 (not negative, not too large a kernel)", '''\
def conv_output_size(n, kernel_size, stride=1, padding=0):
    if stride == 0:
        raise ValueError("stride must not be 0")
    return (n + 2 * padding - kernel_size) // stride + 1
'''),
    Variant("conv_output_size", "kernel equal to padded input rejected (>= instead of >)", '''\
def conv_output_size(n, kernel_size, stride=1, padding=0):
    if stride < 1:
        raise ValueError("stride must be >= 1")
    if kernel_size >= n + 2 * padding:
        raise ValueError("kernel larger than the padded input")
    return (n + 2 * padding - kernel_size) // stride + 1
'''),
    Variant("conv_output_size", "float result via /", '''\
def conv_output_size(n, kernel_size, stride=1, padding=0):
    if stride < 1:
        raise ValueError("stride must be >= 1")
    if kernel_size > n + 2 * padding:
        raise ValueError("kernel larger than the padded input")
    return (n + 2 * padding - kernel_size) / stride + 1
'''),
    Variant("conv_output_size", "stride ignored", '''\
def conv_output_size(n, kernel_size, stride=1, padding=0):
    if stride < 1:
        raise ValueError("stride must be >= 1")
    if kernel_size > n + 2 * padding:
        raise ValueError("kernel larger than the padded input")
    return n + 2 * padding - kernel_size + 1
'''),

    # -- conv_param_count ------------------------------------------------------
    Variant("conv_param_count", "bias forgotten", '''\
def conv_param_count(kernel_size, in_channels, out_channels, bias=True):
    if isinstance(kernel_size, int):
        kh = kw = kernel_size
    else:
        kh, kw = kernel_size
    return kh * kw * in_channels * out_channels
'''),
    Variant("conv_param_count", "one bias per 2-D kernel slice instead of per filter", '''\
def conv_param_count(kernel_size, in_channels, out_channels, bias=True):
    if isinstance(kernel_size, int):
        kh = kw = kernel_size
    else:
        kh, kw = kernel_size
    if bias:
        return (kh * kw + 1) * in_channels * out_channels
    return kh * kw * in_channels * out_channels
'''),
    Variant("conv_param_count", "bias counted per weight", '''\
def conv_param_count(kernel_size, in_channels, out_channels, bias=True):
    if isinstance(kernel_size, int):
        kh = kw = kernel_size
    else:
        kh, kw = kernel_size
    weights = kh * kw * in_channels * out_channels
    return 2 * weights if bias else weights
'''),
    Variant("conv_param_count", "in_channels forgotten", '''\
def conv_param_count(kernel_size, in_channels, out_channels, bias=True):
    if isinstance(kernel_size, int):
        kh = kw = kernel_size
    else:
        kh, kw = kernel_size
    return kh * kw * out_channels + (out_channels if bias else 0)
'''),
    Variant("conv_param_count", "kernel pair squared wrongly (kh*kh)", '''\
def conv_param_count(kernel_size, in_channels, out_channels, bias=True):
    if isinstance(kernel_size, int):
        k = kernel_size
    else:
        k = kernel_size[0]
    return k * k * in_channels * out_channels + (out_channels if bias else 0)
'''),
    Variant("conv_param_count", "bias=False ignored", '''\
def conv_param_count(kernel_size, in_channels, out_channels, bias=True):
    if isinstance(kernel_size, int):
        kh = kw = kernel_size
    else:
        kh, kw = kernel_size
    return kh * kw * in_channels * out_channels + out_channels
'''),
    Variant("conv_param_count", "pair not supported (kernel_size ** 2)", '''\
def conv_param_count(kernel_size, in_channels, out_channels, bias=True):
    return kernel_size ** 2 * in_channels * out_channels + (out_channels if bias else 0)
'''),

    # -- dense_param_count -----------------------------------------------------
    Variant("dense_param_count", "bias forgotten", '''\
def dense_param_count(input_shape, units, bias=True):
    n = 1
    for d in input_shape:
        n *= d
    return n * units
'''),
    Variant("dense_param_count", "only H*W (channels dropped)", '''\
def dense_param_count(input_shape, units, bias=True):
    n = input_shape[0] * input_shape[1]
    return n * units + (units if bias else 0)
'''),
    Variant("dense_param_count", "units added instead of multiplied", '''\
def dense_param_count(input_shape, units, bias=True):
    n = 1
    for d in input_shape:
        n *= d
    return n + units + (units if bias else 0)
'''),
    Variant("dense_param_count", "sum of dims instead of product", '''\
def dense_param_count(input_shape, units, bias=True):
    return sum(input_shape) * units + (units if bias else 0)
'''),
    Variant("dense_param_count", "bias=False ignored", '''\
def dense_param_count(input_shape, units, bias=True):
    n = 1
    for d in input_shape:
        n *= d
    return n * units + units
'''),
    Variant("dense_param_count", "float result from np.prod of a float array", '''\
import numpy as np

def dense_param_count(input_shape, units, bias=True):
    n = np.prod(np.array(input_shape, dtype=float))
    return n * units + (units if bias else 0)
'''),

    # -- conceptual items ------------------------------------------------------
    Variant("stride_fit", "floor applied blindly to stride 3",
            "stride_fit = {1: 5, 2: 3, 3: 2}\n"),
    Variant("stride_fit", "missing +1",
            "stride_fit = {1: 4, 2: 2, 3: None}\n"),
    Variant("stride_fit", "ceil for stride 3",
            "stride_fit = {1: 5, 2: 3, 3: 3}\n"),
    Variant("cifar_conv", "bias forgotten",
            'cifar_conv = {"output_shape": (16, 16, 16), "params": 432}\n'),
    Variant("cifar_conv", "padding ignored",
            'cifar_conv = {"output_shape": (15, 15, 16), "params": 448}\n'),
    Variant("cifar_conv", "stride ignored",
            'cifar_conv = {"output_shape": (32, 32, 16), "params": 448}\n'),
    Variant("cifar_conv", "depth kept from the input",
            'cifar_conv = {"output_shape": (16, 16, 3), "params": 448}\n'),
    Variant("cifar_conv", "in_channels forgotten in the count",
            'cifar_conv = {"output_shape": (16, 16, 16), "params": 3 * 3 * 16 + 16}\n'),
    Variant("dense_vs_conv", "conv bias forgotten",
            'dense_vs_conv = {"dense_64": 1228900, "dense_128": 4915300, "conv_64": 7500, "conv_128": 7500}\n'),
    Variant("dense_vs_conv", "dense channels dropped",
            'dense_vs_conv = {"dense_64": 64 * 64 * 100 + 100, "dense_128": 128 * 128 * 100 + 100,\n'
            '                 "conv_64": 7600, "conv_128": 7600}\n'),
    Variant("dense_vs_conv", "conv count grows with the image",
            'dense_vs_conv = {"dense_64": 1228900, "dense_128": 4915300, "conv_64": 7600, "conv_128": 4 * 7600}\n'),
    Variant("dense_vs_conv", "dense count only doubles when the side doubles",
            'dense_vs_conv = {"dense_64": 1228900, "dense_128": 2 * 1228900, "conv_64": 7600, "conv_128": 7600}\n'),
    Variant("weight_facts", "conv count thought to grow with the image",
            'weight_facts = {"A", "B", "C", "D"}\n'),
    Variant("weight_facts", "pooling thought to learn weights",
            'weight_facts = {"A", "C", "D", "E"}\n'),
    Variant("weight_facts", "weight sharing missed",
            'weight_facts = {"A", "D"}\n'),
    Variant("layer_shapes", "padding of conv1 ignored (cascades)", '''\
layer_shapes = [(28, 28, 10), (28, 28, 10), (14, 14, 10), (12, 12, 20), (6, 6, 20), (720,), (10,)]
'''),
    Variant("layer_shapes", "pooling also halves the depth", '''\
layer_shapes = [(32, 32, 10), (32, 32, 10), (16, 16, 5), (14, 14, 20), (7, 7, 10), (490,), (10,)]
'''),
    Variant("layer_shapes", "flatten kept as a volume", '''\
layer_shapes = [(32, 32, 10), (32, 32, 10), (16, 16, 10), (14, 14, 20), (7, 7, 20), (7, 7, 20), (10,)]
'''),
    Variant("layer_shapes", "second conv padded as 'same'", '''\
layer_shapes = [(32, 32, 10), (32, 32, 10), (16, 16, 10), (16, 16, 20), (8, 8, 20), (1280,), (10,)]
'''),
    Variant("layer_params", "bias forgotten everywhere", '''\
layer_params = [750, 0, 0, 1800, 0, 0, 9800]
'''),
    Variant("layer_params", "conv2 filters only 3 deep (input depth reused)", '''\
layer_params = [760, 0, 0, 3 * 3 * 3 * 20 + 20, 0, 0, 9810]
'''),
    Variant("layer_params", "pooling given weights (one per window cell)", '''\
layer_params = [760, 0, 2 * 2 * 10, 1820, 2 * 2 * 20, 0, 9810]
'''),
    Variant("layer_params", "dense counted from the unflattened 7×7 map", '''\
layer_params = [760, 0, 0, 1820, 0, 0, 7 * 7 * 10 + 10]
'''),
    Variant("alexnet_conv1", "missing +1",
            'alexnet_conv1 = {"output_shape": (54, 54, 96), "params": 34944}\n'),
    Variant("alexnet_conv1", "bias forgotten",
            'alexnet_conv1 = {"output_shape": (55, 55, 96), "params": 34848}\n'),
    Variant("alexnet_conv1", "in_channels forgotten",
            'alexnet_conv1 = {"output_shape": (55, 55, 96), "params": 11 * 11 * 96 + 96}\n'),
    Variant("alexnet_conv1", "paper's 224 input used",
            'alexnet_conv1 = {"output_shape": (54, 54, 96), "params": 34944}\n'),
    Variant("alexnet_conv1", "depth kept from the input",
            'alexnet_conv1 = {"output_shape": (55, 55, 3), "params": 34944}\n'),
    Variant("alexnet_conv2", "pools with non-overlapping 3×3 windows (stride 3)",
            'alexnet_conv2 = {"pool1_shape": (18, 18, 96), "conv2_shape": (18, 18, 256), "conv2_params": 307456}\n'),
    Variant("alexnet_conv2", "forgets the +1 in the pooling size",
            'alexnet_conv2 = {"pool1_shape": (26, 26, 96), "conv2_shape": (26, 26, 256), "conv2_params": 307456}\n'),
    Variant("alexnet_conv2", "ignores the groups: each filter spans all 96 channels",
            'alexnet_conv2 = {"pool1_shape": (27, 27, 96), "conv2_shape": (27, 27, 256), "conv2_params": 614656}\n'),
    Variant("alexnet_conv2", "splits the filters by the groups too",
            'alexnet_conv2 = {"pool1_shape": (27, 27, 96), "conv2_shape": (27, 27, 256), "conv2_params": 153728}\n'),
    Variant("alexnet_conv2", "forgets conv2's biases",
            'alexnet_conv2 = {"pool1_shape": (27, 27, 96), "conv2_shape": (27, 27, 256), "conv2_params": 307200}\n'),
    Variant("alexnet_conv2", "keeps the input depth after conv2",
            'alexnet_conv2 = {"pool1_shape": (27, 27, 96), "conv2_shape": (27, 27, 96), "conv2_params": 307456}\n'),
    Variant("receptive_field", "ignores the jumps: adds k - 1 per layer",
            'receptive_field = {"after_conv1": 3, "after_pool1": 4, "after_conv2": 8, "after_pool2": 9}\n'),
    Variant("receptive_field", "adds up the window sizes",
            'receptive_field = {"after_conv1": 3, "after_pool1": 5, "after_conv2": 10, "after_pool2": 12}\n'),
    Variant("receptive_field", "multiplies the window sizes",
            'receptive_field = {"after_conv1": 3, "after_pool1": 6, "after_conv2": 30, "after_pool2": 60}\n'),
    Variant("receptive_field", "thinks pooling does not widen the view",
            'receptive_field = {"after_conv1": 3, "after_pool1": 3, "after_conv2": 11, "after_pool2": 11}\n'),
    Variant("receptive_field", "adds k instead of k - 1 per layer",
            'receptive_field = {"after_conv1": 3, "after_pool1": 5, "after_conv2": 15, "after_pool2": 19}\n'),
    Variant("alexnet_conv2", "ignores the padding of conv2",
            'alexnet_conv2 = {"pool1_shape": (27, 27, 96), "conv2_shape": (23, 23, 256), "conv2_params": 307456}\n'),
]

# ----------------------------------------------------------------------------
# Correct alternatives
# ----------------------------------------------------------------------------
ALTERNATIVES = [
    # -- conv_output_size ------------------------------------------------------
    Variant("conv_output_size", "divmod", '''\
def conv_output_size(n, kernel_size, stride=1, padding=0):
    if stride < 1:
        raise ValueError("stride must be >= 1")
    room = n + 2 * padding - kernel_size
    if room < 0:
        raise ValueError("kernel larger than the padded input")
    steps, _left_over = divmod(room, stride)
    return steps + 1
'''),
    Variant("conv_output_size", "explicit loop over window starts", '''\
def conv_output_size(n, kernel_size, stride=1, padding=0):
    if stride < 1:
        raise ValueError("stride must be >= 1")
    padded = n + 2 * padding
    if kernel_size > padded:
        raise ValueError("kernel larger than the padded input")
    count, start = 0, 0
    while start + kernel_size <= padded:
        count += 1
        start += stride
    return count
'''),
    Variant("conv_output_size", "math.floor on a float, cast to int", '''\
import math

def conv_output_size(n, kernel_size, stride=1, padding=0):
    if not stride >= 1:
        raise ValueError(f"bad stride {stride}")
    if n + 2 * padding - kernel_size < 0:
        raise ValueError("window does not fit")
    return int(math.floor((n + 2 * padding - kernel_size) / stride)) + 1
'''),
    Variant("conv_output_size", "len(range(...))", '''\
def conv_output_size(n, kernel_size, stride=1, padding=0):
    if stride < 1 or kernel_size > n + 2 * padding:
        raise ValueError("invalid stride or kernel size")
    return len(range(0, n + 2 * padding - kernel_size + 1, stride))
'''),
    Variant("conv_output_size", "numpy floor_divide (NumPy integer result)", '''\
import numpy as np

def conv_output_size(n, kernel_size, stride=1, padding=0):
    if stride < 1:
        raise ValueError("stride must be >= 1")
    if kernel_size > n + 2 * padding:
        raise ValueError("kernel larger than the padded input")
    return np.floor_divide(np.int64(n + 2 * padding - kernel_size), stride) + 1
'''),

    # -- conv_param_count ------------------------------------------------------
    Variant("conv_param_count", "math.prod", '''\
import math

def conv_param_count(kernel_size, in_channels, out_channels, bias=True):
    kernel = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    return math.prod(kernel) * in_channels * out_channels + (out_channels if bias else 0)
'''),
    Variant("conv_param_count", "np.prod with int()", '''\
import numpy as np

def conv_param_count(kernel_size, in_channels, out_channels, bias=True):
    kernel = np.broadcast_to(np.asarray(kernel_size), (2,))
    total = int(np.prod(kernel)) * in_channels * out_channels
    if bias:
        total += out_channels
    return total
'''),
    Variant("conv_param_count", "explicit loops over filters", '''\
def conv_param_count(kernel_size, in_channels, out_channels, bias=True):
    try:
        kh, kw = kernel_size
    except TypeError:
        kh = kw = kernel_size
    total = 0
    for _ in range(out_channels):
        per_filter = 0
        for _ in range(in_channels):
            per_filter += kh * kw
        if bias:
            per_filter += 1
        total += per_filter
    return total
'''),
    Variant("conv_param_count", "per-filter count times filters", '''\
def conv_param_count(kernel_size, in_channels, out_channels, bias=True):
    if isinstance(kernel_size, (tuple, list)):
        kh, kw = kernel_size
    else:
        kh = kw = kernel_size
    return (kh * kw * in_channels + int(bool(bias))) * out_channels
'''),

    # -- dense_param_count -----------------------------------------------------
    Variant("dense_param_count", "math.prod", '''\
import math

def dense_param_count(input_shape, units, bias=True):
    return math.prod(input_shape) * units + (units if bias else 0)
'''),
    Variant("dense_param_count", "np.prod with int()", '''\
import numpy as np

def dense_param_count(input_shape, units, bias=True):
    inputs = int(np.prod(input_shape))
    return inputs * units + units * int(bias)
'''),
    Variant("dense_param_count", "functools.reduce", '''\
from functools import reduce
import operator

def dense_param_count(input_shape, units, bias=True):
    inputs = reduce(operator.mul, input_shape, 1)
    weights = inputs * units
    biases = units if bias else 0
    return weights + biases
'''),
    Variant("dense_param_count", "size of a zeros array (weights per unit plus bias)", '''\
import numpy as np

def dense_param_count(input_shape, units, bias=True):
    per_unit = np.zeros(input_shape).size + (1 if bias else 0)
    return per_unit * units
'''),

    # -- conceptual items in other correct forms ---------------------------------
    Variant("stride_fit", "numbers from NumPy integers",
            "import numpy as np\nstride_fit = {1: np.int64(5), 2: np.int64(3), 3: None}\n"),
    Variant("cifar_conv", "shape as a list",
            'cifar_conv = {"output_shape": [16, 16, 16], "params": 448}\n'),
    Variant("alexnet_conv1", "plain numbers",
            'alexnet_conv1 = {"params": 34944, "output_shape": (55, 55, 96)}\n'),
    Variant("receptive_field", "computed with the recurrence in a loop (NumPy integers)",
            'import numpy as np\nreceptive_field, _r, _j = {}, np.int64(1), np.int64(1)\n'
            'for _name, _k, _s in [("after_conv1", 3, 1), ("after_pool1", 2, 2), ("after_conv2", 5, 1), ("after_pool2", 2, 2)]:\n'
            '    _r, _j = _r + (_k - 1) * _j, _j * _s\n'
            '    receptive_field[_name] = _r\n'),
    Variant("receptive_field", "plain numbers, another key order",
            'receptive_field = {"after_pool2": 14, "after_conv2": 12, "after_pool1": 4, "after_conv1": 3}\n'),
    Variant("alexnet_conv2", "plain numbers, lists, another key order",
            'alexnet_conv2 = {"conv2_params": 307456, "conv2_shape": [27, 27, 256], "pool1_shape": [27, 27, 96]}\n'),
    Variant("alexnet_conv2", "NumPy integers from a computation",
            'import numpy as np\n_s = np.int64((55 - 3) // 2 + 1)\n'
            'alexnet_conv2 = {"pool1_shape": (_s, _s, np.int64(96)), "conv2_shape": (_s, _s, np.int64(256)),\n'
            '                 "conv2_params": np.int64(5 * 5 * 48 * 256 + 256)}\n'),
    Variant("weight_facts", "a list of lower-case letters",
            'weight_facts = ["a", "c", "d"]\n'),
    Variant("layer_shapes", "vectors written as lists",
            "layer_shapes = [[32, 32, 10], [32, 32, 10], [16, 16, 10], [14, 14, 20], [7, 7, 20], [980], [10]]\n"),
    Variant("layer_params", "plain numbers",
            "layer_params = [760, 0, 0, 1820, 0, 0, 9810]\n"),
]
