"""Markdown tables of the suite's results, and the machine they were measured on."""

from __future__ import annotations

import datetime
import os
import platform
import re
import statistics
import subprocess
import sys

from .suite import (
    COMPILED,
    KARPATHY_GC_OFF,
    KARPATHY_GC_ON,
    OURS_GC_OFF,
    OURS_GC_ON,
    REFERENCE,
    ROOT,
    SHAPES,
    TOLERANCE,
    TRAINING_STEPS,
    Demo,
    Micro,
    ratio,
)

ENGINES = {"ours": "micrograd", "karpathy": "karpathy 0.1.0"}


def machine() -> list[str]:
    """Lines naming the CPU, cores, Python and library versions, date and commit."""
    import numpy
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = (
        " (micrograd/ or nn/ with uncommitted changes)"
        if _git("status", "--porcelain", "micrograd", "nn")
        else ""
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()} ({sys.implementation.name}), "
        f"numpy {numpy.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads)",
        f"- Matrix products: numpy's through {_numpy_blas()}, PyTorch's through {_torch_blas()}",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"commit {commit}{dirty}; load average at the end {load}",
    ]


def _numpy_blas() -> str:
    """The BLAS numpy was built with, as its build configuration names it."""
    import numpy

    try:
        blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')}".strip()
    except (KeyError, TypeError, ValueError):
        return "an unnamed BLAS"


def _torch_blas() -> str:
    """The BLAS PyTorch was built with (BLAS_INFO in its build settings)."""
    import torch

    found = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    return found.group(1).upper() if found else "an unnamed BLAS"


