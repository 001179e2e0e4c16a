"""micrograd.compile: trace a per-sample function of Values once, replay it over whole batches.

Tracing calls the function once, on fresh input leaves, and keeps the graph it builds as a
flat program (``micrograd.program``): numbered slots and one instruction per op. The program
becomes a plan (``micrograd.plan``): sums of products of parameters become matrix products,
everything else runs in groups of one op, applying each op's own forward and derivative
rules from ``micrograd.ops`` to numpy arrays holding one number per sample
(``micrograd.runner``). A batch costs one pass over the plan instead of one graph per sample,
and the numbers are the eager engine's but for rounding: the batch, and a matrix product's
sums, are added in another order (see ``micrograd.plan``).
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import numbers
import reprlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from . import batches as batching
from .engine import Value
from .modes import is_grad_enabled
from .plan import Plan, build_plan
from .program import Instruction, Program, build_program
from .runner import Runner, rows_index
from .tracing import TracingError, refuse_while_tracing

__all__ = ["compile", "CompiledFunction", "Instruction", "Program", "TracingError"]

REDUCTIONS = ("mean", "sum", "none")


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic collector off for the duration, then as it was. A trace keeps one
    Value per op alive until its program is built, and each full collection walks all of
    them: with the collector on, tracing 171,000 ops costs 1.7 times as much, growing faster
    than the trace. A traced graph has no cycles to find (a node refers only to its inputs)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class _Trace:
    """One traced program, its plan and runner, and where its parameters sit among all the
    parameters the compiled function has seen (``CompiledFunction.parameters()``)."""

    program: Program
    plan: Plan
    runner: Runner
    parameter_index: np.ndarray  # or a slice, when they are a run of parameters() in order


@dataclass
class _Part:
    """The rows of a batch that one trace runs: all of them, or those of one static value."""

    trace: _Trace
    arrays: list[np.ndarray]
    rows: np.ndarray | None  # None: every row


class CompiledFunction:
    """A per-sample function of Values, traced once, run over batches with numpy."""

    def __init__(
        self, fn: Callable, reduce: str = "mean", group: bool = True, static: tuple = ()
    ) -> None:
        if reduce not in REDUCTIONS:
            raise ValueError(
                f"micrograd.compile: reduce must be one of {REDUCTIONS}, got {reduce!r}"
            )
        if not isinstance(group, bool):  # "no" would group
            raise TypeError(f"micrograd.compile: group must be True or False, got {group!r}")
        self.fn = fn
        self.reduce = reduce
        self.group = group
        self.static = tuple(sorted(_static_positions(static)))
        self.trace_seconds = 0.0  # total time spent tracing, reported apart from running
        self.trace_count = 0
        self._traces: dict[tuple, _Trace] = {}
        self._latest: _Trace | None = None
        self._parameters: list[Value] = []
        self._index_of: dict[Value, int] = {}
        self.__wrapped__ = fn

    def _lookup(self, shapes: tuple, arrays: list, static: dict) -> _Trace:
        key = (shapes, tuple((k, batching.static_key(v)) for k, v in static.items()))
        known = self._traces.get(key)
        if known is None:
            # here, not on every call (9 us): another count of batches makes another key
            _check_count(self.fn, len(arrays) + len(static))
            # before tracing: a function calling its own compiled form would trace again
            _refuse_running_while_tracing()
            start = time.perf_counter()
            with _collector_paused():
                try:
                    program = build_program(self.fn, shapes, batching.first_sample(arrays), static)
                except TypeError as error:  # Value - list, say: a column of one number a row
                    _note_columns(error, shapes)
                    raise
                plan = build_plan(program, group=self.group)
            for parameter in program.parameters:
                if parameter not in self._index_of:
                    self._index_of[parameter] = len(self._parameters)
                    self._parameters.append(parameter)
            index = rows_index([self._index_of[p] for p in program.parameters])
            known = self._traces[key] = _Trace(program, plan, Runner(plan), index)
            self.trace_seconds += time.perf_counter() - start
            self.trace_count += 1
        self._latest = known
        return known

    def _parts(self, batches: tuple) -> tuple[int, list[_Part]]:
        """(batch size, one part per distinct combination of static values)."""
        arrays, shapes = batching.as_batches(batches, self.static)
        batch = len(arrays[0]) if arrays else 1
        if not self.static:
            return batch, [_Part(self._lookup(shapes, arrays, {}), arrays, None)]
        if self.static[-1] >= len(arrays):
            raise ValueError(
                f"micrograd.compile: static={self.static} names arguments that are not there "
                f"(called with {len(arrays)})"
            )
        traced = [k for k in range(len(arrays)) if k not in self.static]
        traced_shapes = tuple(shapes[k] for k in traced)
        parts = []
        for values, rows in batching.split_by_value([arrays[k] for k in self.static]):
            static = dict(zip(self.static, values))
            part_arrays = [arrays[k][rows] for k in traced]
            parts.append(_Part(self._lookup(traced_shapes, part_arrays, static), part_arrays, rows))
        if len({part.trace.program.single_output for part in parts}) > 1:  # the first part's
            raise ValueError(  # kind would decide the outputs' shape
                "micrograd.compile: the function returned one Value for some static values "
                "and a list for others; return the same kind for all"
            )
        return batch, parts

    def _run(self, parts: list[_Part], batch: int, seed, values: np.ndarray | None):
        """(outputs (n_outputs, batch), gradient over parameters() or None): every part run
        forward on its rows in chunks, and backward from seed (d loss / d output per sample)
        unless seed is None. values: the parameters' numbers (None: read from the Values)."""
        _refuse_running_while_tracing()
        if values is None:
            values = self._numbers_of_values()
        outputs, gradient = None, np.zeros(len(self._parameters)) if seed is not None else None
        # IEEE numbers throughout (inf, nan), as the float rules give them: no warnings from
        # the runs, nor from adding their gradients (inf + -inf is nan, as in the eager sum)
        with np.errstate(all="ignore"):
            for part in parts:
                trace = part.trace
                S = trace.runner.statics(values[trace.parameter_index])
                size = batch if part.rows is None else len(part.rows)
                backward = seed is not None and len(trace.program.parameters) > 0
                out, GS = trace.runner.run(part.arrays, size, S, seed if backward else None)
                if part.rows is None:  # the only part: its outputs, a new array, are all
                    outputs = out
                else:
                    if outputs is None:
                        outputs = np.empty((len(out), batch))
                    elif len(out) != len(outputs):
                        raise ValueError(
                            "micrograd.compile: the function returned different numbers of "
                            "outputs for different static values"
                        )
                    outputs[:, part.rows] = out
                if GS is not None:
                    gradient[trace.parameter_index] += GS[trace.runner.parameters_at]
        return outputs, gradient

    def trace(self, *batches, **named) -> Program:
        """Trace on the first sample of the batches (if not traced for their shapes yet)."""
        _by_position(named)
        self._parts(batches)
        return self._trace().program

    def forward(self, *batches, parameters: np.ndarray | None = None, **named):
        """The per-sample outputs, shape (batch,) or (batch, n) for a list of n; no gradients.
        parameters: their numbers in parameters() order (default: the Values')."""
        _by_position(named)
        batch, parts = self._parts(batches)
        outputs, _ = self._run(parts, batch, None, self._values("forward", parameters))
        return outputs[0] if parts[0].trace.program.single_output else outputs.T

    def value_and_grad(self, *batches, parameters: np.ndarray | None = None, **named):
        """(per-sample outputs, gradient): the outputs as forward() gives them, and the gradient
        of the reduced first output with respect to parameters(), as an array, touching no
        Value's .grad. parameters: as forward() takes them."""
        _by_position(named)
        batch, parts = self._parts(batches)
        seed = 1.0 / batch if self.reduce == "mean" else 1.0
        values = self._values("value_and_grad", parameters)
        outputs, gradient = self._run(parts, batch, seed, values)
        single = parts[0].trace.program.single_output
        return (outputs[0] if single else outputs.T), gradient

    def __call__(self, *batches, backward: bool = True, create_graph: bool = False, **named):
        """Forward over the batch, reduce, and (by default) add the batch gradient to every
        parameter's .grad. Returns the reduced output: a float, or an array for reduce="none"."""
        _by_position(named)
        if not isinstance(backward, bool):  # "no" would run it
            raise TypeError(f"micrograd.compile: backward must be True or False, got {backward!r}")
        if create_graph:
            raise NotImplementedError(
                "micrograd.compile: create_graph (higher-order gradients) is not supported by "
                "compiled functions; use the eager engine: loss.backward(create_graph=True)"
            )
        # under no_grad(), as eagerly: no graph is recorded, so no gradient reaches any .grad
        backward = backward and is_grad_enabled()
        batch, parts = self._parts(batches)
        single = parts[0].trace.program.single_output
        if backward and not single:
            raise ValueError(
                f"micrograd.compile: backward needs one output per sample, but the function "
                f"returned a list of {len(parts[0].trace.program.outputs)}; use .forward(...) "
                "for several outputs"
            )
        # d mean / d output_i = 1 / batch, exactly as the eager engine's div rule computes it
        seed = (1.0 / batch if self.reduce == "mean" else 1.0) if backward else None
        outputs, gradient = self._run(parts, batch, seed, None)
        if gradient is not None:
            for parameter, total in zip(self._parameters, gradient.tolist()):
                parameter.grad += total
        return batching.reduce_outputs(outputs, self.reduce, single)

    def _numbers_of_values(self) -> np.ndarray:
        """The parameters' numbers, read from the Values. A .data set to what is not a number
        (None, "3") is a TypeError, as in eager arithmetic; numpy would read nan and 3.0."""
        numbers = [p._data for p in self._parameters]
        values = np.array(numbers)  # floats (and ints, bools) make float64: the usual case
        if values.dtype != np.float64:
            for k, (p, x) in enumerate(zip(self._parameters, numbers)):
                if not isinstance(x, (int, float, np.number)) or isinstance(x, complex):
                    raise TypeError(
                        f"micrograd.compile: parameter {k} ({p.label or 'unlabelled'}) has "
                        f".data {reprlib.repr(x)}, not a number"
                    )
            values = np.array(numbers, dtype=np.float64)
        return values

    def _values(self, method: str, parameters) -> np.ndarray | None:
        """parameters as float64 numbers, one per parameters() of the latest trace, or None."""
        if parameters is None:
            return None
        try:
            given = np.asarray(parameters)
            if given.dtype.kind == "O" and not any(_not_a_number(x) for x in given.flat):
                given = given.astype(np.float64)  # Values, Fractions: float() of each
            # numpy would read None as nan and "1.5" as 1.5
            values = given.astype(np.float64, copy=False) if given.dtype.kind in "biuf" else None
        except (TypeError, ValueError, OverflowError):  # ragged lists, what float() refuses
            values = None
        if values is None or values.shape != (len(self._parameters),):
            got = reprlib.repr(parameters) if values is None else f"shape {values.shape}"
            raise ValueError(
                f"micrograd.compile: {method}: parameters must hold "
                f"{len(self._parameters)} numbers (parameters() order), got {got}"
            )
        return values

    def _trace(self) -> _Trace:
        if self._latest is None:
            raise RuntimeError(
                "micrograd.compile: not traced yet; call the compiled function on a batch "
                "or call .trace(batch...) first"
            )
        return self._latest

    @property
    def program(self) -> Program:
        """The most recently used traced program."""
        return self._trace().program

    @property
    def plan(self) -> Plan:
        """How the most recently used program runs: its steps over arrays."""
        return self._trace().plan

    def parameters(self) -> list[Value]:
        """The leaves the function captured (read live, given gradients), over every trace."""
        self._trace()
        return list(self._parameters)

    def listing(self) -> str:
        """The steps that run, a matmul line per lifted linear map (Program.listing() gives
        the traced program itself, one line per op)."""
        return self._trace().plan.listing()

    def graph(self) -> Value | list[Value]:
        """The traced graph's output Value (a list for several), for micrograd.draw_dot."""
        program = self._trace().program
        return program.roots[0] if program.single_output else list(program.roots)


