"""The digits demo's plots, each returned as a matplotlib figure: the confusion matrix, the
first layer's filters, what each layer makes of one digit, the digits the network got wrong,
and the loss and accuracy curves of training and test."""

from __future__ import annotations

import numpy as np

from micrograd import no_grad

from .conv import Conv2d, Flatten
from .demo_plots import draw_curve, label_log_ticks, say_nothing_drawn
from .dense import Layer

IMAGE_SIZE = 8  # the digits are 8x8; each convolution block halves the size


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
                x = x if isinstance(x, list) else [x]  # a layer of one unit gives one Value
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
    drawn = [
        draw_curve(loss_ax, epochs, history[key], color=color, label=label)
        for key, color, label in (
            ("loss", "tab:red", "training (during the epoch)"),
            ("val_loss", "tab:blue", "test (after it)"),
        )
    ]
    if any(drawn):
        loss_ax.set_yscale("log")
        label_log_ticks(loss_ax)
    else:
        say_nothing_drawn(loss_ax)
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("cross-entropy loss (log scale)")
    loss_ax.set_title("loss")
    loss_ax.legend(fontsize=8)
    for key, color, label in (
        ("accuracy", "tab:red", "training"),
        ("val_accuracy", "tab:blue", "test"),
    ):
        draw_curve(accuracy_ax, epochs, [100 * a for a in history[key]], color=color, label=label)
    accuracy_ax.set_xlabel("epoch")
    accuracy_ax.set_ylabel("accuracy (%)")
    lowest = 100 * min(history["accuracy"] + history["val_accuracy"])
    accuracy_ax.set_ylim(max(0.0, lowest - 5), 101)
    accuracy_ax.set_title("accuracy")
    accuracy_ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
