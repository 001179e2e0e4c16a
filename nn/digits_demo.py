"""`micrograd demo --dataset digits`: a CNN (or an MLP) learns scikit-learn's 8x8 handwritten
digits through micrograd.compile, then the demo scores it on held-out digits and plots what it
learned: the confusion matrix, the filters, the feature maps of one digit, the digits it got
wrong, and the loss and accuracy curves.

Each ``plot_*`` function returns a matplotlib figure (notebook 08 shows them inline); the demo
saves them as PNGs."""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np

from micrograd import no_grad

from . import data, optim
from .activations import MODULES as ACTIVATION_MODULES
from .conv import Conv2d, Flatten, MaxPool2d
from .demo import OPTIMIZERS
from .dense import MLP, Layer, Sequential
from .train import fit

IMAGE_SIZE = 8  # the digits are 8x8; each convolution block halves the size
MAX_BLOCKS = 3  # 8 -> 4 -> 2 -> 1
TEST_SHARE = 0.2
MIN_SAMPLES = 20  # two of each digit, so that both sides of the split can hold every digit
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
        f"{network.num_parameters()} parameters, {args.optimizer} lr {lr:g} decaying to "
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
    print(f"trained {args.epochs} epochs in {seconds:.1f} s with {engine}")
    predicted = np.argmax(_outputs(network, X_test, compiled), axis=1)
    test_accuracy = float(np.mean(predicted == y_test))
    print(f"final training loss {history['loss'][-1]:.4f}, test loss {history['val_loss'][-1]:.4f}")
    print(f"test accuracy {100 * test_accuracy:.1f}%")
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
        figure.savefig(files[name], dpi=110)
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


def plot_confusion(y_true: np.ndarray, predicted: np.ndarray):
    import matplotlib.pyplot as plt

    counts = np.zeros((10, 10), dtype=int)
    np.add.at(counts, (y_true, predicted), 1)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.imshow(counts, cmap="Blues")
    for (row, column), count in np.ndenumerate(counts):
        if count:
            dark = count > counts.max() / 2
            ax.text(
                column,
                row,
                count,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if dark else "black",
            )
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    correct = np.trace(counts)
    ax.set_title(f"test set: {correct} of {counts.sum()} right ({correct / counts.sum():.1%})")
    fig.tight_layout()
    return fig


def _first_weights(network) -> tuple[list[np.ndarray], str]:
    """The first layer's filters as images: a convolution's kernels, or a dense layer's
    weights over the 64 pixels, each as the 8x8 image it responds to most."""
    first = network.layers[0]
    if isinstance(first, Conv2d):
        kernels = [
            np.array([[[w.data for w in row] for row in channel] for channel in kernel])[0]
            for kernel in first.weight
        ]
        return kernels, f"the {len(kernels)} 3x3 filters of the first convolution"
    weights = [np.array([w.data for w in neuron.w]) for neuron in first.neurons]
    images = [w.reshape(IMAGE_SIZE, IMAGE_SIZE) for w in weights]
    return images, f"the weights of the {len(images)} neurons of the first layer, as 8x8 images"


