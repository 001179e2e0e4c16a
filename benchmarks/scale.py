"""Training at the size of real networks: one epoch of ``fit(compile=True)`` against the same
loop in PyTorch (``to_torch`` of the same model, the same loss, the same optimizer) and in
numpy written by hand, with the eager engine estimated from a few samples.

An epoch's steady time is taken from an 11-epoch and a 41-epoch fit, ``(t41 - t11) / 30``, so
that tracing, setup and the first epochs drop out (the issue used 1 and 11: tracing's own
variance, a few ms, then shows in every epoch). Tracing is reported apart, next to the time
of one eager forward and backward pass of one sample, which is what it is measured against.
Rounds interleave the variants and ratios are taken within a round.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from micrograd import nn

torch.set_default_dtype(torch.float64)


@dataclass(frozen=True)
class Workload:
    """A model, a data set, a loss and an optimizer, as the issue's table names them."""

    name: str
    make_model: Callable[[], nn.Module]
    make_data: Callable[[], tuple[np.ndarray, np.ndarray]]
    loss: str
    optimizer: str  # "sgd" or "adam"
    lr: float
    batch_size: int | None = None  # None: the whole data set per step


def _moons():
    X, y = nn.data.make_moons(100, noise=0.1, seed=1337)
    return X, (y * 2 - 1).astype(np.float64)


def _digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data / 16.0, digits.target.astype(np.int64)


WORKLOADS = {
    "moons": Workload(
        "MLP(2, [16, 16, 1]), 100 rows, hinge + SGD",
        lambda: nn.MLP(2, [16, 16, 1], rng=random.Random(1337)),
        _moons,
        "hinge",
        "sgd",
        0.1,
    ),
    "digits-32": Workload(
        "MLP(64, [32, 10]), 1,797 rows, cross-entropy + Adam",
        lambda: nn.MLP(64, [32, 10], init="he_uniform", rng=random.Random(0)),
        _digits,
        "cross_entropy",
        "adam",
        0.01,
    ),
    "digits-64-64": Workload(
        "MLP(64, [64, 64, 10]), 1,797 rows, cross-entropy + Adam",
        lambda: nn.MLP(64, [64, 64, 10], init="he_uniform", rng=random.Random(0)),
        _digits,
        "cross_entropy",
        "adam",
        0.01,
    ),
}


def _optimizer(library, workload: Workload, params):
    if workload.optimizer == "sgd":
        return library.SGD(params, lr=workload.lr)
    return library.Adam(params, lr=workload.lr)


def time_compiled(workload: Workload, epochs: int) -> tuple[float, list[float]]:
    """(seconds for fit(compile=True) over epochs, tracing included; loss history)."""
    X, y = workload.make_data()
    model = workload.make_model()
    optimizer = _optimizer(nn.optim, workload, model.parameters())
    gc.collect()
    start = time.perf_counter()
    history = nn.fit(
        model, X, y, loss=workload.loss, optimizer=optimizer, epochs=epochs,
        batch_size=workload.batch_size, shuffle=False, progress=False, compile=True,
    )  # fmt: skip
    return time.perf_counter() - start, history["loss"]


def trace_seconds(workload: Workload) -> float:
    """Tracing and planning fit's per-sample loss, as fit(compile=True) does once."""
    import micrograd

    X, y = workload.make_data()
    model = workload.make_model()
    loss_fn = nn.train.LOSSES[workload.loss]
    classes = nn.steps.output_width(model) if workload.loss == "cross_entropy" else None
    compiled = micrograd.compile(nn.steps.per_sample_loss(model, loss_fn, classes))
    targets = np.eye(classes)[y[:1]] if classes else y[:1].astype(np.float64)
    gc.collect()
    compiled.trace(X[:1], targets)
    return compiled.trace_seconds


