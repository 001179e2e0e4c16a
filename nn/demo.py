"""The demo behind `micrograd demo`: train an MLP on a toy data set, plot what it learned (its
scores over the plane, scored through micrograd.compile, and its loss), and draw karpathy's
lecture neuron with its gradients, with the backward pass as a step-through page."""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import micrograd
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
L2_TEXT = "1e-4"  # the weight penalty: L2 * sum(w**2) joins every batch's loss
L2 = float(L2_TEXT)
CLASS_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c")  # tab10's blue, orange, green: saturated
GRID_SIZE = 300  # points per side of the grid the boundary plot scores: 90,000 in all
SCORE_LIMIT = 3.0  # the two-class colour map saturates at scores of +-3 (the margin is at +-1)
BACKGROUND_STRENGTH = 0.55  # the most a region's colour mixes its class colour into white
LOSS_FLOOR = 1e-6  # where a loss of exactly 0 is drawn on the log scale (log 0 is -inf)
LECTURE_NEURON = "karpathy's lecture neuron o = tanh(x1*w1 + x2*w2 + b)"
GRAD_MEANING = "each grad is d o / d (that node)"
NEURON_CAPTION = (  # Graphviz's \\n: a centred line break
    f"{LECTURE_NEURON}, after o.backward()\\n{GRAD_MEANING}\\nthe number on an edge is what "
    "the chain rule sends back along it: the grad of the op's output times its local derivative"
)


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


@dataclass
class Surface:
    """The model's outputs over a grid: scores[i, j] is its output at (xs[j], ys[i]), the
    layout matplotlib's contour and imshow take; shape (n, n) for one output, (n, n, k) for k."""

    xs: np.ndarray
    ys: np.ndarray
    scores: np.ndarray

    def probabilities(self) -> np.ndarray:
        """softmax(scores) at every grid point: P(class c) = exp(s_c) / sum_k exp(s_k)."""
        if self.scores.ndim != 3:
            raise ValueError("Surface.probabilities: needs k scores per point, got one")
        shifted = np.exp(self.scores - self.scores.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)


def decision_surface(model: MLP, X: np.ndarray, size: int = GRID_SIZE, pad: float = 0.5) -> Surface:
    """The model's scores on a size x size grid over X's range plus pad on every side, run
    through micrograd.compile: one trace, then numpy over all size**2 points at once."""
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, size)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, size)
    grid_x, grid_y = np.meshgrid(xs, ys)
    points = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    scores = micrograd.compile(lambda point: model(point)).forward(points)
    return Surface(xs, ys, scores.reshape(size, size, *scores.shape[1:]))


def _pale(color: str, strength) -> np.ndarray:
    """color mixed into white: strength 0 is white, 1 the colour itself (RGB, broadcasting)."""
    from matplotlib.colors import to_rgb

    strength = np.asarray(strength)[..., None]
    return 1 - strength * (1 - np.array(to_rgb(color)))


def _class_names(n_classes: int) -> list[str]:
    if n_classes == 2:  # the hinge loss trains on targets -1/+1: say which is which
        return ["class 0 (target -1)", "class 1 (target +1)"]
    return [f"class {k}" for k in range(n_classes)]


