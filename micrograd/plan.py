"""From a traced program to what runs over a batch: steps of one numpy call each.

Four rewrites. Each runs the ops' own rules, so the numbers are the eager engine's but for
rounding: numpy's exp and log may round a last bit otherwise than the C library's, and a
matrix product adds a sum's terms in BLAS's order, not the chain's. That is a few units in the
last place of the terms' size, which is more than the result's where terms cancel (1e16 + 1 -
1e16 is 0 left to right, 1 in another order), as in any framework that runs a layer as a
matrix product. Sums and log-softmax's steps add in the chain's order.

* **Sums.** A chain of adds ``((t0 + t1) + t2) + ...`` whose partial sums feed nothing else
  becomes one SUM of its terms, added left to right, as the chain did.
* **Linear maps.** A neuron is a sum of products of parameters with per-sample numbers.
  Sums ``bias[r] + sum_t W[r, t] * X[c, t]`` whose weights depend only on r and whose inputs
  depend only on c (a dense layer: R neurons reading one input; a convolution: R filters
  sliding over C positions) become one matrix product forward and two in backward. The
  parameters need no per-sample rows, and the products no rows at all. Backward runs over
  the rows of W whose sums' gradient matters (the loss reads them; a second output may read
  others): an unread row's zero gradient times an input inf would give its weights nan.
* **Log-softmax.** ``log_softmax`` of n numbers as ``nn.functional`` traces it (a tree of
  maximum, stop_gradient, n subtractions, n exps, their sum, its log, n subtractions, or
  fewer where fewer outputs are read) runs as one step over the n rows, each of those ops'
  rules called once on the whole block, instead of seven steps or more of a few rows each
  (see runner.LogSoftmaxStep).
* **Groups.** Every other instruction runs with the others of its op at its depth (1 + its
  deepest input), in one call of the op's own rules on arrays.

``compile(fn, group=False)`` skips all four: one call per instruction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ops import ADD, EXP, LOG, MAXIMUM, MUL, STOP_GRADIENT, SUB
from .program import Instruction, Program

__all__ = ["COPY", "SUM", "LogSoftmax", "Plan", "build_plan", "fused_sums", "log_softmaxes"]


class _CompilerOp:
    """An op the compiler makes itself (not a row of the engine's table)."""

    def __init__(self, name: str, forward, derivative) -> None:
        self.name, self.forward, self.derivative = name, forward, derivative

    def __str__(self) -> str:
        return self.name


def _sum_forward(F, *terms):
    total = terms[0]
    for term in terms[1:]:  # left to right, rounding as the chain of adds did
        total = total + term
    return total


# SUM stands for a chain of adds; an add hands its gradient unchanged to both inputs, so
# every term gets the sum's gradient. COPY puts a parameter the function returns in a row.
SUM = _CompilerOp("sum", _sum_forward, lambda F, g, out, *terms: (g,) * len(terms))
COPY = _CompilerOp("copy", lambda F, a: a * 1.0, lambda F, g, out, a: (g,))


@dataclass
class Plan:
    """The steps over V (per-sample rows) and S (parameters and constants), and where the
    program's inputs, constants, parameters and outputs live in them."""

    program: Program
    steps: list
    n_rows: int
    n_static: int
    input_rows: list[tuple]  # (argument, rows of V, flat positions in the argument)
    constant_rows: np.ndarray  # rows of V holding a constant, and their values
    constant_row_values: np.ndarray
    parameter_positions: np.ndarray  # where program.parameters[k] sits in S
    constant_positions: np.ndarray  # where program.constants[k] sits in S
    constants: np.ndarray
    output_rows: np.ndarray
    input_count: int  # the inputs' rows come first: data, whose gradients nothing reads
    zeroed_rows: list  # slices of G to zero before backward (see micrograd.layout)
    # the rows a pass writes: all but those of inputs only a product reading its argument
    # itself uses (a first dense layer's), which stay untouched, and so unpaged, in V and G
    rows_in_use: int

    def listing(self) -> str:
        """The steps as they run: a matmul line per lifted linear map, a log_softmax line
        per log-softmax run as one step, a line per group."""
        from .listing import plan_listing

        return plan_listing(self)


@dataclass(frozen=True)
class _Candidate:
    """A sum that may join a linear map: its weights, inputs and bias terms, slot by slot."""

    instruction: Instruction
    weights: tuple[int, ...]
    columns: tuple[int, ...]
    biases: tuple[int, ...]


@dataclass(frozen=True)
class _Bank:
    """R x C candidates forming bias[r] + W[r] . X[c]; members[r][c] is one of them."""

    members: list[list[_Candidate]]


def fused_sums(instructions: list[Instruction], uses: list[int]) -> list[Instruction]:
    """The instructions with each chain ((t0 + t1) + t2) + ... whose partial sums are used
    once, by the next add, replaced by one SUM(t0, t1, t2, ...)."""
    terms_of: dict[int, list[int]] = {}
    kept: dict[int, Instruction] = {}
    for instruction in instructions:
        kept[instruction.output] = instruction
        if instruction.op is not ADD:
            continue
        partial, term = instruction.inputs
        if partial in terms_of and uses[partial] == 1:
            del kept[partial]
            terms_of[instruction.output] = terms_of.pop(partial) + [term]
        else:
            terms_of[instruction.output] = [partial, term]
    return [
        Instruction(SUM, tuple(terms_of[slot]), slot) if len(terms_of.get(slot, ())) > 2 else ins
        for slot, ins in kept.items()
    ]


def _kinds(program: Program) -> list[str]:
    first_op = program.first_operation
    return [
        "input" if s < program.first_parameter else "param" if s < program.first_constant
        else "const" if s < first_op else "op"
        for s in range(program.n_slots)
    ]  # fmt: skip


def _candidates(instructions, uses, kinds) -> tuple[list[_Candidate], dict[int, tuple]]:
    """Sums whose terms are all products parameter * number (each used by the sum alone) or
    bias terms (parameters, constants); and the products, by output slot."""
    products = {}
    for ins in instructions:
        if ins.op is MUL and uses[ins.output] == 1:
            a, b = ins.inputs
            if (kinds[a] == "param") != (kinds[b] == "param"):
                products[ins.output] = (a, b) if kinds[a] == "param" else (b, a)
    candidates = []
    for ins in instructions:
        if ins.op is not ADD and ins.op is not SUM:
            continue
        weights, columns, biases = [], [], []
        for term in ins.inputs:
            if term in products:
                weights.append(products[term][0])
                columns.append(products[term][1])
            elif kinds[term] in ("param", "const"):
                biases.append(term)
            else:
                break
        else:
            if weights:
                candidates.append(_Candidate(ins, tuple(weights), tuple(columns), tuple(biases)))
    return candidates, products


def _provisional_depths(instructions, kinds, candidates, products) -> list[int]:
    """Depth of each slot as if every candidate became a linear map (its products folded in,
    at no depth of their own): candidates that depend on one another differ in depth."""
    depth = [0] * len(kinds)
    sums = {c.instruction.output: c for c in candidates}
    for ins in instructions:
        if ins.output in sums:
            depth[ins.output] = 1 + max(depth[x] for x in sums[ins.output].columns)
        elif ins.output in products:
            depth[ins.output] = depth[products[ins.output][1]]
        else:
            depth[ins.output] = 1 + max(depth[i] for i in ins.inputs)
    return depth


def _banks(candidates: list[_Candidate], depth: list[int], needs: list[bool]) -> list[_Bank]:
    """The candidates that form full products bias[r] + W[r] . X[c], as banks."""
    by_key: dict[tuple, list[_Candidate]] = {}
    for c in candidates:
        key = (depth[c.instruction.output], len(c.weights), len(c.biases))
        by_key.setdefault(key, []).append(c)
    banks = []
    for group in by_key.values():
        for component in _components(group):
            banks += _as_banks(component, needs)
    return banks


def _components(group: list[_Candidate]) -> list[list[_Candidate]]:
    """The group split into sets linked by shared weights or shared inputs."""
    parent = list(range(len(group)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    first: dict[tuple, int] = {}
    for k, c in enumerate(group):
        for key in (("w", c.weights), ("x", c.columns)):
            if key in first:
                parent[root(k)] = root(first[key])
            else:
                first[key] = k
    components: dict[int, list[_Candidate]] = {}
    for k, c in enumerate(group):
        components.setdefault(root(k), []).append(c)
    return list(components.values())


def _as_banks(component: list[_Candidate], needs: list[bool]) -> list[_Bank]:
    """The component as banks: one per time the function computes the same sums (a model
    called twice on one input), each a full product. A bank's backward runs over the rows
    of W whose sums' gradient matters (runner.LinearStep.reach); where a row mixes sums
    whose gradient matters with sums whose gradient does not (positions of a convolution
    only a second output reads), it is split into a bank of each kind, where they form
    full products."""
    banks = []
    for repeat in _repeats(component):
        bank = _as_bank(repeat)
        if bank is None:
            continue
        if all(len({needs[c.instruction.output] for c in row}) == 1 for row in bank.members):
            banks.append(bank)
            continue
        for kind in (True, False):
            for piece in _components([c for c in repeat if needs[c.instruction.output] == kind]):
                bank = _as_bank(piece)
                if bank is not None:
                    banks.append(bank)
    return banks


def _repeats(component: list[_Candidate]) -> list[list[_Candidate]]:
    """The component's first sum of each (weights, inputs), then its second, ...: the same
    sums computed again (a model called twice on one input) are a bank of their own."""
    seen: dict[tuple, int] = {}
    repeats: list[list[_Candidate]] = []
    for c in component:
        k = seen[c.weights, c.columns] = seen.get((c.weights, c.columns), -1) + 1
        if k == len(repeats):
            repeats.append([])
        repeats[k].append(c)
    return repeats


def _as_bank(component: list[_Candidate]) -> _Bank | None:
    rows = list(dict.fromkeys(c.weights for c in component))
    cols = list(dict.fromkeys(c.columns for c in component))
    if len(component) != len(rows) * len(cols):
        return None
    at = {(c.weights, c.columns): c for c in component}
    if len(at) != len(component):
        return None
    members = [[at.get((w, x)) for x in cols] for w in rows]
    for row in members:
        if any(c is None or c.biases != row[0].biases for c in row):
            return None
    return _Bank(members)


@dataclass(frozen=True)
class LogSoftmax:
    """The instructions of one log_softmax(z) as nn.functional traces it, n >= 2:
    m = a tree of maximum over z; s = stop_gradient(m); d_i = z_i - s; e_i = exp(d_i);
    t = e_0 + ... + e_{n-1} (one SUM, or an add for two); l = log(t); out_i = d_i - l for
    the outputs something reads (a trace keeps no other: cross-entropy with a class index
    reads one)."""

    logits: tuple[int, ...]
    kept: tuple[int, ...]  # the i of each output, in order
    outputs: tuple[int, ...]
    instructions: tuple[Instruction, ...]  # all of them, in the program's order


def log_softmaxes(instructions: list[Instruction], uses: list[int], kinds) -> list[LogSoftmax]:
    """Every log_softmax among the instructions whose inner numbers (the tree's, s, each d_i,
    e_i, t and l) nothing else reads, its logits being per-sample rows."""
    made = {ins.output: ins for ins in instructions}
    outputs_of: dict[int, list[Instruction]] = {}  # l -> the subtractions d_i - l
    for ins in instructions:
        if ins.op is SUB:
            outputs_of.setdefault(ins.inputs[1], []).append(ins)
    found = []
    for ins in instructions:
        if ins.op is LOG:
            group = _log_softmax_at(ins, made, outputs_of.get(ins.output, []), uses, kinds)
            if group is not None:
                found.append(group)
    return found


def _log_softmax_at(log, made, subtractions, uses, kinds) -> LogSoftmax | None:
    """The LogSoftmax whose l is this log instruction, if the pattern holds whole."""
    total = made.get(log.inputs[0])
    # by identity: an op of one's own may have the symbol "+", and `in` would compare symbols
    if total is None or (total.op is not SUM and total.op is not ADD) or uses[total.output] != 1:
        return None
    exps = [made.get(term) for term in total.inputs]
    if any(e is None or e.op is not EXP or uses[e.output] != 1 for e in exps):
        return None
    shifts = [made.get(e.inputs[0]) for e in exps]
    if any(d is None or d.op is not SUB for d in shifts):
        return None
    shift = shifts[0].inputs[1]  # s, the same in every d_i
    stop = made.get(shift)
    if stop is None or stop.op is not STOP_GRADIENT or uses[shift] != len(shifts):
        return None
    out_of = {ins.inputs[0]: ins for ins in subtractions}  # d_i -> out_i = d_i - l
    finals = [out_of.get(d.output) for d in shifts]
    kept = tuple(i for i, f in enumerate(finals) if f is not None)
    if not kept or uses[log.output] != len(kept) or any(d.inputs[1] != shift for d in shifts):
        return None
    if any(uses[d.output] != 1 + (f is not None) for d, f in zip(shifts, finals)):
        return None  # d_i read by its exp and its output alone
    logits = tuple(d.inputs[0] for d in shifts)
    if any(kinds[z] not in ("input", "op") for z in logits):
        return None
    tree = _max_tree(stop.inputs[0], made, uses)
    if tree is None or sorted(_leaves(tree)) != sorted(logits):
        return None
    outputs = [finals[i] for i in kept]
    members = {*tree, stop, *shifts, *exps, total, log, *outputs}
    return LogSoftmax(
        logits=logits,
        kept=kept,
        outputs=tuple(f.output for f in outputs),
        instructions=tuple(sorted(members, key=lambda ins: ins.output)),
    )


def _max_tree(root: int, made, uses) -> list[Instruction] | None:
    """The maximum instructions that compute root from its leaves: every inner node a maximum
    that nothing else reads. None if root is no maximum."""
    top = made.get(root)
    if top is None or top.op is not MAXIMUM or uses[root] != 1:
        return None
    tree, waiting = [], [top]
    while waiting:
        ins = waiting.pop()
        tree.append(ins)
        for slot in ins.inputs:
            inner = made.get(slot)
            if inner is not None and inner.op is MAXIMUM and uses[slot] == 1:
                waiting.append(inner)
    return tree


def _leaves(tree: list[Instruction]) -> list[int]:
    inner = {ins.output for ins in tree}
    return [slot for ins in tree for slot in ins.inputs if slot not in inner]


def build_plan(program: Program, group: bool = True) -> Plan:
    """The plan that runs program over a batch (see the module's docstring)."""
    from .layout import lay_out

    kinds = _kinds(program)
    uses = [0] * program.n_slots
    for ins in program.instructions:
        for slot in ins.inputs:
            uses[slot] += 1
    for slot in program.outputs:
        uses[slot] += 1
    instructions = fused_sums(program.instructions, uses) if group else program.instructions
    banks: list[_Bank] = []
    softmaxes: list[LogSoftmax] = []
    if group:
        candidates, products = _candidates(instructions, uses, kinds)
        depth = _provisional_depths(instructions, kinds, candidates, products)
        banks = _banks(candidates, depth, program.needs_grad)
        softmaxes = log_softmaxes(instructions, uses, kinds)
    return lay_out(program, instructions, banks + softmaxes, kinds, group)
