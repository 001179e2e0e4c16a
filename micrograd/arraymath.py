"""The ops' rules on numpy arrays, and the two ways of running a traced program over a batch.

``ARRAY`` is the namespace ``F`` of ``micrograd.ops`` for float64 arrays: the same forward and
derivative rules that run on one float in the eager engine run here on one array per slot,
holding that slot's number for every sample. numpy is imported here and nowhere else in
micrograd, so ``import micrograd`` stays free of it.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .program import SUM


def _sign(x):
    """-1, 0 or 1 by the sign of x, 0 for nan (as ops.fsign, and torch.sign)."""
    return np.greater(x, 0).astype(np.float64) - np.less(x, 0)


def _identity(x):
    return x


def _pow(a, b):
    """a ** b as C's pow, element by element, as the float rules compute it. numpy takes a
    constant exponent of 0.5 as a square root (and 2, -1 likewise), which differs from pow at
    -inf and -0.0; an exponent array with an entry per element is never taken so."""
    shape = np.broadcast_shapes(np.shape(a), np.shape(b))
    return np.power(a, np.array(np.broadcast_to(b, shape), dtype=np.float64))


# Every function follows IEEE (inf, nan) as the float rules do, provided numpy's warnings
# are silenced, which the runners do around every pass.
ARRAY = SimpleNamespace(
    div=np.divide,
    pow=_pow,
    exp=np.exp,
    log=np.log,
    log1p=np.log1p,
    sqrt=np.sqrt,
    sin=np.sin,
    cos=np.cos,
    tanh=np.tanh,
    sign=_sign,
    where=np.where,
    plain=_identity,
)
ARRAY.__doc__ = "The rules' elementary functions on float64 numpy arrays."


def as_batches(
    batches: tuple, static: tuple = ()
) -> tuple[list[np.ndarray], tuple[tuple[int, ...], ...]]:
    """Each batch as a float64 array with one row per sample, and the shape of one sample;
    static ones keep their own type (class labels stay ints). No batches at all is a
    function of the parameters alone, run as a batch of one. Numbers only, as the eager
    engine takes them: no strings (not even "1.5"), no complex numbers, no Values."""
    if not batches:
        return [], ()
    arrays = []
    for k, batch in enumerate(batches):
        try:
            array = np.asarray(batch)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"micrograd.compile: argument {k}: expected numbers, one row per sample "
                f"(an array or nested lists), got {type(batch).__name__}: {error}"
            ) from None
        if array.dtype.kind not in "biuf":  # bool, int, unsigned, float
            what = {"c": "complex numbers", "U": "strings", "S": "bytes", "O": "objects"}
            raise TypeError(
                f"micrograd.compile: argument {k}: expected real numbers, one row per sample, "
                f"got {what.get(array.dtype.kind, array.dtype)} (dtype {array.dtype})"
            )
        if array.ndim == 0:
            raise ValueError(
                f"micrograd.compile: argument {k}: expected one row per sample, got a scalar"
            )
        if k in static:
            if array.dtype.kind == "f" and np.isnan(array).any():
                row = int(np.argwhere(np.isnan(array))[0][0])
                raise ValueError(
                    f"micrograd.compile: static argument {k} holds nan (row {row}); a static "
                    "value picks the traced program, and nan equals nothing, not even itself"
                )
        else:
            array = array.astype(np.float64, copy=False)
        arrays.append(array)
    sizes = {len(array) for array in arrays}
    if len(sizes) != 1:
        raise ValueError(f"micrograd.compile: the batches differ in length: {sorted(sizes)}")
    if 0 in sizes:
        raise ValueError("micrograd.compile: the batch is empty")
    return arrays, tuple(array.shape[1:] for array in arrays)


def first_sample(arrays: list[np.ndarray]) -> list[list[float]]:
    """The flat numbers of each argument of the first sample, to trace with."""
    return [array[0].reshape(-1).tolist() for array in arrays]


def reduce_outputs(outputs: np.ndarray, reduce: str, single: bool):
    """outputs (n_outputs, batch) reduced over the batch: a float, or an array."""
    if reduce == "none":
        return outputs[0].copy() if single else outputs.T.copy()
    with np.errstate(all="ignore"):  # inf + -inf is nan, as in the eager sum
        reduced = outputs.sum(axis=1)
    if reduce == "mean":
        reduced = reduced / outputs.shape[1]
    return float(reduced[0]) if single else reduced


def _as_plain(value):
    return [_as_plain(v) for v in value] if isinstance(value, tuple) else value


def split_by_value(arrays: list[np.ndarray]) -> list[tuple[list, np.ndarray]]:
    """The rows grouped by the values the arrays take in them: [(plain values, rows)]."""
    groups: dict[tuple, list[int]] = {}
    keys = zip(*[[_as_tuple(v) for v in array.tolist()] for array in arrays])
    for k, key in enumerate(keys):
        groups.setdefault(key, []).append(k)
    return [([_as_plain(v) for v in key], np.array(rows)) for key, rows in groups.items()]


def _as_tuple(value):
    return tuple(_as_tuple(v) for v in value) if isinstance(value, list) else value


# A pass holds a (slots x samples) array of values and one of gradients; a big batch runs in
# chunks of samples so that each array stays near this many numbers (32 MB).
CHUNK_NUMBERS = 1 << 22


def run(parts: list, batch: int, seed: float | None) -> np.ndarray:
    """Run each part's program forward on its rows, then backward from seed (d loss / d
    output per sample) unless seed is None; returns the outputs (n_outputs, batch)."""
    outputs = None
    for program, runner, arrays, rows in parts:
        size = batch if rows is None else len(rows)
        chunk = max(1, CHUNK_NUMBERS // program.n_slots)
        for start in range(0, size, chunk):
            stop = min(size, start + chunk)
            part = runner.forward([array[start:stop] for array in arrays], stop - start)
            if outputs is None:
                outputs = np.empty((len(part), batch))
            elif len(part) != len(outputs):
                raise ValueError(
                    "micrograd.compile: the function returned different numbers of outputs "
                    "for different static values"
                )
            outputs[:, slice(start, stop) if rows is None else rows[start:stop]] = part
            if seed is not None and program.parameters:
                runner.backward(seed)
    return outputs


class Runner:
    """One numpy call per instruction: the traced program as it is, over vectors."""

    def __init__(self, program) -> None:
        self.program = program

    def forward(self, arrays: list[np.ndarray], batch: int) -> np.ndarray:
        """Run the program; returns its outputs as an array (n_outputs, batch)."""
        program = self.program
        self.batch = batch
        flat = [array.reshape(batch, -1) for array in arrays]
        values: list = [None] * program.n_slots
        for slot, argument, position in program.inputs:
            values[slot] = flat[argument][:, position]
        for k, parameter in enumerate(program.parameters):
            values[program.first_parameter + k] = parameter.data
        for k, number in enumerate(program.constants):
            values[program.first_constant + k] = number
        with np.errstate(all="ignore"):
            for instruction in program.instructions:
                inputs = [values[i] for i in instruction.inputs]
                values[instruction.output] = instruction.op.forward(ARRAY, *inputs)
        self.values = values
        return np.array([np.broadcast_to(values[slot], (batch,)) for slot in program.outputs])

    def backward(self, seed: float) -> None:
        """Add the gradient of sum_i seed * output_i to each parameter's .grad."""
        program, values, needs_grad = self.program, self.values, self.program.needs_grad
        grads: list = [None] * program.n_slots
        grads[program.outputs[0]] = np.full(self.batch, seed)
        with np.errstate(all="ignore"):
            for instruction in reversed(program.instructions):
                grad = grads[instruction.output]
                if grad is None or not needs_grad[instruction.output]:
                    continue
                inputs = [values[i] for i in instruction.inputs]
                local_grads = instruction.op.derivative(
                    ARRAY, grad, values[instruction.output], *inputs
                )
                for slot, local in zip(instruction.inputs, local_grads):
                    if needs_grad[slot]:
                        grads[slot] = local if grads[slot] is None else grads[slot] + local
            for k, parameter in enumerate(program.parameters):
                grad = grads[program.first_parameter + k]
                if grad is not None:
                    parameter.grad += float(np.sum(grad))


