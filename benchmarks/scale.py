"""Training at the size of real networks: one epoch of ``fit(compile=True)`` against the same
loop in PyTorch (``to_torch`` of the same model, the same loss, the same optimizer) and in
numpy written by hand, with the eager engine estimated from a few samples.

Every epoch of a run is timed on its own (fit's scheduler hook stamps the clock at each
epoch's end) and an epoch's steady time is the median over a run's epochs but the first
WARM_UP, so that tracing, setup and the odd slow epoch of a shared machine drop out (the
issue took the difference of a 1- and an 11-epoch fit, where one slow moment moves every
epoch). Tracing is reported apart, next to the time of one eager forward and backward pass
of one sample, which is what it is measured against. Rounds interleave the variants and
ratios are taken within a round.
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

from . import by_hand

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
    epochs: int  # per timed run: enough for a steady median past WARM_UP
    batch_size: int | None = None  # None: the whole data set per step


def _moons():
    X, y = nn.data.make_moons(100, noise=0.1, seed=1337)
    return X, (y * 2 - 1).astype(np.float64)


def _digit_images():
    X, y = nn.data.load_digits()
    return X, y.astype(np.int64)


def _digits():
    X, y = _digit_images()
    return X.reshape(len(X), -1), y


def _cnn() -> nn.Module:
    """The digits demo's CNN: two blocks of 3x3 convolution, ReLU, 2x2 max pool; 6,090
    parameters."""
    from micrograd.nn.digits_demo import cnn

    return cnn([16, 32], "relu", random.Random(0))


WORKLOADS = {
    "moons": Workload(
        "MLP(2, [16, 16, 1]), 100 rows, hinge + SGD",
        lambda: nn.MLP(2, [16, 16, 1], rng=random.Random(1337)),
        _moons,
        "hinge",
        "sgd",
        0.1,
        epochs=300,
    ),
    "digits-32": Workload(
        "MLP(64, [32, 10]), 1,797 rows, cross-entropy + Adam",
        lambda: nn.MLP(64, [32, 10], init="he_uniform", rng=random.Random(0)),
        _digits,
        "cross_entropy",
        "adam",
        0.01,
        epochs=100,
    ),
    "digits-64-64": Workload(
        "MLP(64, [64, 64, 10]), 1,797 rows, cross-entropy + Adam",
        lambda: nn.MLP(64, [64, 64, 10], init="he_uniform", rng=random.Random(0)),
        _digits,
        "cross_entropy",
        "adam",
        0.01,
        epochs=60,
    ),
    "digits-cnn": Workload(
        "the digits CNN (16 and 32 3x3 filters), 1,797 images, cross-entropy + Adam",
        _cnn,
        _digit_images,
        "cross_entropy",
        "adam",
        0.01,
        epochs=12,
    ),
}


def _optimizer(library, workload: Workload, params):
    if workload.optimizer == "sgd":
        return library.SGD(params, lr=workload.lr)
    return library.Adam(params, lr=workload.lr)


class _EpochClock:
    """Stamps the clock at each epoch's end: a stand-in scheduler for fit, whose step() it
    calls once per epoch, and what _epochs stamps its loops with."""

    def __init__(self) -> None:
        self.stamps = [time.perf_counter()]

    def step(self) -> None:
        self.stamps.append(time.perf_counter())

    def durations(self) -> list[float]:
        return [b - a for a, b in zip(self.stamps, self.stamps[1:])]


class _FitClock(nn.optim.LRScheduler):
    """The clock as fit's scheduler: an LRScheduler that keeps every lr and reads nothing
    of the model (reads_model False), so that compiled fit runs it as it runs StepLR, with
    nothing written back to the Values between epochs (which a scheduler free to read them
    costs). Its step() only stamps the clock: the rates it would set are the ones they have."""

    reads_model = False

    def __init__(self, optimizer) -> None:
        self.clock = _EpochClock()
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr

    def step(self) -> None:
        self.clock.step()


def time_compiled(workload: Workload, epochs: int) -> tuple[list[float], list[float]]:
    """(seconds of each epoch of fit(compile=True), the first with tracing; loss history)."""
    X, y = workload.make_data()
    model = workload.make_model()
    optimizer = _optimizer(nn.optim, workload, model.parameters())
    gc.collect()
    timer = _FitClock(optimizer)
    history = nn.fit(
        model, X, y, loss=workload.loss, optimizer=optimizer, epochs=epochs,
        batch_size=workload.batch_size, shuffle=False, progress=False, compile=True,
        scheduler=timer,
    )  # fmt: skip
    return timer.clock.durations(), history["loss"]


def trace_seconds(workload: Workload) -> tuple[float, int]:
    """(seconds for tracing and planning fit's per-sample loss, as fit(compile=True) does
    once; the number of scalar instructions traced)."""
    import micrograd

    X, y = workload.make_data()
    model = workload.make_model()
    loss_fn = nn.train.LOSSES[workload.loss]
    classes = nn.steps.output_width(model) if workload.loss == "cross_entropy" else None
    compiled = micrograd.compile(nn.steps.per_sample_loss(model, loss_fn, classes))
    targets = np.eye(classes)[y[:1]] if classes else y[:1].astype(np.float64)
    gc.collect()
    compiled.trace(X[:1], targets)
    return compiled.trace_seconds, len(compiled.program.instructions)


def _torch_loss(name: str, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if name == "hinge":
        return torch.relu(1 - target * out.squeeze(-1)).mean()
    return torch.nn.functional.cross_entropy(out, target)


def time_torch(workload: Workload, epochs: int) -> tuple[list[float], list[float]]:
    """(seconds of each epoch of the same loop in PyTorch, loss history)."""
    X, y = workload.make_data()
    torch_model = nn.to_torch(workload.make_model())
    optimizer = _optimizer(torch.optim, workload, torch_model.parameters())
    inputs = torch.tensor(X, dtype=torch.float64)
    targets = torch.tensor(y)

    def step(batch: slice) -> float:
        optimizer.zero_grad()
        loss = _torch_loss(workload.loss, torch_model(inputs[batch]), targets[batch])
        loss.backward()
        optimizer.step()
        return loss.item()

    return _epochs(len(X), workload.batch_size, epochs, step)


def _epochs(
    rows: int, batch_size: int | None, epochs: int, step
) -> tuple[list[float], list[float]]:
    """(seconds of each epoch, mean loss per epoch) for epochs of step(batch) -> that batch's
    mean loss, over rows in order, batch_size at a time (None: all at once)."""
    size = rows if batch_size is None else batch_size
    history = []
    gc.collect()
    clock = _EpochClock()
    for _ in range(epochs):
        total = 0.0
        for first in range(0, rows, size):
            total += step(slice(first, first + size)) * (min(first + size, rows) - first)
        clock.step()
        history.append(total / rows)
    return clock.durations(), history


def time_by_hand(workload: Workload, epochs: int) -> tuple[list[float], list[float]]:
    """(seconds of each epoch of the loop written by hand in numpy, loss history)."""
    X, y = workload.make_data()
    layers = by_hand.layers_of(nn.to_torch(workload.make_model()))
    trainer = by_hand.Trainer(layers, workload.optimizer, workload.lr)
    return _epochs(
        len(X), workload.batch_size, epochs,
        lambda batch: trainer.step(X[batch], y[batch], workload.loss),
    )  # fmt: skip


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
    # workload -> (trace seconds, eager sample seconds, instructions traced)
    tracing: dict = field(default_factory=dict)
    agreement: dict = field(default_factory=dict)  # workload -> {variant: largest difference}
    rows: dict = field(default_factory=dict)  # workload -> samples per epoch


WARM_UP = 2  # epochs left out of the median: the first traces, the second may still warm up
AGREEMENT_EPOCHS = 11  # the loss histories compared against PyTorch's


def steady_epoch(epoch_seconds: list[float]) -> float:
    """The median epoch of a run, past its first WARM_UP."""
    return statistics.median(epoch_seconds[WARM_UP:])


def run(names=tuple(WORKLOADS), rounds: int = 5) -> Scale:
    result = Scale(rounds)
    for name in names:
        workload = WORKLOADS[name]
        _, compiled_history = time_compiled(workload, AGREEMENT_EPOCHS)
        _, torch_history = time_torch(workload, AGREEMENT_EPOCHS)
        traces = [trace_seconds(workload) for _ in range(3)]
        trace, instructions = statistics.median(t for t, _ in traces), traces[0][1]
        _, numpy_history = time_by_hand(workload, AGREEMENT_EPOCHS)
        result.agreement[name] = {
            variant: max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(history, torch_history))
            for variant, history in (("compiled", compiled_history), ("numpy", numpy_history))
        }
        result.tracing[name] = (trace, eager_sample_seconds(workload), instructions)
        result.rows[name] = len(workload.make_data()[0])
        timers = {"compiled": time_compiled, "torch": time_torch, "numpy": time_by_hand}
        for _ in range(rounds):
            for variant, timer in timers.items():
                durations, _ = timer(workload, workload.epochs)
                result.epoch_seconds.setdefault((name, variant), []).append(steady_epoch(durations))
    return result


def method(result: Scale) -> list[str]:
    """How the table below was measured, in the words of its columns."""
    runs = ", ".join(str(w.epochs) for name, w in WORKLOADS.items() if name in result.rows)
    return [
        "One epoch of `nn.fit(compile=True)` (full batch, `shuffle=False`, float64) against "
        "the same loop in PyTorch (`to_torch` of the same model, the same loss and "
        "optimizer, the whole batch as one tensor) and in numpy written by hand "
        "(`benchmarks/by_hand.py`), all in this process. Each epoch of a run is timed on "
        f"its own, and an epoch's steady time is the median over the run's epochs but the "
        f"first {WARM_UP}, so that tracing and warm-up drop out (runs of {runs} epochs, by "
        "workload); the table gives the medians of "
        f"{result.rounds} rounds that interleave the variants, ratios taken within a round. "
        "The eager engine is estimated as the rows times the median of five one-sample "
        "forward and backward passes. Tracing is `micrograd.compile`'s trace and program "
        "building of fit's per-sample loss (the median of three traces), against one eager "
        "sample and per scalar instruction traced. The last column "
        "is the largest relative difference of the compiled and numpy loss histories from "
        f"PyTorch's over {AGREEMENT_EPOCHS} epochs.",
    ]


def report(result: Scale) -> list[str]:
    """The table of steady epoch times, with ratios to PyTorch taken within each round."""
    lines = [
        "| workload | fit(compile=True) | PyTorch | numpy by hand | eager (estimated) | "
        "compiled / PyTorch | numpy / PyTorch | tracing | tracing / one eager sample | "
        "instructions traced | tracing per instruction | losses agree with PyTorch's to |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, workload in WORKLOADS.items():
        if (name, "compiled") not in result.epoch_seconds:
            continue
        seconds = {v: result.epoch_seconds[name, v] for v in ("compiled", "torch", "numpy")}

        def ratio(variant: str, seconds=seconds) -> float:
            pairs = zip(seconds[variant], seconds["torch"])
            return statistics.median(a / b for a, b in pairs)

        trace, sample, instructions = result.tracing[name]
        eager = sample * result.rows[name]
        agree = max(result.agreement[name].values())
        ms = {v: f"{statistics.median(t) * 1e3:.2f} ms" for v, t in seconds.items()}
        lines.append(
            f"| {workload.name} | {ms['compiled']} | {ms['torch']} | {ms['numpy']} | "
            f"{_seconds(eager)} | {ratio('compiled'):.2f}x | {ratio('numpy'):.2f}x | "
            f"{trace * 1e3:.0f} ms | {trace / sample:.1f}x | {instructions:,} | "
            f"{trace / instructions * 1e6:.1f} µs | {agree:.0e} |"
        )
    return lines


def _seconds(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds * 1e3:.0f} ms"


if __name__ == "__main__":
    import sys

    print("\n".join(report(run(tuple(sys.argv[1:]) or tuple(WORKLOADS), rounds=3))))
