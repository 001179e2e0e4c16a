"""A benchmark subprocess holding one scalar engine, driven by JSON lines on stdin.

``python -m benchmarks.worker ours`` benchmarks this checkout's micrograd;
``python -m benchmarks.worker karpathy WHEEL`` puts karpathy/micrograd's wheel first on
sys.path, so ``import micrograd`` is the release. Each engine gets a process of its own
so that the cyclic collector sees only that engine's objects, as in a user's session.
Every request is one line ``{"cmd": ..., ...}``; every answer one line of JSON.
"""

from __future__ import annotations

import cProfile
import gc
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

from .micro import (
    CollectorClock,
    build,
    count_op_nodes,
    deepest_chain,
    leaves_for,
    memory_per_node,
    time_per_node,
)
from .workload import ALPHA, demo_loss, flat

ROOT = Path(__file__).resolve().parent.parent


def load_engine(engine: str, wheel: str | None):
    """(micrograd, its Value, an MLP factory taking weights) for the named engine."""
    expected = Path(wheel).resolve() if engine == "karpathy" else ROOT
    sys.path.insert(0, str(expected))
    import micrograd

    origin = Path(micrograd.__file__).resolve()
    if expected not in origin.parents:
        raise ImportError(f"worker {engine}: imported micrograd from {origin}, not {expected}")
    from micrograd.nn import MLP  # karpathy's nn, or ours (the same import for both)

    from micrograd.engine import Value

    def make_model(weights):
        sizes = [len(weights[0][0][0])] + [len(layer) for layer in weights]
        model = MLP(sizes[0], sizes[1:])
        for p, x in zip(model.parameters(), flat(weights), strict=True):
            p.data = x
        return model

    return micrograd, Value, make_model


def _timed(step, steps: int, gc_on: bool, make_step=None, watch=None) -> float:
    """Seconds per call of step(update=True), the collector left on or disabled while timing.

    The collector is run first, then one untimed step leaves its graph behind as garbage,
    so the timed steps see what every step of a training loop sees. With make_step, making
    the step (for micrograd.compile: tracing) is timed too, from a clean start. watch, if
    given, is a gc.callbacks entry installed while timing.
    """
    gc.collect()
    (gc.enable if gc_on else gc.disable)()
    callbacks = [watch] if watch else []
    try:
        if make_step is None:
            step(update=True)
        gc.callbacks.extend(callbacks)
        start = time.perf_counter()
        step = make_step() if make_step else step
        for _ in range(steps):
            step(update=True)
        return (time.perf_counter() - start) / steps
    finally:
        for callback in callbacks:
            gc.callbacks.remove(callback)
        gc.enable()
        gc.collect()


class Session:
    """The engine, the data and a model, answering the main process's requests."""

    def __init__(self, engine: str, wheel: str | None) -> None:
        self.engine = engine
        self.micrograd, self.Value, self.make_model = load_engine(engine, wheel)

    def hello(self) -> dict:
        return {"file": self.micrograd.__file__, "pid": os.getpid()}

    def setup(self, X: list, y: list, weights: list, lr: float) -> dict:
        self.X, self.y, self.weights, self.lr = X, y, weights, lr
        return {}

    def compiled_available(self) -> dict:
        return {"available": hasattr(self.micrograd, "compile")}

    def _step(self, kind: str, model):
        return self._compiled_step(model) if kind == "compiled" else self._eager_step(model)

    def check(self, kind: str) -> dict:
        """Loss and gradients at the initial weights, and the size of the eager graph."""
        model = self.make_model(self.weights)
        loss = self._step(kind, model)(update=False)
        answer = {"loss": loss, "grads": [float(p.grad) for p in model.parameters()]}
        if kind == "compiled":
            answer["trace_seconds"] = self.trace_seconds
        elif self.engine == "ours":
            graph = demo_loss(model, model.parameters(), self.Value, self.X, self.y)
            answer["op_nodes"] = count_op_nodes(graph)
        return answer

    def time(self, kind: str, steps: int, gc_on: bool, end_to_end: bool = False) -> dict:
        """Seconds per demo step over `steps` steps from the initial weights; end_to_end
        also times making the step (for micrograd.compile: tracing)."""
        model = self.make_model(self.weights)
        if end_to_end:
            return {"seconds": _timed(None, steps, gc_on, lambda: self._step(kind, model))}
        return {"seconds": _timed(self._step(kind, model), steps, gc_on)}

    def collector(self, steps: int) -> dict:
        """How much of an eager demo step, collector on, is spent in the collector, and how
        many collections of each generation it runs, per step (gc.callbacks)."""
        step = self._eager_step(self.make_model(self.weights))
        clock = CollectorClock()
        seconds = _timed(step, steps, gc_on=True, watch=clock)
        return {
            "seconds": seconds,
            "gc_seconds": clock.seconds / steps,
            "collections": [count / steps for count in clock.collections],
        }

    def _eager_step(self, model):
        Value, X, y, lr = self.Value, self.X, self.y, self.lr

        def step(update: bool):
            loss = demo_loss(model, model.parameters(), Value, X, y)
            model.zero_grad()
            loss.backward()
            if update:
                for p in model.parameters():
                    p.data -= lr * p.grad
            return loss.data

        return step

    def _compiled_step(self, model):
        """The demo step compiled: the per-sample hinge loss replayed over the batch, and the
        L2 penalty (a function of the parameters alone) compiled as a batch of one. Both are
        traced here, before any timing."""
        import numpy as np

        X, y, lr = np.array(self.X), np.array(self.y), self.lr
        params = model.parameters()
        hinge = self.micrograd.compile(lambda x, label: (1 + -label * model(x)).relu())
        l2 = self.micrograd.compile(lambda: ALPHA * sum(p * p for p in params))
        hinge.trace(X, y)
        l2.trace()
        self.trace_seconds = hinge.trace_seconds + l2.trace_seconds

        def step(update: bool):
            for p in params:
                p.grad = 0.0
            loss = float(hinge(X, y)) + float(l2())
            if update:
                for p in params:
                    p.data -= lr * p.grad
            return loss

        return step

    def micro(self, shape: str, n: int, repeats: int, gc_on: bool) -> dict:
        return time_per_node(self.Value, shape, n, repeats, gc_on)

    def memory(self, shape: str, n: int) -> dict:
        if shape == "demo":
            model = self.make_model(self.weights)
            params = model.parameters()
            make = lambda: demo_loss(model, params, self.Value, self.X, self.y)
        else:
            make = lambda: build(shape, n, leaves_for(self.Value, shape, n))
        return memory_per_node(make, count_op_nodes)

    def depth(self, limit: int) -> dict:
        return {"deepest": deepest_chain(self.Value, limit), "limit": sys.getrecursionlimit()}

    def profile(self, steps: int, top: int) -> dict:
        """cProfile of the eager demo step: the top entries by own time."""
        step = self._eager_step(self.make_model(self.weights))
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(steps):
            step(update=True)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
        return {"text": out.getvalue()}


def main() -> None:
    engine = sys.argv[1]
    session = Session(engine, sys.argv[2] if len(sys.argv) > 2 else None)
    for line in sys.stdin:
        request = json.loads(line)
        command = request.pop("cmd")
        try:
            answer = {"ok": True, **getattr(session, command)(**request)}
        except Exception as error:  # reported to the main process, which raises it
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