def _rows_index(rows: list[int]):
    """An index for rows of a 2-D array: a slice (a view, no copy) when they are evenly
    spaced, else an integer array."""
    first, count = rows[0], len(rows)
    step = rows[1] - first if count > 1 else 1
    if step != 0 and all(row == first + k * step for k, row in enumerate(rows)):
        stop = first + count * step
        return slice(first, stop if stop >= 0 else None, step)
    return np.array(rows)


class RowSet:
    """A list of rows of a (rows, batch) array, read and added into the cheapest way: a
    slice (a view) when evenly spaced; that slice tiled when the list repeats it (every
    neuron of a layer reads the same inputs); else integer indexing, with the gradients of
    repeated rows summed by reduceat."""

    def __init__(self, rows: list[int]) -> None:
        self.count = len(rows)
        period = next((k for k in range(1, len(rows)) if rows[k] == rows[0]), len(rows))
        self.tiles = len(rows) // period if rows == rows[:period] * (len(rows) // period) else 1
        self.period = period if self.tiles > 1 else len(rows)
        self.index = _rows_index(rows[: self.period])
        if self.tiles > 1 and not isinstance(self.index, slice):
            self.tiles, self.period, self.index = 1, len(rows), np.array(rows)
        self.repeated = self.tiles == 1 and len(set(rows)) < len(rows)
        if self.repeated:
            self.order = np.argsort(self.index, kind="stable")
            ordered = self.index[self.order]
            self.starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
            self.targets = ordered[self.starts]

    def gather(self, V: np.ndarray, full: bool = False) -> np.ndarray:
        """The rows of V, (count, batch); one repeated row may stay (1, batch) unless full."""
        if self.tiles == 1 or (self.period == 1 and not full):
            return V[self.index]
        tiled = np.broadcast_to(V[self.index], (self.tiles, self.period, V.shape[1]))
        return tiled.reshape(self.count, V.shape[1])

    def add_into(self, G: np.ndarray, local: np.ndarray) -> None:
        """G[rows] += local, (count, batch), summing over repeated rows."""
        if self.tiles > 1:
            G[self.index] += local.reshape(self.tiles, self.period, -1).sum(axis=0)
        elif self.repeated:
            G[self.targets] += np.add.reduceat(local[self.order], self.starts, axis=0)
        else:
            G[self.index] += local


