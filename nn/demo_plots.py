"""The toy demo's plots: the network's scores over the plane with its decision boundary and
the classes named, and the loss (log scale) and accuracy, epoch by epoch. The grid is scored
through micrograd.compile: one trace, then numpy over every point at once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

import micrograd
from micrograd.files import replace_with

from .dense import MLP

__all__ = [
    "Surface",
    "decision_surface",
    "draw_curve",
    "plot_boundary",
    "plot_history",
    "say_nothing_drawn",
]

CLASS_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c")  # tab10's blue, orange, green: saturated
GRID_SIZE = 300  # points per side of the grid the boundary plot scores: 90,000 in all
SCORE_LIMIT = 3.0  # the two-class colour map saturates at scores of +-3 (the margin is at +-1)
BACKGROUND_STRENGTH = 0.55  # the most a region's colour mixes its class colour into white
LOSS_FLOOR = 1e-6  # where a loss of exactly 0 is drawn on the log scale (log 0 is -inf)


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


def plot_boundary(model, X, y, n_classes: int, title: str, path: Path) -> None:
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
    replace_with(str(path), lambda into: fig.savefig(into, dpi=110), "savefig")
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


def draw_curve(ax, epochs: np.ndarray, values, **style) -> bool:
    """values against epochs as a line, a dot on each finite value with no finite neighbour
    (one epoch, or a run that diverged to inf or nan, whose line would not show), epochs
    ticked in whole numbers. Returns whether any value is finite (see say_nothing_drawn)."""
    from matplotlib.ticker import MaxNLocator

    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    alone = finite & ~np.r_[False, finite[:-1]] & ~np.r_[finite[1:], False]
    dots = {"marker": "o", "markevery": np.flatnonzero(alone).tolist()} if alone.any() else {}
    ax.plot(epochs, values, **dots, **style)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlim(0.5, len(epochs) + 0.5)  # one epoch: matplotlib would tick 0.96 to 1.04
    return bool(finite.any())


def label_log_ticks(ax) -> None:
    """Within a decade or two, label the 2, 3, ... 9 ticks of ax's log-scale y axis as plain
    numbers too: else the axis shows one number, or matplotlib's 2.6x10^0."""
    from matplotlib.ticker import LogFormatter

    ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 1)))


def say_nothing_drawn(ax) -> None:
    """In axes whose curves have no finite value: a note in place of an empty y axis."""
    ax.text(0.5, 0.5, "no finite value to draw", transform=ax.transAxes, ha="center")
    ax.set_yticks([])


def plot_history(history: dict[str, list[float]], path: Path, loss_name: str) -> None:
    """Loss on a log scale (a loss of 0 drawn at LOSS_FLOOR) and accuracy, epoch by epoch."""
    import matplotlib.pyplot as plt

    losses = np.array(history["loss"], dtype=float)
    epochs = np.arange(1, len(losses) + 1)
    zero = losses == 0
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9.5, 3.8), layout="constrained")
    if draw_curve(loss_ax, epochs, np.where(zero, LOSS_FLOOR, losses), color="tab:red"):
        loss_ax.set_yscale("log")  # (with nothing drawn, matplotlib warns that it cannot)
    else:
        say_nothing_drawn(loss_ax)
    label_log_ticks(loss_ax)
    loss_ax.set_xlabel("epoch")
    floor_note = f"; 0 drawn at {LOSS_FLOOR:g}" if zero.any() else ""
    loss_ax.set_ylabel(f"loss (log scale{floor_note})")
    loss_ax.set_title(f"training loss: {loss_name}", fontsize=10)
    draw_curve(acc_ax, epochs, [100 * a for a in history["accuracy"]], color="tab:blue")
    acc_ax.set_xlabel("epoch")
    acc_ax.set_ylabel("accuracy on the training points (%)")
    acc_ax.set_ylim(0, 105)
    acc_ax.set_title("training accuracy", fontsize=10)
    replace_with(str(path), lambda into: fig.savefig(into, dpi=110), "savefig")
    plt.close(fig)
