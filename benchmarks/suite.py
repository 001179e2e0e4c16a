"""The benchmark suite: demo-step variants checked equal then timed in rounds, micro benchmarks.

The scalar engines run in worker subprocesses (``benchmarks.worker``), one per engine;
PyTorch and numpy run here. Timings of the demo step are interleaved: every round runs
every variant once, ratios are taken within a round, and medians over rounds reported.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import karpathy_release
from .variants import Numpy, PythonFloats, TorchBatch, TorchScalars
from .workload import LEARNING_RATE, initial_weights, moons

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 1e-9
KARPATHY_GC_ON, KARPATHY_GC_OFF = (
    "karpathy/micrograd 0.1.0, GC on",
    "karpathy/micrograd 0.1.0, GC off",
)
OURS_GC_ON, OURS_GC_OFF = "micrograd eager, GC on", "micrograd eager, GC off"
COMPILED = "micrograd.compile"
REFERENCE = "PyTorch, whole batch, float64"


class Worker:
    """A ``benchmarks.worker`` subprocess for one engine, answering requests one at a time."""

    def __init__(self, engine: str) -> None:
        command = [sys.executable, "-m", "benchmarks.worker", engine]
        if engine == "karpathy":
            command.append(str(karpathy_release.wheel_path()))
        self.engine = engine
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.info = self.call("hello")

    def call(self, command: str, **arguments) -> dict:
        """The worker's answer to one request; its error re-raised here as RuntimeError."""
        self.process.stdin.write(json.dumps({"cmd": command, **arguments}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.engine} died (exit code {self.process.wait()})")
        answer = json.loads(line)
        if not answer.pop("ok"):
            raise RuntimeError(f"worker {self.engine}, {command}: {answer['error']}")
        return answer

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


class WorkerVariant:
    """A demo-step variant that runs in a worker, with the collector on or off."""

    def __init__(self, worker: Worker, gc_on: bool, kind: str = "eager") -> None:
        self.worker, self.gc_on, self.kind = worker, gc_on, kind

    def check(self) -> tuple[float, list[float]]:
        self.checked = self.worker.call("check", kind=self.kind)
        return self.checked["loss"], self.checked["grads"]

    def time(self, steps: int) -> float:
        return self.worker.call("time", kind=self.kind, steps=steps, gc_on=self.gc_on)["seconds"]


class LocalVariant:
    """A demo-step variant that runs in this process (PyTorch, numpy), collector on."""

    def __init__(self, variant) -> None:
        self.variant = variant

    def check(self) -> tuple[float, list[float]]:
        return self.variant.check()

    def time(self, steps: int) -> float:
        return self.variant.time(steps, gc_on=True)


@dataclass
class Demo:
    """The demo-step variants by name, their checks and, once timed, their seconds per round."""

    variants: dict
    workers: dict
    missing: dict = field(default_factory=dict)  # name -> why it is not measured
    errors: dict = field(default_factory=dict)  # name -> largest difference from REFERENCE
    op_nodes: int = 0
    n_params: int = 0
    trace_seconds: float = 0.0  # micrograd.compile's tracing, done before timing
    seconds: dict = field(default_factory=dict)  # name -> [seconds per step, one per round]
    collector: dict = field(default_factory=dict)  # engine -> time in the collector per step
    end_to_end: dict = field(default_factory=dict)  # name -> seconds for TRAINING_STEPS steps


def start_demo(n_points: int = 100) -> Demo:
    """Start the workers and build every demo-step variant on the same data and weights."""
    X, y = moons(n_points)
    weights = initial_weights()
    workers = {engine: Worker(engine) for engine in ("ours", "karpathy")}
    for worker in workers.values():
        worker.call("setup", X=X, y=y, weights=weights, lr=LEARNING_RATE)
    variants = {
        OURS_GC_ON: WorkerVariant(workers["ours"], gc_on=True),
        OURS_GC_OFF: WorkerVariant(workers["ours"], gc_on=False),
        KARPATHY_GC_ON: WorkerVariant(workers["karpathy"], gc_on=True),
        KARPATHY_GC_OFF: WorkerVariant(workers["karpathy"], gc_on=False),
        "PyTorch, one 0-d tensor per scalar": LocalVariant(
            TorchScalars(X, y, weights, LEARNING_RATE)
        ),
        REFERENCE: LocalVariant(TorchBatch(X, y, weights, LEARNING_RATE)),
        "numpy, written by hand": LocalVariant(Numpy(X, y, weights, LEARNING_RATE)),
        "Python floats, written by hand": LocalVariant(PythonFloats(X, y, weights, LEARNING_RATE)),
    }
    demo = Demo(variants, workers)
    if workers["ours"].call("compiled_available")["available"]:
        variants[COMPILED] = WorkerVariant(workers["ours"], gc_on=True, kind="compiled")
    else:
        demo.missing[COMPILED] = "not in this checkout yet (micrograd has no compile)"
    return demo


def check_demo(demo: Demo) -> dict:
    """Every variant's loss and gradients at the initial weights, checked against PyTorch on
    the whole batch (float64): raises AssertionError past TOLERANCE, relative to max(1, |x|)."""
    loss_ref, grads_ref = demo.variants[REFERENCE].check()
    results = {}
    for name, variant in demo.variants.items():
        loss, grads = variant.check()
        if len(grads) != len(grads_ref):
            raise AssertionError(f"{name}: {len(grads)} gradients, expected {len(grads_ref)}")
        pairs = [(loss, loss_ref), *zip(grads, grads_ref)]
        worst = max(abs(a - b) / max(1.0, abs(b)) for a, b in pairs)
        if not worst <= TOLERANCE:
            raise AssertionError(f"{name}: loss or gradients differ from {REFERENCE} by {worst}")
        results[name] = {"loss": loss, "grads": grads, "worst": worst}
        demo.errors[name] = worst
    demo.n_params = len(grads_ref)
    demo.op_nodes = demo.variants[OURS_GC_ON].checked["op_nodes"]
    if COMPILED in demo.variants:
        demo.trace_seconds = demo.variants[COMPILED].checked["trace_seconds"]
    return results


def time_demo(demo: Demo, rounds: int, seconds_per_block: float) -> None:
    """Time every variant once per round, in turn; each timing is a block of steps long
    enough to take about seconds_per_block (one step at least, and only one if it is 0)."""
    steps = dict.fromkeys(demo.variants, 1)
    if seconds_per_block > 0:
        for name, variant in demo.variants.items():
            one = variant.time(1)  # also warms up
            steps[name] = max(1, math.ceil(seconds_per_block / max(one, 1e-9)))
    demo.seconds = {name: [] for name in demo.variants}
    for _ in range(rounds):
        for name, variant in demo.variants.items():
            demo.seconds[name].append(variant.time(steps[name]))


def measure_collector(demo: Demo, steps: int) -> None:
    """For each scalar engine, the share of an eager step (GC on) spent in the collector."""
    for engine, worker in demo.workers.items():
        demo.collector[engine] = worker.call("collector", steps=steps)


TRAINING_STEPS = 100


def time_training(demo: Demo) -> None:
    """micrograd.compile's TRAINING_STEPS steps end to end, tracing included, next to the
    eager engine's (taken as TRAINING_STEPS times its median step: a measured run of
    eager training would take most of the suite's time)."""
    if COMPILED not in demo.variants:
        return
    worker = demo.workers["ours"]
    answer = worker.call("time", kind="compiled", steps=TRAINING_STEPS, gc_on=True, end_to_end=True)
    demo.end_to_end[COMPILED] = answer["seconds"] * TRAINING_STEPS
    demo.end_to_end[OURS_GC_ON] = statistics.median(demo.seconds[OURS_GC_ON]) * TRAINING_STEPS


def ratio(demo: Demo, slower: str, faster: str) -> float:
    """Median over rounds of seconds(slower) / seconds(faster), taken within each round."""
    pairs = zip(demo.seconds[slower], demo.seconds[faster])
    return statistics.median(a / b for a, b in pairs)


def profile_demo(steps: int, top: int) -> str:
    """cProfile's top entries (by own time) for this engine's eager demo step."""
    worker = Worker("ours")
    try:
        X, y = moons()
        worker.call("setup", X=X, y=y, weights=initial_weights(), lr=LEARNING_RATE)
        return worker.call("profile", steps=steps, top=top)["text"]
    finally:
        worker.close()


def close_demo(demo: Demo) -> None:
    for worker in demo.workers.values():
        worker.close()


# ---------------------------------------------------------------------------------------
# Micro benchmarks

SHAPES = ("chain", "sum", "tree")


@dataclass
class Micro:
    """Per-node times, memory and depth, for each engine."""

    sizes: tuple
    times: dict = field(default_factory=dict)  # (engine, shape, n, gc_on) -> ns per node
    memory: dict = field(default_factory=dict)  # (engine, graph) -> bytes per node
    depth: dict = field(default_factory=dict)  # engine -> deepest chain backward survives


def repeats_for(n: int, most: int = 30) -> int:
    """Enough repeats for a stable minimum at small sizes (at most `most`), three from
    100,000 nodes up."""
    return max(min(3, most), min(most, 100_000 // n))


def _fastest_pass(answers: list[dict], pass_: str) -> dict:
    """The figures of one pass ("forward" or "backward") from the answer whose time for it
    is the smallest, or the engine's error (a string) if a run failed."""
    failures = [
        answer[f"{pass_}_ns"] for answer in answers if isinstance(answer[f"{pass_}_ns"], str)
    ]
    if failures:
        return {f"{pass_}_ns": failures[0]}
    fastest = min(answers, key=lambda answer: answer[f"{pass_}_ns"])
    return {key: value for key, value in fastest.items() if key.startswith(pass_)}


def run_micro(
    workers: dict, sizes: tuple, memory_size: int, depth: int, most_repeats: int = 30
) -> Micro:
    """Time the three shapes at every size, then memory and depth. Repeats are interleaved
    over engines and collector modes, and the fastest kept: on a shared machine the
    minimum is the figure least disturbed by other processes."""
    micro = Micro(sizes)
    for n in sizes:
        for shape in SHAPES:
            runs = {}
            for _ in range(repeats_for(n, most_repeats)):
                for gc_on in (True, False):
                    for engine, worker in workers.items():
                        answer = worker.call("micro", shape=shape, n=n, repeats=1, gc_on=gc_on)
                        runs.setdefault((engine, shape, n, gc_on), []).append(answer)
            for key, answers in runs.items():
                micro.times[key] = {
                    **_fastest_pass(answers, "forward"),
                    **_fastest_pass(answers, "backward"),
                }
    for engine, worker in workers.items():
        micro.memory[engine, "demo"] = worker.call("memory", shape="demo", n=0)
        for shape in ("chain", "tree"):
            micro.memory[engine, shape] = worker.call("memory", shape=shape, n=memory_size)
    micro.depth["ours"] = workers["ours"].call("depth", limit=depth)
    micro.depth["karpathy"] = workers["karpathy"].call("depth", limit=100_000)
    return micro