def _grid(count: int, columns: int) -> tuple[int, int]:
    columns = min(count, columns)
    return -(-count // columns), columns


def plot_filters(network):
    import matplotlib.pyplot as plt

    filters, title = _first_weights(network)
    rows, columns = _grid(len(filters), 8 if len(filters) <= 16 else 10)
    fig, axes = plt.subplots(
        rows, columns, figsize=(1.1 * columns, 1.1 * rows + 0.7), squeeze=False
    )
    scale = max(float(np.abs(f).max()) for f in filters) or 1.0
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < len(filters):
            ax.imshow(filters[k], cmap="RdBu_r", vmin=-scale, vmax=scale)
            ax.set_title(str(k), fontsize=7)
    fig.suptitle(f"{title}\n(red: positive weight, blue: negative, one scale for all)", fontsize=9)
    fig.tight_layout()
    return fig


def _stages(network, sample: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(name, maps) after each activation and pool of a CNN: maps of shape (channels, h, w);
    for an MLP, each hidden layer's outputs as one row of units."""
    stages = [("input", np.asarray(sample, dtype=np.float64).reshape(1, IMAGE_SIZE, IMAGE_SIZE))]
    x = sample.tolist()
    with no_grad():
        for k, module in enumerate(network.layers[:-1]):
            x = module(x)
            name = type(module).__name__
            if isinstance(module, Layer):  # an MLP's hidden layer: one value per unit
                units = np.array([v.data for v in x])
                stages.append((f"hidden layer {k + 1} ({len(units)} units)", units[None, None]))
            elif not isinstance(module, (Conv2d, Flatten)):  # after the activation, the pool
                maps = np.array([[[v.data for v in row] for row in plane] for plane in x])
                stages.append((f"{name} ({maps.shape[0]}x{maps.shape[1]}x{maps.shape[2]})", maps))
    return stages


def plot_feature_maps(network, sample: np.ndarray, label: int):
    """The digit, then every stage's maps in a row, one colour scale per row (dark: 0)."""
    import matplotlib.pyplot as plt

    stages = _stages(network, sample)
    shown = 16  # maps per row
    fig, axes = plt.subplots(
        len(stages), shown, figsize=(0.72 * shown, 1.0 * len(stages) + 0.5), squeeze=False
    )
    for (name, maps), row in zip(stages, axes):
        for ax in row:
            ax.set_axis_off()
        top = float(maps.max()) or 1.0
        if maps.shape[1] == 1:  # a row of units: one strip across the figure
            strip = row[0].inset_axes([0, 0.2, shown + 0.6, 0.45], transform=row[0].transAxes)
            strip.imshow(maps[0], cmap="viridis", aspect="auto", vmin=0, vmax=top)
            strip.set_yticks([])
            strip.tick_params(labelsize=6)
        elif name == "input":
            row[0].imshow(maps[0], cmap="gray_r", vmin=0, vmax=1)
        else:
            for ax, plane in zip(row, maps[:shown]):
                ax.imshow(plane, cmap="viridis", vmin=min(0.0, float(maps.min())), vmax=top)
        more = f", the first {shown} of {len(maps)}" if len(maps) > shown else ""
        row[0].set_title(f"{name}{more}", fontsize=8, loc="left")
    each = "map is one filter's" if isinstance(network.layers[0], Conv2d) else "cell is one unit's"
    fig.suptitle(
        f"one test digit (a {label}) through the network: each {each} output "
        "(bright: large, dark: 0)",
        fontsize=10,
    )
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.9, wspace=0.12, hspace=0.45)
    return fig


def plot_misclassified(X: np.ndarray, y_true: np.ndarray, predicted: np.ndarray):
    import matplotlib.pyplot as plt

    images = np.asarray(X).reshape(len(X), IMAGE_SIZE, IMAGE_SIZE)
    wrong = np.flatnonzero(predicted != y_true)
    shown = wrong[:30]
    rows, columns = _grid(max(len(shown), 1), 10)
    fig, axes = plt.subplots(
        rows, columns, figsize=(1.2 * columns, 1.45 * rows + 0.5), squeeze=False
    )
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, k in zip(axes.flat, shown):
        ax.imshow(images[k], cmap="gray_r")
        ax.set_title(f"said {predicted[k]}\nwas {y_true[k]}", fontsize=8, color="tab:red")
    if len(wrong) == 0:
        axes.flat[0].text(0.5, 0.5, "no test digit misclassified", ha="center", va="center")
    more = f" (the first {len(shown)})" if len(wrong) > len(shown) else ""
    fig.suptitle(f"{len(wrong)} of {len(y_true)} test digits misclassified{more}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_curves(history: dict[str, list[float]]):
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (loss_ax, accuracy_ax) = plt.subplots(1, 2, figsize=(9, 3.6))
    loss_ax.plot(epochs, history["loss"], color="tab:red", label="training (during the epoch)")
    loss_ax.plot(epochs, history["val_loss"], color="tab:blue", label="test (after it)")
    loss_ax.set_yscale("log")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("cross-entropy loss (log scale)")
    loss_ax.set_title("loss")
    loss_ax.legend(fontsize=8)
    for key, color, label in (
        ("accuracy", "tab:red", "training"),
        ("val_accuracy", "tab:blue", "test"),
    ):
        accuracy_ax.plot(epochs, [100 * a for a in history[key]], color=color, label=label)
    accuracy_ax.set_xlabel("epoch")
    accuracy_ax.set_ylabel("accuracy (%)")
    lowest = 100 * min(history["accuracy"] + history["val_accuracy"])
    accuracy_ax.set_ylim(max(0.0, lowest - 5), 101)
    accuracy_ax.set_title("accuracy")
    accuracy_ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