def _torch_loss(name: str, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if name == "hinge":
        return torch.relu(1 - target * out.squeeze(-1)).mean()
    return torch.nn.functional.cross_entropy(out, target)


def time_torch(workload: Workload, epochs: int) -> tuple[float, list[float]]:
    """(seconds for the same loop in PyTorch over epochs, loss history)."""
    X, y = workload.make_data()
    torch_model = nn.to_torch(workload.make_model())
    optimizer = _optimizer(torch.optim, workload, torch_model.parameters())
    inputs = torch.tensor(X, dtype=torch.float64)
    targets = torch.tensor(y)
    size = len(X) if workload.batch_size is None else workload.batch_size
    history = []
    gc.collect()
    start = time.perf_counter()
    for _ in range(epochs):
        total = 0.0
        for first in range(0, len(X), size):
            optimizer.zero_grad()
            loss = _torch_loss(workload.loss, torch_model(inputs[first : first + size]),
                               targets[first : first + size])  # fmt: skip
            loss.backward()
            optimizer.step()
            total += loss.item() * len(inputs[first : first + size])
        history.append(total / len(X))
    return time.perf_counter() - start, history


def eager_sample_seconds(workload: Workload, samples: int = 5) -> float:
    """One eager forward and backward pass of one sample (of loss and model), the median of
    a few: the unit the issue measures tracing in."""
    X, y = workload.make_data()
    model = workload.make_model()
    loss_fn = nn.train.LOSSES[workload.loss]
    times = []
    for k in range(samples):
        start = time.perf_counter()
        target = y[k].item()
        loss = loss_fn([model(X[k].tolist())], [target])
        loss.backward()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@dataclass
class Scale:
    """Per workload: steady epoch seconds per variant over rounds, and tracing."""

    rounds: int
    epoch_seconds: dict = field(default_factory=dict)  # (workload, variant) -> [seconds]
    tracing: dict = field(default_factory=dict)  # workload -> (trace seconds, eager sample s)
    agreement: dict = field(default_factory=dict)  # workload -> largest loss difference


SHORT, LONG = 11, 41  # two fits: their difference leaves out tracing, setup and warm-up


def steady_epoch(timer: Callable[[int], float]) -> float:
    return (timer(LONG) - timer(SHORT)) / (LONG - SHORT)


def run(names=tuple(WORKLOADS), rounds: int = 5) -> Scale:
    result = Scale(rounds)
    for name in names:
        workload = WORKLOADS[name]
        _, compiled_history = time_compiled(workload, 11)
        _, torch_history = time_torch(workload, 11)
        trace = statistics.median(trace_seconds(workload) for _ in range(3))
        result.agreement[name] = max(
            abs(a - b) / max(1.0, abs(b)) for a, b in zip(compiled_history, torch_history)
        )
        result.tracing[name] = (trace, eager_sample_seconds(workload))
        timers = {
            "compiled": lambda n, w=workload: time_compiled(w, n)[0],
            "torch": lambda n, w=workload: time_torch(w, n)[0],
        }
        for _ in range(rounds):
            for variant, timer in timers.items():
                result.epoch_seconds.setdefault((name, variant), []).append(steady_epoch(timer))
    return result


def report(result: Scale) -> str:
    lines = [
        "| workload | fit(compile=True) per epoch | PyTorch per epoch | ratio | tracing | "
        "tracing / one eager sample | losses agree to |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for name, workload in WORKLOADS.items():
        if (name, "compiled") not in result.epoch_seconds:
            continue
        ours = result.epoch_seconds[name, "compiled"]
        theirs = result.epoch_seconds[name, "torch"]
        ratio = statistics.median(a / b for a, b in zip(ours, theirs))
        trace, sample = result.tracing[name]
        lines.append(
            f"| {workload.name} | {statistics.median(ours) * 1e3:.2f} ms | "
            f"{statistics.median(theirs) * 1e3:.2f} ms | {ratio:.2f}x | {trace * 1e3:.0f} ms | "
            f"{trace / sample:.1f}x | {result.agreement[name]:.0e} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(report(run(tuple(sys.argv[1:]) or tuple(WORKLOADS))))
