"""The demo behind `micrograd demo`: train an MLP on a toy data set, then plot what it learned
and draw one of its neurons, with the backward pass as a step-through page."""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

from micrograd import Value, no_grad

from . import data, optim
from .activations import ACTIVATIONS as MODULE_ACTIVATIONS
from .dense import MLP
from .train import fit

BLOB_CENTERS = [[-1.5, -1.0], [1.5, -1.0], [0.0, 1.5]]
DATASETS = {  # name: (make(n_samples, seed) -> (X, y), number of classes)
    "moons": (lambda n, seed: data.make_moons(n, noise=0.1, seed=seed), 2),
    "circles": (lambda n, seed: data.make_circles(n, noise=0.08, factor=0.5, seed=seed), 2),
    "xor": (lambda n, seed: data.make_xor(n, noise=0.15, seed=seed, shuffle=True), 2),
    "spirals": (lambda n, seed: data.make_spirals(n, n_classes=3, noise=0.1, seed=seed), 3),
    "blobs": (
        lambda n, seed: data.make_blobs(n, centers=BLOB_CENTERS, cluster_std=0.5, seed=seed),
        3,
    ),
}
OPTIMIZERS = {  # name: (make(params, lr) -> optimizer, default learning rate)
    "sgd": (lambda params, lr: optim.SGD(params, lr=lr), 1.0),
    "momentum": (lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9), 0.1),
    "adam": (lambda params, lr: optim.Adam(params, lr=lr), 0.05),
    "adamw": (lambda params, lr: optim.AdamW(params, lr=lr), 0.05),
    "rmsprop": (lambda params, lr: optim.RMSprop(params, lr=lr), 0.01),
    "adagrad": (lambda params, lr: optim.Adagrad(params, lr=lr), 0.3),
}
# The hidden layers' choices: nn's activations, but for "linear" (the network would be linear)
ACTIVATIONS = tuple(name for name in MODULE_ACTIVATIONS if name != "linear")
# every file the demo may write into its folder (neuron.dot only when Graphviz's dot is missing)
OUTPUT_NAMES = (
    "decision_boundary.png",
    "loss_curve.png",
    "neuron.svg",
    "backward.html",
    "neuron.dot",
)
# The default demo on every data set, optimizer and activation ends below its first epoch's loss
# (at most 0.98 times it) and never rises above 4.7 times it on the way; runs whose learning rate
# is too large end at 15 to 1e46 times it, or at nan.
DIVERGENCE_FACTOR = 10.0


def diverged(losses: list[float]) -> bool:
    """True when the last epoch's loss is not finite or above DIVERGENCE_FACTOR * the first's."""
    return not math.isfinite(losses[-1]) or losses[-1] > DIVERGENCE_FACTOR * losses[0]


def _predict(model: MLP, X: np.ndarray, n_classes: int) -> np.ndarray:
    """The predicted class of every row of X."""
    with no_grad():  # inference only: no graph to record
        outputs = [model([float(v) for v in row]) for row in X]
    if n_classes == 2:
        return np.array([int(out.data > 0) for out in outputs])
    return np.array([int(np.argmax([v.data for v in out])) for out in outputs])