def _plot_boundary(model, X, y, n_classes: int, title: str, path: Path) -> None:
    """The data over the model's score (two classes) or class probabilities (more), with the
    decision boundary drawn as a line, a legend naming the classes and a key to the colours."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    surface = decision_surface(model, X)
    extent = (surface.xs[0], surface.xs[-1], surface.ys[0], surface.ys[-1])
    fig, (ax, key) = plt.subplots(
        1,
        2,
        figsize=(6.8, 5.6),
        width_ratios=[20, 1.4 if n_classes == 2 else 2.4],
        layout="constrained",
    )
    lines = [Line2D([], [], color="k", lw=1.6, label="decision boundary")]
    if n_classes == 2:
        _draw_scores(fig, ax, key, surface, extent)
        lines[0].set_label("decision boundary (s = 0)")
        lines.append(Line2D([], [], color="k", lw=0.8, ls="--", label="margin (s = -1, +1)"))
    else:
        _draw_probabilities(ax, key, surface, extent, n_classes)
        lines[0].set_label("decision boundary (the likeliest class changes)")
    for k, name in enumerate(_class_names(n_classes)):
        points = X[y == k]
        ax.scatter(
            points[:, 0], points[:, 1], s=28, color=CLASS_COLORS[k], edgecolors="#111827",
            linewidths=0.7, label=name,
        )  # fmt: skip
    handles = ax.get_legend_handles_labels()[0] + lines
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8.5, frameon=False)
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_title(title)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _draw_scores(fig, ax, key, surface: Surface, extent) -> None:
    """One score s: blue (class 0) below 0, orange (class 1) above, pale near the boundary."""
    from matplotlib.colors import ListedColormap

    ramp = np.linspace(-1, 1, 256)
    colors = np.where(
        (ramp < 0)[:, None],
        _pale(CLASS_COLORS[0], BACKGROUND_STRENGTH * -ramp),
        _pale(CLASS_COLORS[1], BACKGROUND_STRENGTH * ramp),
    )
    image = ax.imshow(
        surface.scores, origin="lower", extent=extent, aspect="auto", cmap=ListedColormap(colors),
        vmin=-SCORE_LIMIT, vmax=SCORE_LIMIT, interpolation="bilinear",
    )  # fmt: skip
    ax.contour(surface.xs, surface.ys, surface.scores, levels=[0], colors="k", linewidths=1.6)
    ax.contour(
        surface.xs, surface.ys, surface.scores, levels=[-1, 1], colors="k", linewidths=0.8,
        linestyles="--",
    )  # fmt: skip
    colorbar = fig.colorbar(image, cax=key, extend="both")
    colorbar.set_label(f"the network's score s (s > 0: class 1; clipped at ±{SCORE_LIMIT:g})")


def _draw_probabilities(ax, key, surface: Surface, extent, n_classes: int) -> None:
    """k scores: each point coloured by its likeliest class, paler where that class is less
    probable; the key shows colour against probability for every class."""
    probabilities = surface.probabilities()
    likeliest, top = probabilities.argmax(axis=-1), probabilities.max(axis=-1)
    sureness = (top - 1 / n_classes) / (1 - 1 / n_classes)  # 0 at a tie of all, 1 when certain
    rgb = np.zeros((*top.shape, 3))
    for k in range(n_classes):
        mask = likeliest == k
        rgb[mask] = _pale(CLASS_COLORS[k], BACKGROUND_STRENGTH * sureness[mask])
    ax.imshow(rgb, origin="lower", extent=extent, aspect="auto", interpolation="bilinear")
    for k in range(n_classes):  # where class k ties with the likeliest other: its region's edge
        others = np.delete(probabilities, k, axis=-1).max(axis=-1)
        ax.contour(
            surface.xs, surface.ys, probabilities[..., k] - others, levels=[0], colors="k",
            linewidths=1.6,
        )  # fmt: skip
    levels = np.linspace(1 / n_classes, 1, 128)
    strength = BACKGROUND_STRENGTH * (levels - 1 / n_classes) / (1 - 1 / n_classes)
    columns = np.stack([_pale(CLASS_COLORS[k], strength) for k in range(n_classes)], axis=1)
    key.imshow(columns, origin="lower", aspect="auto", extent=(-0.5, n_classes - 0.5, levels[0], 1))
    key.set_xticks(range(n_classes), [str(k) for k in range(n_classes)])
    key.set_xlabel("class")
    key.yaxis.tick_right()
    key.yaxis.set_label_position("right")
    key.set_ylabel("probability of the likeliest class (softmax)")


def _plot_history(history: dict[str, list[float]], path: Path, loss_name: str) -> None:
    """Loss on a log scale (a loss of 0 drawn at LOSS_FLOOR) and accuracy, epoch by epoch."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogFormatter

    losses = np.array(history["loss"], dtype=float)
    epochs = np.arange(1, len(losses) + 1)
    zero = losses == 0
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9.5, 3.8), layout="constrained")
    loss_ax.plot(epochs, np.where(zero, LOSS_FLOOR, losses), color="tab:red")
    loss_ax.set_yscale("log")
    # within a decade or two, label the 2, 3, ... 9 ticks too, or the axis shows one number
    loss_ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 1)))
    loss_ax.set_xlabel("epoch")
    floor_note = f"; 0 drawn at {LOSS_FLOOR:g}" if zero.any() else ""
    loss_ax.set_ylabel(f"loss (log scale{floor_note})")
    loss_ax.set_title(f"training loss: {loss_name}", fontsize=10)
    acc_ax.plot(epochs, [100 * a for a in history["accuracy"]], color="tab:blue")
    acc_ax.set_xlabel("epoch")
    acc_ax.set_ylabel("accuracy on the training points (%)")
    acc_ax.set_ylim(0, 105)
    acc_ax.set_title("training accuracy", fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def lecture_neuron() -> tuple[Value, list[Value]]:
    """karpathy's lecture neuron o = tanh(x1*w1 + x2*w2 + b), labelled as in the lecture and
    backpropagated: (o, its parameters [w1, w2, b]). b is chosen so that n = 0.8814 and
    o = 0.7071, where d o / d n = 1 - o**2 = 0.5: every gradient but o's differs from 1."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, [w1, w2, b]


def neuron_drawing(out: Value, params):
    """out's graph as a graphviz Digraph with every gradient, a key to the boxes, and a caption
    saying what the numbers mean."""
    from micrograd import draw

    drawing = draw.draw_dot(out, params=params, edge_grads=True, legend=True)
    drawing.attr(label=NEURON_CAPTION, labelloc="t", fontsize="12")
    return drawing


def _write_drawings(out: Value, params, folder: Path) -> list[tuple[Path, str]]:
    """The neuron as SVG, captioned with what its grads mean, and its backward pass as an HTML
    page. Without Graphviz's `dot`: the DOT source instead of the SVG, and a page whose steps
    are tables of the nodes."""
    from micrograd import draw

    drawing = neuron_drawing(out, params)
    html_path = folder / "backward.html"
    try:
        svg = drawing.pipe(format="svg", encoding="utf-8")
    except draw.DotNotFoundError as error:
        print(f"note: {error}", file=sys.stderr)
        dot_path = folder / "neuron.dot"
        dot_path.write_text(drawing.source, encoding="utf-8")
        draw.save_backward_html(out, html_path, params=params)
        return [
            (dot_path, f"{LECTURE_NEURON} as Graphviz source (no `dot` to render it); "
                       f"{GRAD_MEANING}"),
            (html_path, "o.backward() through that neuron, step by step, each step a table "
                        "of its nodes (no `dot` to draw them)"),
        ]  # fmt: skip
    svg_path = folder / "neuron.svg"
    svg_path.write_text(svg, encoding="utf-8")
    draw.save_backward_html(out, html_path, params=params)
    return [
        (svg_path, f"{LECTURE_NEURON}; {GRAD_MEANING}"),
        (html_path, "o.backward() through that neuron, step by step (open in a browser)"),
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
        l2=L2,
        scheduler=schedule,
        seed=args.seed,
        progress=not args.no_progress,
        compile=compiled,
    )
    seconds = time.perf_counter() - start
    final_accuracy = float(np.mean(_predict(model, X, n_classes) == y))
    engine = "micrograd.compile" if compiled else "the eager scalar engine"
    took = f"{seconds:.1f}" if seconds >= 1 else f"{seconds:.2f}"  # not "0.0 s"
    print(f"trained {args.epochs} epochs in {took} s with {engine}")
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
        (folder / "decision_boundary.png", "the network's scores over the plane, its boundary"),
        (folder / "loss_curve.png", "loss (log scale) and accuracy, epoch by epoch"),
    ]
    _plot_boundary(model, X, y, n_classes, title, files[0][0])
    _plot_history(history, files[1][0], f"{loss.replace('_', '-')} + {L2_TEXT} * sum(w**2)")
    files += _write_drawings(*lecture_neuron(), folder)
    print("wrote:")
    width = max(len(str(path)) for path, _ in files)
    for path, what in files:
        print(f"  {str(path):{width}}  {what}")