def _by_position(named: dict) -> None:
    if named:
        given = ", ".join(f"{name}=" for name in named)
        raise TypeError(
            f"micrograd.compile: a compiled function takes its batches by position, in the "
            f"order of the traced function's arguments, got {given}"
        )


def _not_a_number(x) -> bool:
    """None, text and complex numbers: float() of them is nan, a parse or an error."""
    return x is None or isinstance(x, (str, bytes, complex))


def _refuse_running_while_tracing() -> None:
    refuse_while_tracing(
        "running a compiled function",
        "Call the Python function it compiles instead; its ops are then traced.",
    )


def _note_columns(error: TypeError, shapes: tuple) -> None:
    """A note on error for each traced argument of shape (batch, 1): each of its samples is
    a list of one Value, not a Value, which is what a TypeError inside the function (Value -
    list) most likely comes from."""
    columns = [k for k, shape in enumerate(shapes) if shape == (1,)]
    if columns and hasattr(error, "add_note"):  # Python 3.11
        error.add_note(
            f"micrograd.compile: traced argument(s) {columns} are columns, shape (batch, 1): "
            "each sample of one is a list of one Value; pass a 1-D array (y.ravel()) for one "
            "Value a sample"
        )


def _check_count(fn: Callable, count: int) -> None:
    """A TypeError naming compile unless fn takes count arguments (one batch each): else the
    function's own error, from inside the trace, would not say what was called with what."""
    try:
        parameters = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: it will say itself
        return
    try:
        parameters.bind(*range(count))
    except TypeError as error:
        name = getattr(fn, "__name__", type(fn).__name__)
        raise TypeError(
            f"micrograd.compile: {name} was given {count} batch{'es' * (count != 1)}, one per "
            f"argument, but {error}"
        ) from None