def _plot_boundary(model, X, y, n_classes: int, title: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    pad = 0.5
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, 60)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, 60)
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    regions = _predict(model, grid, n_classes).reshape(grid_x.shape)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    levels = np.arange(n_classes + 1) - 0.5
    ax.contourf(grid_x, grid_y, regions, levels=levels, cmap="coolwarm", alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=25, edgecolors="k", linewidths=0.5)
    ax.set_title(title)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_history(history: dict[str, list[float]], path: Path) -> None:
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9, 3.5))
    loss_ax.plot(epochs, history["loss"], color="tab:red")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("loss")
    loss_ax.set_title("training loss")
    acc_ax.plot(epochs, [100 * a for a in history["accuracy"]], color="tab:blue")
    acc_ax.set_xlabel("epoch")
    acc_ax.set_ylabel("accuracy (%)")
    acc_ax.set_ylim(0, 105)
    acc_ax.set_title("training accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _one_neuron(model: MLP, X: np.ndarray) -> tuple[Value, object]:
    """The first hidden neuron applied to one data point, labelled and backpropagated; the
    point is one the neuron is active on, so that gradients flow through the drawing."""
    neuron = model.layers[0].neurons[0]
    for i, weight in enumerate(neuron.w):
        weight.label = f"w{i + 1}"
    neuron.b.label = "b"
    with no_grad():
        active = [row for row in X if neuron([float(v) for v in row]).data > 0]
    point = active[0] if active else X[0]
    inputs = [Value(float(v), label=f"x{i + 1}") for i, v in enumerate(point)]
    out = neuron(inputs)
    out.label = "out"
    neuron.zero_grad()
    out.backward()
    return out, neuron


def _write_drawings(out: Value, neuron, folder: Path) -> list[tuple[Path, str]]:
    """The neuron as SVG and its backward pass as an HTML page; DOT source if `dot` is missing."""
    from micrograd import draw

    svg_path, html_path = folder / "neuron.svg", folder / "backward.html"
    try:
        draw.save_svg(out, svg_path, params=neuron, edge_grads=True, legend=True)
        draw.save_backward_html(out, html_path, params=neuron)
    except draw.DotNotFoundError as error:
        dot_path = folder / "neuron.dot"
        dot_path.write_text(draw.draw_dot(out, params=neuron, edge_grads=True).source)
        print(f"note: {error}", file=sys.stderr)
        return [(dot_path, "the graph of one neuron as Graphviz source (no `dot` to render it)")]
    return [
        (svg_path, "the graph of one trained neuron, with its gradients"),
        (html_path, "backpropagation through that neuron, step by step (open in a browser)"),
    ]


def demo(args: argparse.Namespace) -> None:
    """Train, report (with a warning on stderr when the run diverged, see diverged), and write the
    plots and drawings into args.out."""
    make, n_classes = DATASETS[args.dataset]
    X, y = make(args.samples, args.seed)
    make_optimizer, default_lr = OPTIMIZERS[args.optimizer]
    lr = args.lr if args.lr is not None else default_lr
    outputs = 1 if n_classes == 2 else n_classes
    model = MLP(
        2, [*args.layers, outputs], activation=args.activation, rng=random.Random(args.seed)
    )
    optimizer = make_optimizer(model.parameters(), lr)
    schedule = optim.LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=args.epochs)
    # two classes: one score per point and the hinge loss on labels -1/+1, as karpathy's demo
    loss, targets = ("hinge", y * 2 - 1) if n_classes == 2 else ("cross_entropy", y)
    compiled = not args.eager
    sizes = " -> ".join(str(n) for n in [2, *args.layers, outputs])
    print(
        f"training MLP({sizes}, {args.activation}) on {args.dataset} ({len(X)} points), "
        f"{model.num_parameters()} parameters, {args.optimizer} lr {lr:g} decaying to {lr / 10:g}"
    )
    start = time.perf_counter()
    history = fit(
        model,
        X,
        targets,
        loss=loss,
        optimizer=optimizer,
        epochs=args.epochs,
        batch_size=args.batch_size,
        l2=1e-4,
        scheduler=schedule,
        seed=args.seed,
        progress=not args.no_progress,
        compile=compiled,
    )
    seconds = time.perf_counter() - start
    final_accuracy = float(np.mean(_predict(model, X, n_classes) == y))
    engine = "micrograd.compile" if compiled else "the eager scalar engine"
    print(f"trained {args.epochs} epochs in {seconds:.1f} s with {engine}")
    final_loss = history["loss"][-1]
    shown = f"{final_loss:.4f}" if abs(final_loss) < 1e4 else f"{final_loss:.4g}"  # not 47 digits
    print(f"final loss {shown}, accuracy {final_accuracy:.1%}")
    if diverged(history["loss"]):
        print(
            f"warning: training diverged: the loss went from {history['loss'][0]:.4g} in the "
            f"first epoch to {final_loss:.4g} in the last; try a smaller learning rate: "
            f"--lr below {lr:g} ({args.optimizer}'s default is {default_lr:g})",
            file=sys.stderr,
        )

    folder = args.out
    folder.mkdir(parents=True, exist_ok=True)
    title = f"{args.dataset}: accuracy {final_accuracy:.0%} after {args.epochs} epochs"
    files = [  # named in OUTPUT_NAMES, which the command checks before training
        (folder / "decision_boundary.png", "the learned decision boundary over the data"),
        (folder / "loss_curve.png", "loss and accuracy, epoch by epoch"),
    ]
    _plot_boundary(model, X, y, n_classes, title, files[0][0])
    _plot_history(history, files[1][0])
    files += _write_drawings(*_one_neuron(model, X), folder)
    print("wrote:")
    width = max(len(str(path)) for path, _ in files)
    for path, what in files:
        print(f"  {str(path):{width}}  {what}")
