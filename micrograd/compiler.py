"""micrograd.compile: trace a per-sample function of Values once, replay it over whole batches.

Tracing calls the function once, on fresh input leaves, and keeps the graph it builds. The
graph becomes a flat program (``micrograd.program``): numbered slots and one instruction per
op, in topological order. Replaying the program runs each op's own forward and derivative
rules from ``micrograd.ops`` on numpy arrays holding one number per sample
(``micrograd.arraymath``), so a batch costs one pass over the program instead of one graph per
sample, and the numbers are the eager engine's.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from . import arraymath
from .engine import Value
from .program import Instruction, Program, build_program
from .tracing import TracingError

__all__ = ["compile", "CompiledFunction", "Instruction", "Program", "TracingError"]

REDUCTIONS = ("mean", "sum", "none")


class CompiledFunction:
    """A per-sample function of Values, traced once, run over batches with numpy."""

    def __init__(
        self, fn: Callable, reduce: str = "mean", group: bool = True, static: tuple = ()
    ) -> None:
        if reduce not in REDUCTIONS:
            raise ValueError(
                f"micrograd.compile: reduce must be one of {REDUCTIONS}, got {reduce!r}"
            )
        self.fn = fn
        self.reduce = reduce
        self.group = group
        self.static = tuple(sorted(_static_positions(static)))
        self.trace_seconds = 0.0  # total time spent tracing, reported apart from running
        self.trace_count = 0
        self._traces: dict[tuple, tuple[Program, object]] = {}
        self._latest: Program | None = None
        self.__wrapped__ = fn

    def _lookup(self, shapes: tuple, arrays: list, static: dict) -> tuple[Program, object]:
        key = (shapes, tuple(static.items()))
        known = self._traces.get(key)
        if known is None:
            start = time.perf_counter()
            examples = arraymath.first_sample(arrays)
            program = build_program(self.fn, shapes, examples, static)
            runner = (arraymath.GroupedRunner if self.group else arraymath.Runner)(program)
            self.trace_seconds += time.perf_counter() - start
            self.trace_count += 1
            known = self._traces[key] = (program, runner)
        self._latest = known[0]
        return known

    def _parts(self, batches: tuple) -> tuple[int, list]:
        """(batch size, [(program, runner, traced arrays, rows of the batch or None)]):
        one part per distinct combination of static values."""
        arrays, shapes = arraymath.as_batches(batches, self.static)
        batch = len(arrays[0]) if arrays else 1
        if not self.static:
            return batch, [(*self._lookup(shapes, arrays, {}), arrays, None)]
        if self.static[-1] >= len(arrays) or self.static[0] < 0:
            raise ValueError(
                f"micrograd.compile: static={self.static} names arguments that are not there "
                f"(called with {len(arrays)})"
            )
        traced = [k for k in range(len(arrays)) if k not in self.static]
        traced_shapes = tuple(shapes[k] for k in traced)
        parts = []
        split = arraymath.split_by_value([arrays[k] for k in self.static])
        for values, rows in split:
            static = dict(zip(self.static, values))
            part_arrays = [arrays[k][rows] for k in traced]
            parts.append((*self._lookup(traced_shapes, part_arrays, static), part_arrays, rows))
        return batch, parts

    def trace(self, *batches) -> Program:
        """Trace on the first sample of the batches (if not traced for their shapes yet)."""
        self._parts(batches)
        return self._program()

    def forward(self, *batches):
        """The per-sample outputs, shape (batch,) or (batch, n) for a list of n; no gradients."""
        batch, parts = self._parts(batches)
        outputs = arraymath.run(parts, batch, seed=None)
        return outputs[0] if parts[0][0].single_output else outputs.T

    def __call__(self, *batches, backward: bool = True, create_graph: bool = False):
        """Forward over the batch, reduce, and (by default) add the batch gradient to every
        parameter's .grad. Returns the reduced output: a float, or an array for reduce="none"."""
        if create_graph:
            raise NotImplementedError(
                "micrograd.compile: create_graph (higher-order gradients) is not supported by "
                "compiled functions; use the eager engine: loss.backward(create_graph=True)"
            )
        batch, parts = self._parts(batches)
        single = parts[0][0].single_output
        if backward and not single:
            raise ValueError(
                f"micrograd.compile: backward needs one output per sample, but the function "
                f"returned a list of {len(parts[0][0].outputs)}; use .forward(...) for several "
                "outputs"
            )
        # d mean / d output_i = 1 / batch, exactly as the eager engine's div rule computes it
        seed = (1.0 / batch if self.reduce == "mean" else 1.0) if backward else None
        outputs = arraymath.run(parts, batch, seed)
        return arraymath.reduce_outputs(outputs, self.reduce, single)

    def _program(self) -> Program:
        if self._latest is None:
            raise RuntimeError(
                "micrograd.compile: not traced yet; call the compiled function on a batch "
                "or call .trace(batch...) first"
            )
        return self._latest

    @property
    def program(self) -> Program:
        """The most recently used traced program."""
        return self._program()

    def parameters(self) -> list[Value]:
        """The leaves the function captured (read live, given gradients), in slot order."""
        return list(self._program().parameters)

    def listing(self) -> str:
        """The traced program as straight-line code (``v12 = mul(v3, v7)``)."""
        return self._program().listing()

    def graph(self) -> Value | list[Value]:
        """The traced graph's output Value (a list for several), for micrograd.draw_dot."""
        program = self._program()
        return program.roots[0] if program.single_output else list(program.roots)


def _static_positions(static) -> tuple[int, ...]:
    """static as a tuple of argument positions: an int or a collection of ints (no bools)."""
    positions = (static,) if isinstance(static, int) and not isinstance(static, bool) else static
    if isinstance(positions, (str, bytes)) or not hasattr(positions, "__iter__"):
        raise TypeError(
            f"micrograd.compile: static must be an argument position or a tuple of them, "
            f"got {static!r}"
        )
    positions = tuple(positions)
    for position in positions:
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            raise TypeError(
                f"micrograd.compile: static must hold argument positions (integers >= 0), "
                f"got {position!r} in {static!r}"
            )
    if len(set(positions)) != len(positions):
        raise ValueError(f"micrograd.compile: static names an argument twice: {static!r}")
    return positions


def compile(
    fn: Callable | None = None, *, reduce: str = "mean", group: bool = True, static: tuple = ()
):
    """Trace fn (a function of one sample's Values) once and run it over batches with numpy.

    ``step = compile(lambda x, y: loss(model(x), y))``; ``step(X, Y)`` gives the mean loss
    over the rows of X and Y and adds its gradient to every parameter's .grad, exactly as
    ``(sum(losses) / len(X)).backward()`` on the eager engine would. ``reduce`` is "mean",
    "sum" or "none" (per-sample outputs; gradients of their sum). ``group`` runs ops of one
    kind at one depth as a single numpy call. ``static`` lists arguments passed as plain
    numbers instead of Values (class labels, say): one program is traced per distinct value.
    Usable as ``@compile`` or ``@compile(...)``.
    """
    options = {"reduce": reduce, "group": group, "static": _static_positions(static)}  # now
    if fn is None:
        return lambda f: CompiledFunction(f, **options)
    if not callable(fn):
        raise TypeError(f"micrograd.compile: expected a function, got {type(fn).__name__}")
    return CompiledFunction(fn, **options)
