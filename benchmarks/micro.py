"""Micro benchmarks for any scalar engine: time and memory per graph node, and depth.

Three graph shapes of n op nodes each, built from leaves made beforehand:
``chain`` (y = y * c, n deep), ``sum`` (a left fold of + over n + 1 leaves, n deep, one
new leaf per node) and ``tree`` (a balanced binary tree of + over n + 1 leaves, log n deep).
Standard library only: this also runs in the subprocess that holds karpathy's release.
"""

from __future__ import annotations

import gc
import time
import tracemalloc

SHAPES = ("chain", "sum", "tree")


def leaves_for(Value, shape: str, n: int) -> list:
    """The leaves a graph of this shape and size is built from."""
    if shape == "chain":
        return [Value(1.0), Value(0.9999999)]
    return [Value(1.0 + i * 1e-6) for i in range(n + 1)]


def build(shape: str, n: int, leaves: list):
    """The root of a graph of n op nodes of the given shape over the given leaves."""
    if shape == "chain":
        y, c = leaves
        for _ in range(n):
            y = y * c
        return y
    if shape == "sum":
        total = leaves[0]
        for x in leaves[1:]:
            total = total + x
        return total
    level = leaves
    while len(level) > 1:  # pairs by index: slicing would touch every node twice more
        paired = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


class CollectorClock:
    """A gc.callbacks entry: seconds spent in the cyclic collector and collections run per
    generation, since the last reset()."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.seconds, self.collections, self._started = 0.0, [0, 0, 0], 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections[info["generation"]] += 1

    def __enter__(self) -> CollectorClock:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc_info) -> None:
        gc.callbacks.remove(self)


def time_per_node(Value, shape: str, n: int, repeats: int, gc_on: bool = True) -> dict:
    """Fastest ns per op node of building the graph (forward) and of backward(), with the
    collector on (as users run it) or off; backward "RecursionError" where the engine fails.

    Each pass also reports, from its fastest run, the ns per node spent inside the
    collector and the number of full collections it ran.
    """
    forward, backward = [], []
    clock = CollectorClock()
    for _ in range(repeats):
        leaves = leaves_for(Value, shape, n)
        gc.collect()
        (gc.enable if gc_on else gc.disable)()
        try:
            with clock:
                root, figures = _timed_pass(clock, build, shape, n, leaves)
                forward.append(figures)
                backward.append(_timed_pass(clock, root.backward)[1])
        except RecursionError:
            backward = None
        finally:
            gc.enable()
        root = leaves = None
        gc.collect()
        if backward is None:
            break
    answer = _per_node("forward", min(forward, key=lambda run: run["seconds"]), n)
    if backward is None:
        return {**answer, "backward_ns": "RecursionError"}
    return {**answer, **_per_node("backward", min(backward, key=lambda run: run["seconds"]), n)}


def _timed_pass(clock: CollectorClock, function, *args) -> tuple[object, dict]:
    """function(*args), and its seconds, collector seconds and full collections."""
    clock.reset()
    start = time.perf_counter()
    result = function(*args)
    seconds = time.perf_counter() - start
    return result, {
        "seconds": seconds,
        "collector": clock.seconds,
        "full_collections": clock.collections[2],
    }


def _per_node(pass_: str, run: dict, n: int) -> dict:
    return {
        f"{pass_}_ns": run["seconds"] / n * 1e9,
        f"{pass_}_collector_ns": run["collector"] / n * 1e9,
        f"{pass_}_full_collections": run["full_collections"],
    }


def backward_survives(Value, depth: int) -> bool:
    """Whether backward() through a chain this deep returns, at the default recursion limit."""
    root = build("chain", depth, leaves_for(Value, "chain", depth))
    try:
        root.backward()
        return True
    except RecursionError:
        return False
    finally:
        del root
        gc.collect()


def deepest_chain(Value, limit: int) -> int:
    """The deepest chain (up to limit) whose backward() survives, found by bisection."""
    if backward_survives(Value, limit):
        return limit
    good, bad = 1, limit
    while bad - good > 1:
        middle = (good + bad) // 2
        good, bad = (middle, bad) if backward_survives(Value, middle) else (good, middle)
    return good


def memory_per_node(make_graph, count_op_nodes) -> dict:
    """Bytes per op node of the graph make_graph() returns (tracemalloc, everything the
    graph holds), and what backward() keeps and peaks at, per op node, on a second call
    (the first call replaces every node's grad; the second must leave memory as it was)."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        root = make_graph()
        graph_bytes = tracemalloc.get_traced_memory()[0] - base
        n = count_op_nodes(root)
        try:
            root.backward()
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            root.backward()
            after, peak = tracemalloc.get_traced_memory()
            kept, working = (after - before) / n, (peak - before) / n
        except RecursionError:
            kept = working = "RecursionError"
    finally:
        tracemalloc.stop()
    del root
    gc.collect()
    return {
        "op_nodes": n,
        "bytes_per_node": graph_bytes / n,
        "backward_kept_per_node": kept,
        "backward_peak_per_node": working,
    }


def count_op_nodes(root) -> int:
    """Nodes with inputs reachable from root, for any engine with a ``_prev`` collection."""
    seen, stack = {id(root)}, [root]
    count = 0
    while stack:
        node = stack.pop()
        if node._prev:
            count += 1
        for parent in node._prev:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return count
