"""Laying a plan out: which unit of work runs when, and where every number lives.

A unit is one instruction, or one bank of sums lifted into a linear map. Units run in order
of depth (1 + the deepest unit they read); with grouping, the units of one op, one depth,
one pattern of inputs (rows of V, or entries of S) and one answer to whether their gradient
matters become one step. Each step writes a block of V's rows; each parameter and constant
gets an entry of S, a bank's weights a contiguous, row-major block, so that the product
reads them as a view.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from .kernels import kernel_of
from .plan import COPY, SUM, LogSoftmax, Plan
from .program import Instruction
from .runner import LinearStep, LogSoftmaxStep, OpStep, RowSet, StaticSet, SumStep

__all__ = ["lay_out"]


class _Units:
    """The units of work and the graph between them."""

    def __init__(self, instructions, groups, kinds) -> None:
        self.kinds = kinds
        self.items: list = []  # an Instruction, a bank or a LogSoftmax
        self.reads: list[list[int]] = []  # the slots each unit reads
        self.unit_of: dict[int, int] = {}  # op slot -> the unit that computes it
        folded: set[int] = set()  # computed inside a group's unit, in no row of their own
        group_of: dict[int, int] = {}  # an output slot -> its group's index
        slots = [_group_slots(group) for group in groups]
        for k, (outputs, _, inner) in enumerate(slots):
            group_of.update((slot, k) for slot in outputs)
            folded.update(inner)
        added: set[int] = set()
        for ins in instructions:
            if ins.output in folded:
                continue
            k = group_of.get(ins.output)
            if k is None:
                self._add(ins, list(ins.inputs), [ins.output])
            elif k not in added:
                added.add(k)
                outputs, reads, _ = slots[k]
                self._add(groups[k], reads, outputs)

    def _add(self, item, reads: list[int], outputs: list[int]) -> int:
        unit = len(self.items)
        self.items.append(item)
        self.reads.append(reads)
        for slot in outputs:
            self.unit_of[slot] = unit
        return unit

    def depths(self) -> list[int]:
        """1 + the deepest unit each unit reads, in a topological order (Kahn's)."""
        after: list[list[int]] = [[] for _ in self.items]
        waiting = [0] * len(self.items)
        for unit, reads in enumerate(self.reads):
            for producer in {self.unit_of[s] for s in reads if s in self.unit_of}:
                after[producer].append(unit)
                waiting[unit] += 1
        depth = [1] * len(self.items)
        ready = deque(u for u in range(len(self.items)) if waiting[u] == 0)
        while ready:
            unit = ready.popleft()
            for consumer in after[unit]:
                depth[consumer] = max(depth[consumer], depth[unit] + 1)
                waiting[consumer] -= 1
                if not waiting[consumer]:
                    ready.append(consumer)
        return depth


def _group_slots(group) -> tuple[list[int], list[int], list[int]]:
    """(outputs, reads, inner slots) of a group of instructions run as one unit."""
    if isinstance(group, LogSoftmax):
        outputs = list(group.outputs)
        inner = [ins.output for ins in group.instructions if ins.output not in group.outputs]
        return outputs, list(group.logits), inner
    members = [m for row in group.members for m in row]  # a bank: the products are inner
    inner = [t for m in members for t in m.instruction.inputs if t not in set(m.biases)]
    reads = [x for m in members for x in (*m.columns, *m.biases)]
    return [m.instruction.output for m in members], reads, inner


class _Places:
    """Where each slot lives: a row of V (per-sample numbers) or an entry of S (shared)."""

    def __init__(self, program, kinds) -> None:
        self.program, self.kinds = program, kinds
        self.row: dict[int, int] = {slot: slot for slot, _, _ in program.inputs}
        self.input_at = {slot: (argument, position) for slot, argument, position in program.inputs}
        self.read: set[int] = set()  # the input slots some step reads as rows of V
        self.n_rows = len(program.inputs)
        self.constant_rows: list[int] = []
        self.ones_rows: list[int] = []  # rows of 1.0 after a dense layer's inputs (its bias)
        self.by_product: set[int] = set()  # rows holding a LinearStep's sums
        self.position: dict[int, int] = {}

    def is_row(self, slot: int) -> bool:
        return self.kinds[slot] in ("input", "op")

    def row_of(self, slot: int) -> int:
        """slot's row; a constant read as a row (an input of a linear map) is given one."""
        if slot not in self.row:
            self.row[slot] = self.n_rows
            self.n_rows += 1
            self.constant_rows.append(slot)
        self.read.add(slot)
        return self.row[slot]

    def direct(self, columns: list[int]) -> tuple | None:
        """(argument, positions) when these slots are all inputs of one argument."""
        found = [self.input_at.get(slot) for slot in columns]
        if None in found or len({argument for argument, _ in found}) != 1:
            return None
        return found[0][0], _index(position for _, position in found)

    def rows_for(self, slots: list[int]) -> int:
        """A block of fresh rows for these outputs; returns the first."""
        first = self.n_rows
        for k, slot in enumerate(slots):
            self.row[slot] = first + k
        self.n_rows += len(slots)
        return first

    def add_ones_row(self) -> None:
        """A fresh row, next after the last, that holds 1.0 for every sample."""
        self.ones_rows.append(self.n_rows)
        self.n_rows += 1

    def position_of(self, slot: int) -> int:
        return self.position.setdefault(slot, len(self.position))

    def source(self, slots: list[int], blocks: bool = False):
        """The rows (or entries) an input position of a step reads (see RowSet's blocks)."""
        if self.is_row(slots[0]):
            return RowSet([self.row_of(s) for s in slots], blocks=blocks)
        return StaticSet([self.position_of(s) for s in slots])


def _signature(ins, kinds) -> tuple:
    return tuple(kinds[s] in ("input", "op") for s in ins.inputs)


def lay_out(program, instructions, groups, kinds, group: bool) -> Plan:
    """The Plan: steps in order, rows and entries assigned (see the module's docstring)."""
    units = _Units(instructions, groups, kinds)
    depth = units.depths()
    steps_units: dict[tuple, list[int]] = {}
    needs = program.needs_grad
    for unit, item in enumerate(units.items):
        if isinstance(item, Instruction) and group:
            # an op whose gradient matters apart from one whose does not: the second's
            # backward is skipped, where grouped its zero times an inf would send a nan back
            key = (
                depth[unit], id(item.op), len(item.inputs), _signature(item, kinds),
                needs[item.output],
            )  # fmt: skip
        else:
            key = (depth[unit], "unit", unit)
        steps_units.setdefault(key, []).append(unit)
    order = sorted(steps_units, key=_step_order) if group else list(steps_units)
    places = _Places(program, kinds)
    uses = _uses(program)
    if group:
        _order_positions_as_read(units, steps_units, uses)
    steps = []
    for key in order:
        members = [units.items[u] for u in steps_units[key]]
        if isinstance(members[0], LogSoftmax):
            steps.append(_log_softmax_step(members[0], places, needs, uses))
        elif not isinstance(members[0], Instruction):
            steps.append(_linear_step(members[0], places, needs, uses))
        else:
            steps.append(_op_step(members, places, needs, uses))
    steps += _copy_steps(program, places, needs)
    return _plan(program, steps, places)


def _order_positions_as_read(units: _Units, steps_units: dict, uses: list[int]) -> None:
    """Each convolution's positions (the columns of its bank) in the order the step after
    it reads them, through ops of one input (its relu): max pooling's first level reads the
    left number of every pair of each row, then the right ones (as slots of one step, a and
    b). Laid out so, a and b are each a block of rows per channel (RowSet.blocks), read as
    views, where in the image's order they were every other row. Any order computes the
    same sums; a bank whose outputs are read otherwise keeps the traced order."""
    place = {unit: k for members in steps_units.values() for k, unit in enumerate(members)}
    readers: dict[int, list[tuple[int, int]]] = {}
    for unit, item in enumerate(units.items):
        if isinstance(item, Instruction):
            for k, slot in enumerate(item.inputs):
                readers.setdefault(slot, []).append((unit, k))

    def read_at(slot: int) -> tuple[int, int] | None:
        """(input position, place in its step) of the op of two or more inputs reading slot."""
        while uses[slot] == 1 and len(readers.get(slot, ())) == 1:
            unit, k = readers[slot][0]
            item = units.items[unit]
            if len(item.inputs) > 1:
                return None if item.op is SUM else (k, place[unit])
            slot = item.output
        return None

    for bank in units.items:  # a unit neither an instruction nor a log-softmax is a bank
        if isinstance(bank, (Instruction, LogSoftmax)) or len(bank.members[0]) < 2:
            continue
        keys = [read_at(c.instruction.output) for c in bank.members[0]]
        if None in keys or len(set(keys)) < len(keys):
            continue
        order = sorted(range(len(keys)), key=keys.__getitem__)
        bank.members[:] = [[row[c] for c in order] for row in bank.members]


def _step_order(key: tuple) -> tuple[int, bool]:
    """By depth; within one (its steps are independent), ops before units (a linear map, a
    log-softmax), so that a layer's rows are the last laid out when the next layer reads
    them and a row of ones can follow them (_ones_can_follow). On the moons the hinge's neg
    of the targets, at the first layer's depth, came between the two before."""
    return key[0], key[1] == "unit"


def _uses(program) -> list[int]:
    """How often each slot is read, a program output counting as a read."""
    uses = [0] * program.n_slots
    for ins in program.instructions:
        for slot in ins.inputs:
            uses[slot] += 1
    for slot in program.outputs:
        uses[slot] += 1
    return uses


def _sole_reader(slots: list[int], uses: list[int], reads_each: int, source) -> bool:
    """Whether these rows are read by this step alone, each exactly reads_each times and
    once in its gather: then backward can write their gradients instead of adding to them
    (no other step adds, and nothing need be zeroed first)."""
    return (
        isinstance(source, RowSet)
        and source.tiles == 1
        and not source.repeated
        and all(uses[s] == reads_each for s in slots)
    )


def _op_step(instructions, places: _Places, needs, uses) -> OpStep | SumStep:
    op, count = instructions[0].op, len(instructions)
    columns = [[ins.inputs[k] for ins in instructions] for k in range(len(instructions[0].inputs))]
    if op is SUM:
        return _sum_step(instructions, columns, places, needs, uses)
    if len(columns) == 1:  # one input: read it in row order when that makes it a run of rows
        instructions = _in_row_order(instructions, places)
        columns = [[ins.inputs[0] for ins in instructions]]
    sources = [places.source(slots, blocks=True) for slots in columns]
    if len({s.shape for s in sources if getattr(s, "shape", None)}) > 1:
        sources = [places.source(slots) for slots in columns]  # blocks of one shape only
    for slots, source in zip(columns, sources):
        if _sole_reader(slots, uses, 1, source) and slots.count(slots[0]) == 1:
            source.sole_reader = True
    outputs = [ins.output for ins in instructions]
    in_place = _in_place(op, sources, places)
    if in_place:  # the outputs take their inputs' rows, read by no one else
        first = sources[0].index.start
        for k, slot in enumerate(outputs):
            places.row[slot] = first + k
        places.by_product.difference_update(sources[0].rows)  # they hold these outputs now
    else:
        first = places.rows_for(outputs)
    accumulate = [any(needs[s] for s in slots) for slots in columns]
    return OpStep(
        op=op,
        out=slice(first, first + count),
        count=count,
        sources=sources,
        accumulate=accumulate,
        # backward has work only if a gradient arrives and an input wants it: a stop_gradient
        # step gets its output's gradient, but its input (the softmax max tree) wants none
        needed=any(accumulate) and any(needs[ins.output] for ins in instructions),
        instructions=list(instructions),
        in_place=in_place,
    )


def _in_row_order(instructions: list, places: _Places) -> list:
    """instructions of one input sorted by its row, when those rows then run one by one
    (a relu over a convolution's sums laid out in another order than traced, so that it
    writes over them in place), else as they are."""
    if not all(places.is_row(ins.inputs[0]) for ins in instructions):
        return instructions
    rows = [places.row_of(ins.inputs[0]) for ins in instructions]
    ordered = sorted(rows)
    if rows == ordered or ordered != list(range(ordered[0], ordered[0] + len(rows))):
        return instructions
    by_row = dict(zip(rows, instructions))
    return [by_row[row] for row in ordered]


def _in_place(op, sources, places: _Places) -> bool:
    """Whether a step of op can write its outputs over its one input's rows: the op's kernel
    allows it (its derivative reads only the outputs, as does the op's rule, which runs in
    its place on small arrays), and the input is a run of rows, one per output in order,
    that no other step reads, made by a matrix product, whose backward reads no output of
    its own (a layer's sums before its relu)."""
    kernel = kernel_of(op)
    if kernel is None or not kernel.in_place or len(sources) != 1:
        return False
    (source,) = sources
    return (
        isinstance(source, RowSet)
        and source.sole_reader
        and source.consecutive
        and all(row in places.by_product for row in source.rows)
    )


def _sum_step(instructions, columns, places: _Places, needs, uses) -> SumStep:
    """The sums as one SumStep: their terms, position by position, rows of V (one gather)
    or entries of S (the grouping keeps each position one kind, see _signature)."""
    row_places = [k for k, slots in enumerate(columns) if places.is_row(slots[0])]
    static_places = [k for k in range(len(columns)) if k not in row_places]
    rows = None
    if row_places:
        terms = [slot for k in row_places for slot in columns[k]]  # term by term
        rows = RowSet([places.row_of(slot) for slot in terms])
        if _sole_reader(terms, uses, 1, rows):
            rows.sole_reader = True
    statics = None
    if static_places:
        statics = StaticSet([places.position_of(s) for k in static_places for s in columns[k]])
    first = places.rows_for([ins.output for ins in instructions])
    return SumStep(
        out=slice(first, first + len(instructions)),
        count=len(instructions),
        terms=len(columns),
        rows=rows,
        needed=any(needs[ins.output] for ins in instructions),
        instructions=list(instructions),
        statics=statics,
        places=(row_places, static_places) if statics is not None else ((), ()),
    )


def _log_softmax_step(group: LogSoftmax, places: _Places, needs, uses) -> LogSoftmaxStep:
    logits = RowSet([places.row_of(z) for z in group.logits])
    if _sole_reader(list(group.logits), uses, 2, logits):  # the tree's and its d_i's reads
        logits.sole_reader = True
    first = places.rows_for(list(group.outputs))
    count = len(group.outputs)
    return LogSoftmaxStep(
        out=slice(first, first + count),
        count=count,
        logits=logits,
        kept=_index(group.kept),  # a slice, a view, when they run one by one (all of them)
        needed=any(needs[z] for z in group.logits) and any(needs[o] for o in group.outputs),
        instructions=list(group.instructions),
        slots=(group.logits, group.outputs),
    )


def _linear_step(bank, places: _Places, needs, uses) -> LinearStep:
    R, C = len(bank.members), len(bank.members[0])
    weights = [w for row in bank.members for w in row[0].weights]
    columns = [x for c in bank.members[0] for x in c.columns]  # c-major, as traced
    by_term = [x for t in zip(*(c.columns for c in bank.members[0])) for x in t]  # t-major
    direct = places.direct(columns) if C == 1 else None
    column_set = RowSet(
        [places.row[x] if direct else places.row_of(x) for x in by_term],
        wanted=[needs[x] for x in by_term],
    )
    if _sole_reader(columns, uses, R, column_set):  # each input, once per row of W
        column_set.sole_reader = True
    ones_follow = _ones_can_follow(column_set, places) if C == 1 and not direct else False
    weight_set, bias_set, folded = _weights_and_bias(bank, places, column_set, direct, ones_follow)
    if folded and ones_follow:
        places.add_ones_row()
    outputs = [m.instruction.output for row in bank.members for m in row]
    # the rows whose sums' gradient matters: a bank's rows are all of a kind (plan._as_banks)
    reached = [r for r, row in enumerate(bank.members) if needs[row[0].instruction.output]]
    first = places.rows_for(outputs)
    places.by_product.update(range(first, first + len(outputs)))
    return LinearStep(
        out=slice(first, first + R * C),
        shape=(R, C, len(bank.members[0][0].weights)),
        weights=weight_set,
        columns=column_set,
        bias=bias_set,
        grad_columns=any(needs[x] for x in columns),
        needed=bool(reached),
        instructions=[m.instruction for row in bank.members for m in row],
        terms=(weights, columns),
        direct=direct,
        folded=folded,
        ones_follow=folded and ones_follow,
        reach=None if len(reached) == R else reached,
    )


def _ones_can_follow(columns: RowSet, places: _Places) -> bool:
    """Whether a dense layer's inputs are the last run of rows laid out so far, one row each
    in order, so that a row of ones can go right after them: its bias then folds into the
    product, which reads the inputs and the ones as one view of V (a layer after a layer)."""
    return columns.consecutive and columns.index.stop == places.n_rows


def _weights_and_bias(bank, places: _Places, columns: RowSet, direct, ones_follow: bool):
    """(weights, bias, folded): the entries of S a linear map reads. When its columns are
    gathered by index anyway (a convolution's windows), or a row of ones can follow them in
    V (ones_follow), and each sum has one bias term, the bias is folded into the product as
    W's last column (see LinearStep), provided the entries can be laid out so, each row's
    weights and then its bias; else apart."""
    weights = [list(row[0].weights) for row in bank.members]
    biases = [list(row[0].biases) for row in bank.members]
    entries = [x for w, b in zip(weights, biases) for x in w + b]  # each row's, then its bias
    fresh = len(set(entries)) == len(entries) and not any(x in places.position for x in entries)
    gathered = not direct and columns.tiles == 1 and not isinstance(columns.index, slice)
    if (gathered or ones_follow) and fresh and all(len(b) == 1 for b in biases):
        return StaticSet([places.position_of(x) for x in entries]), None, True
    weight_set = StaticSet([places.position_of(w) for row in weights for w in row])
    flat_biases = [b for row in biases for b in row]
    bias_set = StaticSet([places.position_of(b) for b in flat_biases]) if flat_biases else None
    return weight_set, bias_set, False


def _copy_steps(program, places: _Places, needs) -> list[OpStep]:
    """A row for each output that is a parameter or a constant (a function may return one),
    but a constant that a linear map reads as a row already has one, holding it."""
    shared = [
        s for s in dict.fromkeys(program.outputs) if not places.is_row(s) and s not in places.row
    ]
    if not shared:
        return []
    first = places.rows_for(shared)
    source = StaticSet([places.position_of(s) for s in shared])
    return [
        OpStep(
            COPY,
            slice(first, first + len(shared)),
            len(shared),
            [source],
            [any(needs[s] for s in shared)],
            any(needs[s] for s in shared),
        )  # fmt: skip
    ]


def _index(numbers) -> slice | np.ndarray:
    """A slice where the numbers run one by one (a view, no gather), else an index array."""
    numbers = list(numbers)
    if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
        return slice(numbers[0], numbers[0] + len(numbers))
    return np.array(numbers)


def _zeroed_rows(program, steps, places: _Places) -> list[slice]:
    """The rows of G to zero before backward: every op row but those whose gradient is
    written whole by their sole reader; the outputs' rows, where the seed lands, always."""
    written = set()
    for step in steps:
        if not step.needed:
            continue  # its backward never runs: what it reads keeps its zeros
        if getattr(step, "in_place", False):
            continue  # its rows are its outputs' too, whose own readers may only add to them
        sources = getattr(step, "sources", None) or [getattr(step, "columns", None)]
        for source in sources + [getattr(step, "rows", None)]:
            if getattr(source, "sole_reader", False):
                written.update(source.rows)
    written -= {places.row[s] for s in program.outputs}
    rows = [r for r in range(len(program.inputs), places.n_rows) if r not in written]
    runs: list[slice] = []
    for row in rows:
        if runs and runs[-1].stop == row:
            runs[-1] = slice(runs[-1].start, row + 1)
        else:
            runs.append(slice(row, row + 1))
    return runs


def _plan(program, steps, places: _Places) -> Plan:
    first_p, first_c = program.first_parameter, program.first_constant
    parameters = [places.position_of(first_p + k) for k in range(len(program.parameters))]
    constants = [places.position_of(first_c + k) for k in range(len(program.constants))]
    constant_values = np.array(program.constants, dtype=np.float64)
    row_values = [program.constants[s - first_c] for s in places.constant_rows]
    row_values += [1.0] * len(places.ones_rows)
    input_rows, copied = [], 0
    wanted = places.read | set(program.outputs)  # inputs read as rows, or returned
    for argument in range(len(program.argument_shapes)):
        pairs = [
            (slot, position)
            for slot, a, position in program.inputs
            if a == argument and slot in wanted
        ]
        if pairs:
            rows, positions = zip(*pairs)
            input_rows.append((argument, _index(rows), _index(positions)))
            copied += len(rows)
    return Plan(
        program=program,
        steps=steps,
        n_rows=places.n_rows,
        n_static=len(places.position),
        input_rows=input_rows,
        constant_rows=np.array(
            [places.row[s] for s in places.constant_rows] + places.ones_rows, dtype=np.intp
        ),
        constant_row_values=np.array(row_values, dtype=np.float64),
        parameter_positions=np.array(parameters, dtype=np.intp),
        constant_positions=np.array(constants, dtype=np.intp),
        constants=constant_values,
        output_rows=np.array([places.row[s] for s in program.outputs], dtype=np.intp),
        input_count=len(program.inputs),
        zeroed_rows=_zeroed_rows(program, steps, places),
        rows_in_use=places.n_rows - len(program.inputs) + copied,
    )