class GroupedRunner:
    """One numpy call per group of same-op, same-depth instructions (the 16 neurons of a
    layer in one call), over a 2-D array with one row per slot and one column per sample."""

    def __init__(self, program) -> None:
        self.program = program
        groups = program.groups(fuse_sums=True)
        row_of = list(range(program.n_slots))  # leaves keep their slot numbers
        next_row = program.n_slots - len(program.instructions)
        for group in groups:
            for instruction in group:
                row_of[instruction.output] = next_row
                next_row += 1
        self.n_rows = next_row
        self.plans = []
        needs_grad = program.needs_grad
        for group in groups:
            op, count, arity = group[0].op, len(group), len(group[0].inputs)
            out = slice(row_of[group[0].output], row_of[group[-1].output] + 1)
            slots_per_input = [[ins.inputs[k] for ins in group] for k in range(arity)]
            terms = 0
            if op is SUM:  # all the terms of all the sums in one gather, term-major
                terms = arity
                slots_per_input = [[slot for slots in slots_per_input for slot in slots]]
            columns = [[row_of[slot] for slot in slots] for slots in slots_per_input]
            gathers = [RowSet(rows) for rows in columns]
            accumulators = None  # None: no output needs a gradient, skip the group
            if any(needs_grad[ins.output] for ins in group):
                accumulators = [
                    rows if any(needs_grad[slot] for slot in slots) else None
                    for slots, rows in zip(slots_per_input, gathers)
                ]
            self.plans.append((op, out, count, terms, gathers, accumulators))
        self.inputs = []  # (rows of V, positions in the flattened argument) per argument
        for argument in range(len(program.argument_shapes)):
            pairs = [(slot, position) for slot, a, position in program.inputs if a == argument]
            if pairs:
                rows, positions = zip(*pairs)
                self.inputs.append((argument, _rows_index(list(rows)), np.array(positions)))
        self.outputs = np.array([row_of[slot] for slot in program.outputs])
        self.parameter_rows = slice(program.first_parameter, program.first_constant)
        self.constant_rows = slice(
            program.first_constant, program.first_constant + len(program.constants)
        )
        self.constants = np.array(program.constants, dtype=np.float64)[:, None]

    def forward(self, arrays: list[np.ndarray], batch: int) -> np.ndarray:
        """Run the program; returns its outputs as an array (n_outputs, batch)."""
        program = self.program
        self.batch = batch
        V = self.values = np.empty((self.n_rows, batch))
        for argument, rows, positions in self.inputs:
            V[rows] = arrays[argument].reshape(batch, -1)[:, positions].T
        parameters = [parameter.data for parameter in program.parameters]
        V[self.parameter_rows] = np.array(parameters, dtype=np.float64)[:, None]
        V[self.constant_rows] = self.constants
        with np.errstate(all="ignore"):
            for op, out, count, terms, gathers, _ in self.plans:
                if terms:
                    terms_rows = gathers[0].gather(V, full=True)
                    V[out] = terms_rows.reshape(terms, count, batch).sum(axis=0)
                else:
                    V[out] = op.forward(ARRAY, *[rows.gather(V) for rows in gathers])
        return V[self.outputs]

    def backward(self, seed: float) -> None:
        """Add the gradient of sum_i seed * output_i to each parameter's .grad."""
        V, batch = self.values, self.batch
        G = np.zeros_like(V)
        G[self.outputs[0]] = seed
        with np.errstate(all="ignore"):
            for op, out, count, terms, gathers, accumulators in reversed(self.plans):
                if accumulators is None:
                    continue
                if terms:  # every term of a sum receives the sum's gradient
                    local = np.broadcast_to(G[out], (terms, count, batch))
                    accumulators[0].add_into(G, local.reshape(terms * count, batch))
                    continue
                inputs = [rows.gather(V) for rows in gathers]
                local_grads = op.derivative(ARRAY, G[out], V[out], *inputs)
                for local, rows in zip(local_grads, accumulators):
                    if rows is not None:
                        if np.shape(local) != (count, batch):  # a rule may give a broadcast
                            local = np.broadcast_to(local, (count, batch))
                        rows.add_into(G, local)
            sums = G[self.parameter_rows].sum(axis=1).tolist()
        for parameter, total in zip(self.program.parameters, sums):
            parameter.grad += total
