"""Simulated answers for 01_why_cnns (Why CNNs?): realistic mistakes and correct alternatives.

Every item here is conceptual: the answer cells hold a set of letters, a number or a list of
letters. A variant's code is the whole answer cell.
"""
from cnnlab.simulate import Variant

_SOBEL_CELL = '''patch = np.array([[1, 2, 0],
                  [0, 1, 3],
                  [2, 1, 1]])
sobel = np.array([[1, 0, -1],
                  [2, 0, -2],
                  [1, 0, -1]])
bias = 1
'''

MISTAKES = [
    # motivations: {B, C, E}
    Variant("motivations", "thinks a dense layer cannot compute an edge detector (A)",
            'motivations = {"A", "B", "C", "E"}'),
    Variant("motivations", "believes only a CNN learns its features (F)",
            'motivations = {"B", "C", "E", "F"}'),
    Variant("motivations", "thinks a convolutional unit sees the whole image (D)",
            'motivations = {"B", "C", "D", "E"}'),
    Variant("motivations", "only the parameter-count argument",
            'motivations = {"B"}'),
    Variant("motivations", "ticks every statement",
            'motivations = {"A", "B", "C", "D", "E", "F", "G"}'),
    Variant("motivations", "ticks every statement but one wrong one",
            'motivations = {"A", "B", "C", "D", "E", "F"}'),
    # n_dense_params: 27,000,100
    Variant("n_dense_params", "forgets the biases", "n_dense_params = 300 * 300 * 3 * 100"),
    Variant("n_dense_params", "forgets the colour channels", "n_dense_params = 300 * 300 * 100 + 100"),
    Variant("n_dense_params", "adds the input size instead of multiplying", "n_dense_params = 300 * 300 * 3 + 100"),
    Variant("n_dense_params", "one bias per input value instead of per unit",
            "n_dense_params = 300 * 300 * 3 * 100 + 300 * 300 * 3"),
    # n_conv_params: 7,600
    Variant("n_conv_params", "forgets the biases", "n_conv_params = 5 * 5 * 3 * 100"),
    Variant("n_conv_params", "forgets the colour channels (2-D filters)", "n_conv_params = (5 * 5 + 1) * 100"),
    Variant("n_conv_params", "one bias per channel of each filter", "n_conv_params = (5 * 5 + 1) * 3 * 100"),
    Variant("n_conv_params", "counts a weight per output position",
            "n_conv_params = 5 * 5 * 3 * 100 * 296 * 296 + 100"),
    # why_images: {B, E, G}
    Variant("why_images", "rotation invariance instead of translation equivariance",
            'why_images = {"B", "E", "D"}'),
    Variant("why_images", "global view instead of local connectivity",
            'why_images = {"A", "E", "G"}'),
    Variant("why_images", "two reasons swapped for distractors",
            'why_images = {"B", "C", "F"}'),
    # conv_layer: {A, C, F}
    Variant("conv_layer", "confuses it with a dense layer", 'conv_layer = {"A", "B", "C"}'),
    Variant("conv_layer", "confuses it with pooling", 'conv_layer = {"A", "C", "E"}'),
    Variant("conv_layer", "thinks filters are 2-D only (misses F)", 'conv_layer = {"A", "C"}'),
    Variant("conv_layer", "hand-designed, position-dependent filters", 'conv_layer = {"A", "D", "G"}'),
    # sobel_output: -3
    Variant("sobel_output", "forgets the bias", _SOBEL_CELL + "sobel_output = np.sum(patch * sobel)"),
    Variant("sobel_output", "flips the filter (true convolution)",
            _SOBEL_CELL + "sobel_output = np.sum(patch * sobel[::-1, ::-1]) + bias"),
    Variant("sobel_output", "matrix product instead of element-wise product",
            _SOBEL_CELL + "sobel_output = np.sum(patch @ sobel) + bias"),
    Variant("sobel_output", "applies ReLU to the result", _SOBEL_CELL + "sobel_output = max(0, np.sum(patch * sobel) + bias)"),
    Variant("sobel_output", "averages the products instead of adding them",
            _SOBEL_CELL + "sobel_output = np.mean(patch * sobel) + bias"),
    # cnn_pipeline: E B G D A F C
    Variant("cnn_pipeline", "pooling before convolution", 'cnn_pipeline = ["E", "D", "B", "G", "A", "F", "C"]'),
    Variant("cnn_pipeline", "flatten after the dense layer", 'cnn_pipeline = ["E", "B", "G", "D", "F", "A", "C"]'),
    Variant("cnn_pipeline", "softmax before the dense layer", 'cnn_pipeline = ["E", "B", "G", "D", "A", "C", "F"]'),
    Variant("cnn_pipeline", "order of the card list (A to G)", 'cnn_pipeline = ["A", "B", "C", "D", "E", "F", "G"]'),
    # cnn_roles: B C D F E A
    Variant("cnn_roles", "pooling described as padding", 'cnn_roles = ["B", "C", "G", "F", "E", "A"]'),
    Variant("cnn_roles", "flatten and fully connected swapped", 'cnn_roles = ["B", "C", "D", "E", "F", "A"]'),
    Variant("cnn_roles", "convolution and fully connected swapped", 'cnn_roles = ["E", "C", "D", "F", "B", "A"]'),
]

ALTERNATIVES = [
    Variant("motivations", "lowercase letters in a list", 'motivations = ["b", "c", "e"]'),
    Variant("motivations", "a tuple, other order", 'motivations = ("E", "C", "B")'),
    Variant("n_dense_params", "the number written out", "n_dense_params = 27_000_100"),
    Variant("n_dense_params", "with NumPy (a numpy integer)",
            "import numpy as np\nn_dense_params = np.prod((300, 300, 3)) * 100 + 100"),
    Variant("n_dense_params", "a float", "n_dense_params = 2.70001e7"),
    Variant("n_conv_params", "weights plus biases", "n_conv_params = 5 * 5 * 3 * 100 + 100"),
    Variant("n_conv_params", "the number written out", "n_conv_params = 7600"),
    Variant("n_conv_params", "a float", "n_conv_params = 7600.0"),
    Variant("why_images", "lowercase letters in a list", 'why_images = ["b", "e", "g"]'),
    Variant("why_images", "a tuple with stray spaces", 'why_images = (" G", "E ", "B")'),
    Variant("conv_layer", "set of a string", 'conv_layer = set("ACF")'),
    Variant("conv_layer", "lowercase letters in a list", 'conv_layer = ["f", "c", "a"]'),
    Variant("sobel_output", "with NumPy", _SOBEL_CELL + "sobel_output = float(np.sum(patch * sobel) + bias)"),
    Variant("sobel_output", "written out by hand",
            "sobel_output = 1*1 + 2*0 + 0*(-1) + 0*2 + 1*0 + 3*(-2) + 2*1 + 1*0 + 1*(-1) + 1"),
    Variant("sobel_output", "a float", "sobel_output = -3.0"),
    Variant("cnn_pipeline", "a tuple", 'cnn_pipeline = ("E", "B", "G", "D", "A", "F", "C")'),
    Variant("cnn_pipeline", "lowercase letters", 'cnn_pipeline = ["e", "b", "g", "d", "a", "f", "c"]'),
    Variant("cnn_pipeline", "list of a string", 'cnn_pipeline = list("EBGDAFC")'),
    Variant("cnn_roles", "a tuple", 'cnn_roles = ("B", "C", "D", "F", "E", "A")'),
    Variant("cnn_roles", "lowercase with spaces", 'cnn_roles = ["b ", " c", "d", "f", "e", "a"]'),
]