def _static_positions(static) -> tuple[int, ...]:
    """static as a tuple of argument positions: an int or a collection of ints (no bools)."""
    one = isinstance(static, numbers.Integral) and not isinstance(static, bool)
    positions = (static,) if one else static
    if isinstance(positions, (str, bytes)) or not hasattr(positions, "__iter__"):
        raise TypeError(
            f"micrograd.compile: static must be an argument position or a tuple of them, "
            f"got {static!r}"
        )
    positions = tuple(positions)
    for position in positions:
        if isinstance(position, bool) or not isinstance(position, numbers.Integral) or position < 0:
            raise TypeError(
                f"micrograd.compile: static must hold argument positions (integers >= 0), "
                f"got {position!r} in {static!r}"
            )
    if len(set(positions)) != len(positions):
        raise ValueError(f"micrograd.compile: static names an argument twice: {static!r}")
    return tuple(int(position) for position in positions)  # np.int64(1) as 1


def compile(
    fn: Callable | None = None, *, reduce: str = "mean", group: bool = True, static: tuple = ()
):
    """Trace fn (a function of one sample's Values) once and run it over batches with numpy.

    ``step = compile(lambda x, y: loss(model(x), y))``; ``step(X, Y)`` gives the mean loss
    over the rows of X and Y and adds its gradient to every parameter's .grad, as
    ``(sum(losses) / len(X)).backward()`` on the eager engine would (to about 1e-15). ``reduce``
    is "mean", "sum" or "none" (per-sample outputs; gradients of their sum). ``group`` lifts
    linear maps into matrix products and runs ops of one kind at one depth as a single numpy
    call (False: one call per op). A matrix product's BLAS multiplies and adds in one step:
    where a product of its sums passes float64's largest number (1.8e308), it may give inf
    where the eager engine, rounding the product to inf first, gives nan, or a finite sum
    where it gives inf. group=False forms every product as the eager engine does; sums past
    1.8e308, such as a gradient's over the batch, may overflow differently either way, as
    their terms are added in another order.
    ``static`` lists arguments passed as plain numbers instead of Values (class labels,
    say): one program is traced per distinct value. fn's Python runs once, at the trace: a
    decision on a traced number is a TracingError naming the line, while a random draw or
    a counter is taken once and a printed Value shows the first sample. Usable as
    ``@compile`` or ``@compile(...)``.
    """
    options = {"reduce": reduce, "group": group, "static": _static_positions(static)}
    if fn is None:
        return lambda f: CompiledFunction(f, **options)
    if not callable(fn):
        raise TypeError(f"micrograd.compile: expected a function, got {type(fn).__name__}")
    return CompiledFunction(fn, **options)
