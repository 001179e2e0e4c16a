"""`micrograd demo --dataset digits`: a CNN (or an MLP) learns scikit-learn's 8x8 handwritten
digits through micrograd.compile, then the demo scores it on held-out digits and plots what it
learned: the confusion matrix, the filters, the feature maps of one digit, the digits it got
wrong, and the loss and accuracy curves.

The plots are in digits_plots.py; each ``plot_*`` function returns a matplotlib figure
(notebook 08 shows them inline, through this module), and the demo saves them as PNGs."""

from __future__ import annotations

import argparse
import random
import time
from functools import partial
from pathlib import Path

import numpy as np

from micrograd import no_grad
from micrograd.files import replace_with

from . import data, optim
from .activations import MODULES as ACTIVATION_MODULES
from .conv import Conv2d, Flatten, MaxPool2d
from .demo import (
    OPTIMIZERS,
    dense_parameter_count,
    epochs_text,
    seconds_text,
    warn_if_diverged,
    zero_output_loss,
)
from .dense import MLP, Layer, Sequential
from .digits_plots import (
    IMAGE_SIZE,
    plot_confusion,
    plot_curves,
    plot_feature_maps,
    plot_filters,
    plot_misclassified,
)
from .train import fit

MAX_BLOCKS = 3  # 8 -> 4 -> 2 -> 1
TEST_SHARE = 0.2
MIN_SAMPLES = 20  # two of each digit: the training side of the split holds every digit
DEFAULTS = {  # the digits' defaults for the options the toy data sets default otherwise
    "layers": {"cnn": [16, 32], "mlp": [80]},  # about 6,000 parameters each
    "optimizer": "adam",
    "epochs": 30,
    "batch_size": 32,
}
# Learning rates for the default CNN, the best of three per optimizer in 15 epochs with the
# schedule (SGD at 0.3 and 1.0 stays at chance; Adam at 0.03 ends below 95%)
LEARNING_RATES = {
    "sgd": 0.1,
    "momentum": 0.03,
    "adam": 0.01,
    "adamw": 0.01,
    "rmsprop": 0.003,
    "adagrad": 0.03,
}
OUTPUT_NAMES = (
    "confusion_matrix.png",
    "filters.png",
    "feature_maps.png",
    "misclassified.png",
    "curves.png",
)


def cnn(channels: list[int], activation: str, rng: random.Random) -> Sequential:
    """A block per entry of channels (a 3x3 convolution keeping the size, the activation,
    a 2x2 max pool halving it), then a dense layer from the last maps to the ten digits."""
    modules, size, previous = [], IMAGE_SIZE, 1
    for count in channels:
        convolution = Conv2d(previous, count, 3, padding=1, rng=rng)
        modules += [convolution, ACTIVATION_MODULES[activation](), MaxPool2d(2)]
        size, previous = size // 2, count
    features = previous * size * size
    return Sequential(*modules, Flatten(), Layer(features, 10, activation="linear", rng=rng))


def build(model: str, layers: list[int], activation: str, rng: random.Random):
    """The network the demo trains: a CNN on [1][8][8] images or an MLP on 64 pixels."""
    if model == "cnn":
        return cnn(layers, activation, rng)
    return MLP(IMAGE_SIZE * IMAGE_SIZE, [*layers, 10], activation=activation, rng=rng)


def parameter_count(model: str, layers: list[int]) -> int:
    """build(model, layers, ...).num_parameters(), without building it."""
    if model != "cnn":
        return dense_parameter_count([IMAGE_SIZE * IMAGE_SIZE, *layers, 10])
    count, size, previous = 0, IMAGE_SIZE, 1
    for channels in layers:
        count += (3 * 3 * previous + 1) * channels
        size, previous = size // 2, channels
    return count + (previous * size * size + 1) * 10


def _describe(model: str, layers: list[int], activation: str) -> str:
    if model == "cnn":
        blocks = ", ".join(f"conv3x3 {n} + {activation} + maxpool2" for n in layers)
        return f"CNN({blocks}, dense 10)"
    sizes = " -> ".join(str(n) for n in [IMAGE_SIZE * IMAGE_SIZE, *layers, 10])
    return f"MLP({sizes}, {activation})"


