"""A traced function as a program: numbered slots and one instruction per primitive op.

``build_program`` traces a per-sample function (``micrograd.tracing``) and numbers the graph's
nodes: the inputs of one sample first, then the parameters (leaves the function captured),
then the constants, then one slot per op, in the order the ops were made. ``Program.groups``
gives the schedule that ``micrograd.arraymath.GroupedRunner`` runs: instructions of one op
at one depth together, so that each group is one numpy call.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

from . import lecture
from .backward import topological_order
from .engine import Value
from .ops import ADD, CONST, LEAF, Op, ops_name
from .tracing import trace

__all__ = ["Instruction", "Program", "SUM", "build_program", "fused_sums", "group_order"]


@dataclass(frozen=True)
class Instruction:
    """slots[output] = op(*[slots[i] for i in inputs])"""

    op: Op
    inputs: tuple[int, ...]
    output: int

    def __str__(self) -> str:
        arguments = ", ".join(f"v{slot}" for slot in self.inputs)
        return f"v{self.output} = {ops_name(self.op)}({arguments})"


@dataclass
class Program:
    """A traced function as straight-line code over numbered slots.

    Slots are numbered inputs first, then parameters, then constants, then op results.
    """

    static: dict[str, object]  # arguments baked in as plain values, by name
    argument_names: list[str]  # the traced arguments
    argument_shapes: tuple[tuple[int, ...], ...]
    inputs: list[tuple[int, int, int]]  # (slot, argument index, flat position in it)
    parameters: list[Value]  # parameter k lives in slot first_parameter + k
    first_parameter: int
    constants: list[float]  # constant k lives in slot first_constant + k
    first_constant: int
    instructions: list[Instruction]
    outputs: list[int]
    single_output: bool  # fn returned one Value rather than a list
    needs_grad: list[bool]  # per slot: does it depend on a parameter?
    roots: list[Value] = field(repr=False)  # the traced graph, for drawing

    @property
    def n_slots(self) -> int:
        return len(self.needs_grad)

    def groups(self, fuse_sums: bool = False) -> list[list[Instruction]]:
        """The instructions in groups of one op at one depth, shallowest first; with
        fuse_sums, chains of adds first become one sum each (see fused_sums)."""
        instructions = fused_sums(self) if fuse_sums else self.instructions
        depth = [0] * self.n_slots
        for instruction in instructions:
            depth[instruction.output] = 1 + max(depth[i] for i in instruction.inputs)
        return group_order(
            instructions, lambda ins: depth[ins.output], lambda ins: (id(ins.op), len(ins.inputs))
        )

    def listing(self) -> str:
        """The program as Python-like straight-line code, one line per slot."""
        lines = [f"def traced({', '.join(self.argument_names)}):"]
        lines += [f"    # {name} = {value!r}, static" for name, value in self.static.items()]
        for slot, argument, position in self.inputs:
            name = self.argument_names[argument]
            index = _unflatten(position, self.argument_shapes[argument])
            lines.append(f"    v{slot} = {name}{''.join(f'[{i}]' for i in index)}")
        for k, parameter in enumerate(self.parameters):
            note = f"  # {parameter.label}" if parameter.label else ""
            lines.append(f"    v{self.first_parameter + k} = parameters[{k}]{note}")
        for k, number in enumerate(self.constants):
            lines.append(f"    v{self.first_constant + k} = {number!r}")
        lines += [f"    {instruction}" for instruction in self.instructions]
        returned = ", ".join(f"v{slot}" for slot in self.outputs)
        lines.append(f"    return {returned if self.single_output else f'[{returned}]'}")
        return "\n".join(lines)


class _FusedSum:
    """t0 + t1 + ... + tn, added left to right: a compiler-only op, not in the engine's table.

    It stands for a left-leaning chain of adds whose partial sums feed nothing else. Adding
    the terms in order rounds exactly as the chain did, and an add hands its gradient
    unchanged to both inputs, so every term gets the sum's gradient: one numpy call then
    replaces a chain of adds as deep as the neuron is wide.
    """

    @staticmethod
    def forward(F, *terms):
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total

    @staticmethod
    def derivative(F, g, out, *terms):
        return (g,) * len(terms)

    def __str__(self) -> str:
        return "sum"


SUM = _FusedSum()


def fused_sums(program: Program) -> list[Instruction]:
    """The program's instructions with each chain ((t0 + t1) + t2) + ... whose partial sums
    are used once, by the next add, replaced by one SUM(t0, t1, t2, ...)."""
    uses = [0] * program.n_slots
    for instruction in program.instructions:
        for slot in instruction.inputs:
            uses[slot] += 1
    for slot in program.outputs:
        uses[slot] += 1
    terms_of: dict[int, list[int]] = {}  # output slot of a (possibly fused) add -> its terms
    kept: dict[int, Instruction] = {}  # output slot -> instruction, in creation order
    for instruction in program.instructions:
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
        Instruction(SUM, tuple(terms_of[slot]), slot)
        if slot in terms_of and len(terms_of[slot]) > 2
        else instruction
        for slot, instruction in kept.items()
    ]


def _unflatten(position: int, shape: tuple[int, ...]) -> list[int]:
    index = []
    for size in reversed(shape):
        position, i = divmod(position, size)
        index.append(i)
    return index[::-1]


def _input_leaves(shape: tuple[int, ...], example: list[float], name: str, found: list):
    """Leaves for one argument of one sample, nested as the shape says (a lone Value for ())."""
    if not shape:
        leaf = Value(example[len(found)], label=name)
        found.append(leaf)
        return leaf
    return [_input_leaves(shape[1:], example, f"{name}[{i}]", found) for i in range(shape[0])]


def _argument_names(fn: Callable, count: int) -> list[str]:
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    positional = [
        p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return [positional[i] if i < len(positional) else f"arg{i}" for i in range(count)]


def group_order(nodes: list, depth_of: Callable, op_of: Callable) -> list[list]:
    """nodes split into groups of one op at one depth (1 + the deepest input; leaves are 0),
    by depth, then by first appearance; no node in a group depends on another in it."""
    groups: dict[tuple, list] = {}
    for node in nodes:
        groups.setdefault((depth_of(node), op_of(node)), []).append(node)
    order = sorted(groups, key=lambda key: key[0])  # stable: first appearance within a depth
    return [groups[key] for key in order]


def _roots(result: object) -> list[Value]:
    roots = [result] if isinstance(result, Value) else None
    if isinstance(result, (list, tuple)) and all(isinstance(r, Value) for r in result):
        roots = list(result)
    if not roots:
        raise TypeError(
            "micrograd.compile: the function must return a Value or a non-empty list of "
            f"Values for one sample, got {type(result).__name__}"
        )
    return roots


def build_program(
    fn: Callable, shapes: tuple[tuple[int, ...], ...], examples: list, static: dict | None = None
) -> Program:
    """Trace fn on one sample into a Program. shapes[i] and examples[i] (its flat numbers)
    describe the i-th traced argument; static maps the positions of the other arguments to
    the plain values they take, baked into this program."""
    static = static or {}
    all_names = _argument_names(fn, len(shapes) + len(static))
    names = [name for k, name in enumerate(all_names) if k not in static]
    leaves_per_argument: list[list[Value]] = []
    traced_arguments = []
    for name, shape, example in zip(names, shapes, examples):
        found: list[Value] = []
        traced_arguments.append(_input_leaves(shape, example, name, found))
        leaves_per_argument.append(found)
    remaining = iter(traced_arguments)
    arguments = [static[k] if k in static else next(remaining) for k in range(len(all_names))]
    result, recorded = trace(fn, arguments)
    roots = _roots(result)
    reachable: dict[Value, None] = {}
    for root in roots:
        reachable.update(dict.fromkeys(topological_order(root)))
    # Ops in creation order, so the listing reads like the code that made them; nodes made
    # before tracing (captured by the function) go first, in topological order.
    made_now = dict.fromkeys(recorded)
    operations = [n for n in reachable if n._prev and n not in made_now]
    operations += [n for n in made_now if n in reachable]
    for node in operations:
        if node._op.derivative is None:  # a lecture node: its closure cannot run on arrays
            raise lecture.no_rule(node._op)
    depth: dict[Value, int] = {}
    for node in operations:
        depth[node] = 1 + max(depth.get(parent, 0) for parent in node._prev)
    grouped = group_order(operations, depth.__getitem__, lambda node: id(node._op))

    slot_of: dict[Value, int] = {}
    inputs = []
    for argument, leaves in enumerate(leaves_per_argument):
        for position, leaf in enumerate(leaves):
            if leaf in reachable:
                slot_of[leaf] = len(slot_of)
                inputs.append((slot_of[leaf], argument, position))
    # Parameters and constants are numbered by first use in grouped order, so that a group
    # (the weights of all the neurons of a layer) tends to read one contiguous run of slots.
    used = [
        node._prev[position]
        for group in grouped
        for position in range(len(group[0]._prev))
        for node in group
        if not node._prev[position]._prev
    ]
    used += [root for root in roots if not root._prev]
    parameters = list(dict.fromkeys(n for n in used if n._op is LEAF and n not in slot_of))
    first_parameter = len(slot_of)
    for node in parameters:
        slot_of[node] = len(slot_of)
    first_constant = len(slot_of)
    constants: dict[str, int] = {}  # one slot per distinct number
    for node in used:
        if node._op is CONST:
            key = repr(node.data)
            if key not in constants:
                constants[key] = first_constant + len(constants)
            slot_of[node] = constants[key]
    first_operation = first_constant + len(constants)
    for k, node in enumerate(operations):
        slot_of[node] = first_operation + k
    instructions = [
        Instruction(n._op, tuple(slot_of[p] for p in n._prev), slot_of[n]) for n in operations
    ]
    needs_grad = [False] * (first_operation + len(operations))
    for slot in range(first_parameter, first_constant):
        needs_grad[slot] = True
    for instruction in instructions:
        needs_grad[instruction.output] = any(needs_grad[i] for i in instruction.inputs)
    return Program(
        static={all_names[k]: value for k, value in sorted(static.items())},
        argument_names=names,
        argument_shapes=shapes,
        inputs=inputs,
        parameters=parameters,
        first_parameter=first_parameter,
        constants=[float(key) for key in constants],
        first_constant=first_constant,
        instructions=instructions,
        outputs=[slot_of[root] for root in roots],
        single_output=isinstance(result, Value),
        needs_grad=needs_grad,
        roots=roots,
    )
