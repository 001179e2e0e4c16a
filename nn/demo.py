"""The demo behind `micrograd demo`: train an MLP on a toy data set, plot what it learned (its
scores over the plane, scored through micrograd.compile, and its loss; the plots are in
demo_plots.py), and draw karpathy's lecture neuron with its gradients, with the backward pass
as a step-through page."""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

import micrograd
from micrograd import Value, no_grad
from micrograd.files import write_atomically
from micrograd.viz.render import DOT_INSTALL

from . import data, optim
from .activations import ACTIVATIONS as MODULE_ACTIVATIONS
from .demo_plots import plot_boundary, plot_history
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
LECTURE_NEURON = "karpathy's lecture neuron o = tanh(x1*w1 + x2*w2 + b)"
GRAD_MEANING = "each grad is d o / d (that node)"
NEURON_CAPTION = (  # Graphviz's \\n: a centred line break
    f"{LECTURE_NEURON}, after o.backward()\\n{GRAD_MEANING}\\nthe number on an edge is what "
    "the chain rule sends back along it: the grad of the op's output times its local derivative"
)


def zero_output_loss(loss: str, n_classes: int) -> float:
    """The loss of a network that outputs 0 everywhere: 1 for the hinge loss (every margin
    missed by 1), ln(n_classes) for cross-entropy (every class as likely)."""
    return 1.0 if loss == "hinge" else math.log(n_classes)


def diverged(losses: list[float], reference: float = math.inf) -> bool:
    """True when the last epoch's loss is not finite or above DIVERGENCE_FACTOR times the
    first epoch's or the reference (zero_output_loss), whichever is smaller: a first epoch
    of small batches may already have blown up, and its mean with it."""
    start = min(losses[0], reference)
    return not math.isfinite(losses[-1]) or losses[-1] > DIVERGENCE_FACTOR * start


def warn_if_diverged(
    losses: list[float], reference: float, lr: float, optimizer: str, default_lr: float
) -> None:
    """A warning on stderr, naming the learning rate to lower, if the run diverged."""
    if diverged(losses, reference):
        print(
            f"warning: training diverged: the last epoch's loss, {losses[-1]:.4g}, is more "
            f"than {DIVERGENCE_FACTOR:g} times the first epoch's ({losses[0]:.4g}) or that of "
            f"outputs of 0 everywhere ({reference:.4g}); try a smaller learning rate: --lr "
            f"below {lr:g} ({optimizer}'s default is {default_lr:g})",
            file=sys.stderr,
        )


def parameter_count(dataset: str, layers: list[int]) -> int:
    """The demo's MLP's num_parameters() on dataset, without building it."""
    n_classes = DATASETS[dataset][1]
    return dense_parameter_count([2, *layers, 1 if n_classes == 2 else n_classes])


def dense_parameter_count(sizes: list[int]) -> int:
    """Weights and biases of dense layers from sizes[0] inputs through sizes[1:]."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))


def note_if_no_better_than_guessing(accuracy: float, labels: np.ndarray) -> None:
    """A note on stderr if accuracy closed less than a tenth of the gap from always
    answering the commonest label to 100%."""
    guessing = np.bincount(labels).max() / len(labels)
    if accuracy < guessing + 0.1 * (1.0 - guessing):
        print(
            f"note: the network scores {accuracy:.1%}, hardly better than always answering "
            f"the commonest class ({guessing:.1%}): it learned next to nothing; try another "
            "--activation, --optimizer or --lr, or more --epochs",
            file=sys.stderr,
        )


def epochs_text(count: int) -> str:
    return "1 epoch" if count == 1 else f"{count} epochs"


def seconds_text(seconds: float) -> str:
    return f"{seconds:.1f}" if seconds >= 1 else f"{seconds:.2f}"  # not "0.0 s"


def _predict(model: MLP, X: np.ndarray, n_classes: int, compiled: bool) -> np.ndarray:
    """The predicted class of every row of X: through micrograd.compile if compiled (a trace,
    then numpy over every row at once; 20,000 points took 4.7 s eagerly), else eagerly."""
    if compiled:
        scores = micrograd.compile(lambda point: model(point)).forward(X)
    else:
        with no_grad():  # inference only: no graph to record
            outputs = [model([float(v) for v in row]) for row in X]
        scores = np.array([[v.data for v in (out if isinstance(out, list) else [out])]
                           for out in outputs])  # fmt: skip
    scores = scores.reshape(len(X), -1)
    return (scores[:, 0] > 0).astype(int) if n_classes == 2 else np.argmax(scores, axis=1)


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
    html_path = draw.save_backward_html(out, folder / "backward.html", params=params)
    try:
        svg = drawing.pipe(format="svg", encoding="utf-8")
    except draw.DotNotFoundError:
        dot_path = folder / "neuron.dot"
        print(
            f"note: {DOT_INSTALL} The demo wrote the drawing's DOT source instead, {dot_path}: "
            f"`dot -Tsvg {dot_path} -o {dot_path.with_suffix('.svg')}` draws it",
            file=sys.stderr,
        )
        write_atomically(str(dot_path), drawing.source, "demo")
        return [
            (dot_path, f"{LECTURE_NEURON} as Graphviz source (no `dot` to render it); "
                       f"{GRAD_MEANING}"),
            (html_path, "o.backward() through that neuron, step by step, each step a table "
                        "of its nodes (no `dot` to draw them)"),
        ]  # fmt: skip
    svg_path = folder / "neuron.svg"
    write_atomically(str(svg_path), svg, "demo")
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
        f"{model.num_parameters()} parameters, {args.optimizer} lr {lr:g} decaying towards "
        f"{lr / 10:g}"
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
    final_accuracy = float(np.mean(_predict(model, X, n_classes, compiled) == y))
    engine = "micrograd.compile" if compiled else "the eager scalar engine"
    print(f"trained {epochs_text(args.epochs)} in {seconds_text(seconds)} s with {engine}")
    final_loss = history["loss"][-1]
    shown = f"{final_loss:.4f}" if abs(final_loss) < 1e4 else f"{final_loss:.4g}"  # not 47 digits
    print(f"final loss {shown}, accuracy {final_accuracy:.1%}")
    reference = zero_output_loss(loss, n_classes)
    warn_if_diverged(history["loss"], reference, lr, args.optimizer, default_lr)
    if not diverged(history["loss"], reference):
        note_if_no_better_than_guessing(final_accuracy, y)
    title = f"{args.dataset}: accuracy {final_accuracy:.1%} after {epochs_text(args.epochs)}"
    _write_outputs(args.out, model, (X, y, n_classes), history, title, loss)


def _write_outputs(
    folder: Path, model: MLP, points: tuple[np.ndarray, np.ndarray, int], history, title: str,
    loss: str,
) -> None:  # fmt: skip
    """The two plots and the lecture neuron's drawings into folder, and a line on each file;
    points is (X, y, number of classes)."""
    X, y, n_classes = points
    folder.mkdir(parents=True, exist_ok=True)
    files = [  # named in OUTPUT_NAMES, which the command checks before training
        (folder / "decision_boundary.png", "the network's scores over the plane, its boundary"),
        (folder / "loss_curve.png", "loss (log scale) and accuracy, epoch by epoch"),
    ]
    plot_boundary(model, X, y, n_classes, title, files[0][0])
    plot_history(history, files[1][0], f"{loss.replace('_', '-')} + {L2_TEXT} * sum(w**2)")
    files += _write_drawings(*lecture_neuron(), folder)
    print("wrote:")
    width = max(len(str(path)) for path, _ in files)
    for path, what in files:
        print(f"  {str(path):{width}}  {what}")