def _git(*arguments: str) -> str:
    try:
        done = subprocess.run(
            ["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _fmt(x) -> str:
    if isinstance(x, str):
        return x
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}" if x >= 0.01 else f"{x:.2g}"


METHOD = """\
How it is measured:

- The workload is karpathy/micrograd's demo: moons (100 points, noise 0.1), MLP(2, [16, 16, 1])
  with the weights karpathy's MLP draws after random.seed(1337), hinge loss + 1e-4 L2, full-batch
  SGD. One step = forward over all points, zero_grad, backward, update. Every variant starts from
  the same weights and data.
- Before any timing, every variant's loss and all gradients are checked against PyTorch on the
  whole batch in float64 (1e-9, relative to max(1, |x|)).
- Each scalar engine runs in a worker process of its own (karpathy's release from its PyPI wheel,
  put first on that process's sys.path), so the cyclic collector sees only that engine's objects;
  PyTorch, numpy and Python floats run in the main process.
- Rounds are interleaved: each round runs every variant once, as a block of steps of about
  {block:g} s (one step at least), timed with time.perf_counter. Before a block the collector is
  run, then left on (GC on, as users run it) or disabled (GC off), and one untimed step is run:
  so every timed step finds the previous step's graph waiting as garbage, as in a training
  loop. (For karpathy/micrograd, whose graphs are cycles, this matters: the first step after a
  collection takes about 40% less time than the steps of a running loop.) Garbage is collected
  after the block, untimed. Ratios are taken within a round; tables show medians over rounds.
- Micro benchmarks build each graph from leaves made beforehand, then call backward() once; the
  collector is run before, then left on or disabled throughout. Repeats (30 at 1,000 nodes down
  to 3 from 100,000 up) are interleaved over engines and collector modes; the fastest is shown.
- The machine is shared: the load average is shown above. Ratios within a round are the figures
  to trust, absolute milliseconds less so.
"""


def method(block: float) -> list[str]:
    """How the figures are measured, for the head of the results."""
    return METHOD.format(block=block).splitlines()


def demo_table(demo: Demo) -> list[str]:
    """One row per variant: median ms per step, speed-ups within rounds, check."""
    rounds = len(next(iter(demo.seconds.values())))
    lines = [
        f"Demo training step, {demo.op_nodes:,} graph nodes; median of {rounds} interleaved "
        f"rounds; speed-ups are medians of within-round ratios.",
        "",
        "| variant | ms per step | range over rounds | x faster than karpathy GC on "
        "| x faster than karpathy GC off | max diff vs " + REFERENCE + " |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for name, seconds in demo.seconds.items():
        ms = [s * 1e3 for s in seconds]
        lines.append(
            f"| {name} | {_fmt(statistics.median(ms))} | {_fmt(min(ms))}-{_fmt(max(ms))} "
            f"| {_fmt(ratio(demo, KARPATHY_GC_ON, name))} "
            f"| {_fmt(ratio(demo, KARPATHY_GC_OFF, name))} | {demo.errors[name]:.1e} |"
        )
    for name, why in demo.missing.items():
        lines.append(f"| {name} | - | - | - | - | {why} |")
    if demo.trace_seconds:
        lines += [
            "",
            f"micrograd.compile traced the per-sample hinge loss and the L2 penalty once, in "
            f"{demo.trace_seconds * 1e3:.0f} ms, before timing.",
        ]
    return lines


def collector_table(demo: Demo) -> list[str]:
    """Time in the cyclic collector during an eager demo step, GC on (gc.callbacks)."""
    lines = [
        "The cyclic collector during the eager demo step, GC on (measured with gc.callbacks, "
        "in a separate run of steps):",
        "",
        "| engine | ms per step | ms in the collector | share | collections per step "
        "(gen 0 / 1 / 2) |",
        "|---|--:|--:|--:|--:|",
    ]
    for engine, c in demo.collector.items():
        counts = " / ".join(f"{x:.3g}" for x in c["collections"])
        lines.append(
            f"| {ENGINES[engine]} | {_fmt(c['seconds'] * 1e3)} | {_fmt(c['gc_seconds'] * 1e3)} "
            f"| {c['gc_seconds'] / c['seconds']:.0%} | {counts} |"
        )
    return lines


def compile_targets(demo: Demo) -> list[str]:
    """micrograd.compile's targets (its own issue), measured by this suite."""
    if COMPILED not in demo.seconds:
        return [f"{COMPILED}: {demo.missing.get(COMPILED, 'not measured')}."]
    steps = TRAINING_STEPS
    end_to_end = demo.end_to_end[OURS_GC_ON] / demo.end_to_end[COMPILED]
    rows = [
        (
            "demo step >= 100x faster than karpathy GC off",
            ratio(demo, KARPATHY_GC_OFF, COMPILED),
            100,
        ),
        (f"demo step no slower than {REFERENCE} (stretch)", ratio(demo, REFERENCE, COMPILED), 1),
        (
            f"{steps} training steps end to end, tracing included, >= 30x faster than eager "
            f"({demo.end_to_end[COMPILED]:.2f} s against {demo.end_to_end[OURS_GC_ON]:.1f} s, "
            f"the eager figure being {steps} x its median step)",
            end_to_end,
            30,
        ),
    ]
    lines = [f"{COMPILED}'s targets (x faster, medians of within-round ratios):", ""]
    lines += ["| target | measured | pass |", "|---|--:|---|"]
    for text, value, threshold in rows:
        lines.append(f"| {text} | {_fmt(value)} | {'pass' if value >= threshold else 'FAIL'} |")
    return lines


def micro_table(micro: Micro) -> list[str]:
    """ns per op node, forward (building the graph) and backward, per shape and size."""
    header = "| shape | nodes | " + " | ".join(
        f"{ENGINES[e]} {pass_} GC {mode}"
        for e in ENGINES
        for mode in ("on", "off")
        for pass_ in ("fwd", "bwd")
    )
    lines = [
        "ns per op node; chain: y = y * c, n deep; sum: a left fold of + over n + 1 leaves; "
        "tree: a balanced binary tree of + over n + 1 leaves.",
        "",
        header + " |",
        "|---|--:|" + "--:|" * 8,
    ]
    for shape in SHAPES:
        for n in micro.sizes:
            cells = []
            for engine in ENGINES:
                for gc_on in (True, False):
                    times = micro.times[engine, shape, n, gc_on]
                    cells += [_fmt(times["forward_ns"]), _fmt(times["backward_ns"])]
            lines.append(f"| {shape} | {n:,} | " + " | ".join(cells) + " |")
    return lines


def micro_collector_table(micro: Micro) -> list[str]:
    """How much of each engine's forward time per node, GC on, is the collector's."""
    small, large = micro.sizes[0], micro.sizes[-1]
    lines = [
        "Where the GC on forward time goes (gc.callbacks, in the runs shown above): with the "
        "collector on, CPython runs a full collection whenever the objects that have survived "
        "into its oldest generation have grown by a quarter, and a full collection visits "
        "every tracked object. A growing graph therefore pays for several full collections "
        "of itself, whatever the engine, as long as its nodes are Python objects: one object "
        "per node, as here, is the least there can be.",
        "",
        "| engine | shape | nodes | fwd ns/node, GC on | in the collector | the rest "
        "| full collections |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for engine in ENGINES:
        for shape in SHAPES:
            for n in (small, large):
                times = micro.times[engine, shape, n, True]
                total, collector = times["forward_ns"], times["forward_collector_ns"]
                lines.append(
                    f"| {ENGINES[engine]} | {shape} | {n:,} | {_fmt(total)} | {_fmt(collector)} "
                    f"| {_fmt(total - collector)} | {times['forward_full_collections']} |"
                )
    own = flatness(micro, "forward_ns", True, less="forward_collector_ns")
    lines += [
        "",
        f"Leaving out the time inside the collector, micrograd's forward ns/node with GC on at "
        f"{large:,} nodes is {_fmt(own)}x what it is at {small:,} (worst shape).",
    ]
    return lines


def memory_table(micro: Micro) -> list[str]:
    lines = [
        "Bytes per op node (tracemalloc, everything the graph holds, leaves included), and "
        "what a second backward() keeps and peaks at, per op node.",
        "",
        "| engine | graph | op nodes | bytes per op node | kept after backward | backward peak |",
        "|---|---|--:|--:|--:|--:|",
    ]
    for (engine, graph), m in micro.memory.items():
        lines.append(
            f"| {ENGINES[engine]} | {graph} | {m['op_nodes']:,} | {_fmt(m['bytes_per_node'])} "
            f"| {_fmt(m['backward_kept_per_node'])} | {_fmt(m['backward_peak_per_node'])} |"
        )
    lines += ["", "Deepest chain whose backward() survives, at the default recursion limit:", ""]
    for engine, depth in micro.depth.items():
        note = " (the largest tried)" if engine == "ours" else " (bisection)"
        lines.append(
            f"- {ENGINES[engine]}: {depth['deepest']:,}{note}, recursion limit {depth['limit']}"
        )
    return lines


def flatness(micro: Micro, key: str, gc_on: bool, less: str | None = None) -> float:
    """The worst ratio over shapes of ns per node at the largest size to the smallest;
    with less, of the difference of the two figures."""

    def figure(shape: str, n: int) -> float:
        times = micro.times["ours", shape, n, gc_on]
        return times[key] - (times[less] if less else 0.0)

    small, large = micro.sizes[0], micro.sizes[-1]
    return max(figure(shape, large) / figure(shape, small) for shape in SHAPES)


def targets_table(demo: Demo, micro: Micro) -> list[str]:
    """The issue's targets, measured, with pass or fail."""
    small, large = micro.sizes[0], micro.sizes[-1]
    demo_bytes = micro.memory["ours", "demo"]["bytes_per_node"]
    chain_bytes = micro.memory["ours", "chain"]["bytes_per_node"]
    kept = max(micro.memory["ours", g]["backward_kept_per_node"] for g in ("demo", "chain"))
    depth = micro.depth["ours"]["deepest"]
    rows = [
        (
            "demo step, GC on: >= 10x faster than karpathy",
            ratio(demo, KARPATHY_GC_ON, OURS_GC_ON),
            lambda x: x >= 10,
        ),
        (
            "demo step, GC off for both: >= 2x faster than karpathy",
            ratio(demo, KARPATHY_GC_OFF, OURS_GC_OFF),
            lambda x: x >= 2,
        ),
        *(
            (
                f"{pass_} ns/node at {large:,} <= 1.3x of {small:,}, GC {mode} (worst shape)",
                flatness(micro, f"{pass_}_ns", mode == "on"),
                lambda x: x <= 1.3,
            )
            for pass_ in ("forward", "backward")
            for mode in ("on", "off")
        ),
        ("<= 250 bytes per op node, demo graph", demo_bytes, lambda x: x <= 250),
        ("<= 250 bytes per op node, chain", chain_bytes, lambda x: x <= 250),
        ("backward's working memory freed (bytes kept per node < 1)", kept, lambda x: x < 1),
        (f"{depth:,}-deep chain, forward and backward", depth, lambda x: x >= 1_000_000),
    ]
    lines = ["| target | measured | pass |", "|---|--:|---|"]
    for text, value, passes in rows:
        lines.append(f"| {text} | {_fmt(value)} | {'pass' if passes(value) else 'FAIL'} |")
    lines.append("")
    lines.append(
        f"All variants' loss and {demo.n_params} gradients agree with {REFERENCE} within "
        f"{TOLERANCE:g} (relative to max(1, |x|)) before any time is taken."
    )
    return lines


def trim_profile(text: str) -> list[str]:
    """cProfile's table without its preamble, paths shown from the project's root."""
    lines = text.strip().splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    root = str(ROOT) + "/"
    return [line.replace(root, "").rstrip() for line in lines[start:] if line.strip()]