def _outputs(network, X: np.ndarray, compiled: bool) -> np.ndarray:
    """The network's ten scores for every sample of X, one row each."""
    if compiled:
        import micrograd

        return micrograd.compile(lambda x: network(x)).forward(X)
    with no_grad():
        return np.array([[v.data for v in network(sample)] for sample in X.tolist()])


def digits_demo(args: argparse.Namespace):
    """Train on 80% of the digits, report the accuracy on the other 20% as `test accuracy
    NN.N%`, and write the plots named in OUTPUT_NAMES into args.out; returns the network."""
    X, y = data.load_digits()
    if args.samples < len(X):  # a stratified subset, for quick runs
        X, _, y, _ = data.train_test_split(X, y, test_size=len(X) - args.samples, seed=args.seed)
    X_train, X_test, y_train, y_test = data.train_test_split(
        X, y, test_size=TEST_SHARE, seed=args.seed
    )
    if args.model == "mlp":  # 64 pixels a row
        X_train, X_test = (images.reshape(len(images), -1) for images in (X_train, X_test))
    network = build(args.model, args.layers, args.activation, random.Random(args.seed))
    make_optimizer = OPTIMIZERS[args.optimizer][0]
    lr = args.lr if args.lr is not None else LEARNING_RATES[args.optimizer]
    optimizer = make_optimizer(network.parameters(), lr)
    schedule = optim.LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=args.epochs)
    compiled = not args.eager
    print(
        f"training {_describe(args.model, args.layers, args.activation)} on digits "
        f"({len(X_train)} training and {len(X_test)} test images of 8x8), "
        f"{network.num_parameters()} parameters, {args.optimizer} lr {lr:g} decaying towards "
        f"{lr / 10:g}, batches of {args.batch_size}"
    )
    start = time.perf_counter()
    history = fit(
        network,
        X_train,
        y_train,
        loss="cross_entropy",
        optimizer=optimizer,
        epochs=args.epochs,
        batch_size=args.batch_size,
        scheduler=schedule,
        seed=args.seed,
        progress=not args.no_progress,
        compile=compiled,
        validation_data=(X_test, y_test),
    )
    seconds = time.perf_counter() - start
    engine = "micrograd.compile" if compiled else "the eager scalar engine"
    print(f"trained {epochs_text(args.epochs)} in {seconds_text(seconds)} s with {engine}")
    predicted = np.argmax(_outputs(network, X_test, compiled), axis=1)
    test_accuracy = float(np.mean(predicted == y_test))
    print(f"final training loss {history['loss'][-1]:.4f}, test loss {history['val_loss'][-1]:.4f}")
    print(f"test accuracy {100 * test_accuracy:.1f}%")
    reference = zero_output_loss("cross_entropy", 10)
    warn_if_diverged(history["loss"], reference, lr, args.optimizer, LEARNING_RATES[args.optimizer])
    _write_plots(args, network, history, X_test, y_test, predicted)
    return network


def _write_plots(args, network, history, X_test, y_test, predicted) -> None:
    """Each plot_* figure into its file in args.out, and a line saying what it shows."""
    folder: Path = args.out
    files = dict(zip(OUTPUT_NAMES, [folder / name for name in OUTPUT_NAMES]))
    accuracy = float(np.mean(predicted == y_test))
    figures = {
        "confusion_matrix.png": plot_confusion(y_test, predicted),
        "filters.png": plot_filters(network),
        "feature_maps.png": plot_feature_maps(network, X_test[0], int(y_test[0])),
        "misclassified.png": plot_misclassified(X_test, y_test, predicted),
        "curves.png": plot_curves(history),
    }
    import matplotlib.pyplot as plt

    for name, figure in figures.items():
        replace_with(str(files[name]), partial(figure.savefig, dpi=110), "savefig")
        plt.close(figure)
    described = {
        "confusion_matrix.png": f"true against predicted digit on the test set ({accuracy:.1%})",
        "filters.png": "the first layer's learned filters",
        "feature_maps.png": "what each layer makes of one test digit",
        "misclassified.png": "test digits the network got wrong, predicted and true",
        "curves.png": "loss and accuracy per epoch, training and test",
    }
    print("wrote:")
    width = max(len(str(path)) for path in files.values())
    for name, path in files.items():
        print(f"  {str(path):{width}}  {described[name]}")
