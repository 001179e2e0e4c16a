"""The `micrograd` console command. `micrograd demo` trains a small network on a toy data set
and writes pictures of what it learned: the decision boundary, the loss curve, the graph of
one neuron, and a web page that steps through backpropagation."""

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
from .module import MLP
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
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu")
COMPILABLE_LOSSES = ("hinge", "mse")  # losses nn.fit(compile=True) can trace


# -- command line -------------------------------------------------------------------------


def _layer_sizes(text: str) -> list[int]:
    """'16,16' -> [16, 16]"""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes such as 16,16, got {text!r}"
        ) from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be at least 1, got {text!r}")
    return sizes


def _at_least(kind: type, minimum: float):
    """An argparse type: a number of this kind, at least minimum (above 0 when minimum is 0)."""
    what = "an integer" if kind is int else "a number"

    def parse(text: str):
        try:
            number = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(number):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if not (number >= minimum if minimum else number > 0):
            bound = f"at least {minimum}" if minimum else "greater than 0"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text!r}")
        return number

    parse.__name__ = kind.__name__
    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="micrograd", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="train a small network on a toy data set and draw what it learned",
        description=(
            "Train an MLP on a toy data set, print the final loss and accuracy, and write\n"
            "into the output folder: the decision boundary and the loss curve (PNG), the\n"
            "graph of one trained neuron (SVG) and a page stepping through its backward\n"
            "pass (HTML).\n\n"
            "Two-class data sets use the hinge loss, three-class ones cross-entropy, both\n"
            "plus 1e-4 * sum(w**2); the learning rate decays linearly to a tenth of its start."
        ),
        epilog="examples:\n  micrograd demo\n  micrograd demo --dataset spirals --layers 32,32 "
        "--optimizer adam --epochs 200\n  micrograd demo --activation tanh --out pictures",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--dataset", choices=sorted(DATASETS), default="moons", help="toy data set (default: moons)"
    )
    demo.add_argument(
        "--samples",
        type=_at_least(int, 4),
        default=100,
        help="number of points in the data set (default: 100)",
    )
    demo.add_argument(
        "--layers",
        type=_layer_sizes,
        default=[16, 16],
        metavar="SIZES",
        help="hidden layer sizes, comma-separated (default: 16,16); the output layer is added "
        "to fit the data",
    )
    demo.add_argument(
        "--activation",
        choices=ACTIVATIONS,
        default="relu",
        help="activation of the hidden layers (default: relu)",
    )
    demo.add_argument(
        "--optimizer", choices=sorted(OPTIMIZERS), default="sgd", help="optimizer (default: sgd)"
    )
    demo.add_argument(
        "--lr",
        type=_at_least(float, 0),
        default=None,
        help="initial learning rate (default: sgd 1.0, momentum 0.1, adam/adamw 0.05, "
        "rmsprop 0.01, adagrad 0.3)",
    )
    demo.add_argument(
        "--epochs", type=_at_least(int, 1), default=100, help="passes over the data (default: 100)"
    )
    demo.add_argument(
        "--batch-size",
        type=_at_least(int, 1),
        default=None,
        help="points per gradient step (default: the whole data set)",
    )
    demo.add_argument(
        "--seed", type=int, default=1337, help="seed for the data and the weights (default: 1337)"
    )
    demo.add_argument(
        "--out", type=Path, default=Path("out"), help="folder for the output files (default: out)"
    )
    demo.add_argument(
        "--eager",
        action="store_true",
        help="train with the scalar engine, one graph per sample, instead of replaying a "
        "micrograd.compile trace over the batch (slower, same numbers)",
    )
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


# -- the demo -------------------------------------------------------------------------------


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
    """Train, report, and write the plots and drawings into args.out."""
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
    # cross_entropy picks its max logit in Python, which a trace cannot replay: it runs eagerly
    compiled = not args.eager and loss in COMPILABLE_LOSSES
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
    print(f"final loss {history['loss'][-1]:.4f}, accuracy {final_accuracy:.1%}")

    folder = args.out
    folder.mkdir(parents=True, exist_ok=True)
    title = f"{args.dataset}: accuracy {final_accuracy:.0%} after {args.epochs} epochs"
    files = [
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `micrograd` command; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"argument --out: {str(args.out)!r} is a file, not a folder")
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, works without a display
    if args.command == "demo":
        demo(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
