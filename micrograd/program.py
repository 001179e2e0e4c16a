"""A traced function as a program: numbered slots and one instruction per primitive op.

``build_program`` traces a per-sample function (``micrograd.tracing``) and numbers the graph's
nodes: the inputs of one sample first, then the parameters (leaves the function captured),
then the constants, then one slot per op, in the order the ops were made. Its cost is linear
in the number of ops. ``micrograd.plan`` then turns the program into what runs over a batch.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from . import lecture
from .backward import topological_order
from .engine import Value
from .ops import CONST, LEAF, STOP_GRADIENT
from .tracing import TracingError, trace

__all__ = ["Instruction", "Program", "build_program"]


class Instruction(NamedTuple):
    """slots[output] = op(*[slots[i] for i in inputs])"""

    op: object  # an Op of micrograd.ops (or, in a plan, the compiler's own SUM)
    inputs: tuple[int, ...]
    output: int

    def __str__(self) -> str:
        arguments = ", ".join(f"v{slot}" for slot in self.inputs)
        return f"v{self.output} = {self.op.name}({arguments})"


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
    needs_grad: list[bool]  # per slot: does its gradient matter? (see _needs_grad)
    roots: list[Value] = field(repr=False)  # the traced graph, for drawing

    @property
    def n_slots(self) -> int:
        return len(self.needs_grad)

    @property
    def first_operation(self) -> int:
        return self.first_constant + len(self.constants)

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


def _operations(
    roots: list[Value], recorded: list[Value], inputs: set[Value]
) -> tuple[list[Value], list[Value]]:
    """(the op nodes the roots depend on, in creation order; the leaves they read). Nodes made
    before tracing and captured by the function come first, in topological order. An op
    node the trace did not record that reads the inputs was made in another thread, where
    no decision on them was checked: refused."""
    made_now = set(recorded)
    reachable = set(roots)
    captured: list[Value] = []  # op nodes made before tracing
    for node in reversed(recorded):  # creation order is topological: consumers come later
        if node in reachable:
            for parent in (node._a, node._b):
                if parent is not None:
                    reachable.add(parent)
                    if parent._a is not None and parent not in made_now:
                        captured.append(parent)
    captured += [root for root in roots if root._a is not None and root not in made_now]
    before: dict[Value, None] = {}
    for node in captured:
        before.update(dict.fromkeys(n for n in topological_order(node) if n not in before))
    lectured = next((n for n in before if n._op.derivative is None and n._a is not None), None)
    if lectured is not None:  # made the lecture's way, past the recorder: not another thread
        raise lecture.no_rule(lectured._op)
    elsewhere = next((n for n in before if n in inputs), None)
    if elsewhere is not None:
        raise TracingError(
            f"micrograd.compile: an op on input {elsewhere.label} was made outside this "
            "trace, in another thread, where Python's decisions on its number are not "
            "watched (and would be baked in for every sample): compute on the inputs in the "
            "thread that calls the compiled function"
        )
    operations = [n for n in before if n._a is not None]
    operations += [n for n in recorded if n in reachable and n._a is not None]
    leaves = [n for n in before if n._a is None]
    for node in operations:
        if node._op.derivative is None:  # a lecture node: its closure cannot run on arrays
            raise lecture.no_rule(node._op)
        for parent in (node._a, node._b):
            if parent is not None and parent._a is None:
                leaves.append(parent)
    leaves += [root for root in roots if root._a is None]
    return operations, leaves


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
    result, recorded, made = trace(fn, arguments)
    roots = _roots(result)
    inputs = {leaf for found in leaves_per_argument for leaf in found}
    operations, leaves = _operations(roots, recorded, inputs)
    _refuse_made_leaves(leaves, made)
    return _numbered(
        operations, leaves, leaves_per_argument, roots, isinstance(result, Value),
        static={all_names[k]: value for k, value in sorted(static.items())},
        argument_names=names, argument_shapes=shapes,
    )  # fmt: skip


def _refuse_made_leaves(leaves: list[Value], made: dict[Value, str]) -> None:
    """A TracingError naming the line, for a Value the traced function made itself (not from
    a number an op lifted) that its result reads: the compiled program would read it as a
    parameter, one number kept from call to call (and trained by an optimizer over
    parameters()), where the function run eagerly makes a new one each call. Which of the two
    was meant (a constant, or a parameter made on the first call) it cannot tell."""
    for leaf in leaves:
        if leaf in made:
            raise TracingError(
                f"micrograd.compile: {made[leaf]}: a Value made inside the traced function "
                f"({leaf!r}): compiled, it would be one parameter kept from call to call, where "
                "each eager call makes a new one. Use a plain number (0.0, not Value(0.0)) for "
                "a constant; make a parameter outside the function"
            )


def _numbered(operations, leaves, leaves_per_argument, roots, single, **described) -> Program:
    """The Program of these op nodes: inputs, parameters (by first use), constants (one slot
    per distinct number), then one slot per op."""
    read = set(leaves)
    slot_of: dict[Value, int] = {}
    inputs = []
    for argument, argument_leaves in enumerate(leaves_per_argument):
        for position, leaf in enumerate(argument_leaves):
            if leaf in read:
                slot_of[leaf] = len(slot_of)
                inputs.append((slot_of[leaf], argument, position))
    parameters = list(dict.fromkeys(n for n in leaves if n._op is LEAF and n not in slot_of))
    first_parameter = len(slot_of)
    for node in parameters:
        slot_of[node] = len(slot_of)
    first_constant = len(slot_of)
    constants: dict[str, int] = {}
    for node in leaves:
        if node._op is CONST:
            key = repr(node._data)
            slot_of[node] = constants.setdefault(key, first_constant + len(constants))
    first_operation = first_constant + len(constants)
    for k, node in enumerate(operations):
        slot_of[node] = first_operation + k
    instructions = [
        Instruction(
            n._op, (slot_of[n._a],) if n._b is None else (slot_of[n._a], slot_of[n._b]), slot_of[n]
        )  # fmt: skip
        for n in operations
    ]
    outputs = [slot_of[root] for root in roots]
    return Program(
        **described,
        inputs=inputs,
        parameters=parameters,
        first_parameter=first_parameter,
        constants=[float(key) for key in constants],
        first_constant=first_constant,
        instructions=instructions,
        outputs=outputs,
        single_output=single,
        needs_grad=_needs_grad(
            instructions,
            outputs,
            range(first_parameter, first_constant),
            first_operation + len(instructions),
        ),
        roots=roots,
    )


def _needs_grad(instructions, outputs, parameters: range, n_slots: int) -> list[bool]:
    """Per slot: does its gradient matter? It does if the slot depends on a parameter and the
    first output, which backward starts from, depends on the slot other than through a
    stop_gradient, which passes no gradient. The other outputs' own steps run no backward:
    their gradient is zero, and a rule's zero times an inf would send a nan back where the
    eager walk, which never visits them, sends nothing."""
    depends = [slot in parameters for slot in range(n_slots)]
    for instruction in instructions:
        depends[instruction.output] = any(depends[i] for i in instruction.inputs)
    reached = [False] * n_slots
    for slot in outputs[:1]:
        reached[slot] = True
    for instruction in reversed(instructions):
        if reached[instruction.output] and instruction.op is not STOP_GRADIENT:
            for i in instruction.inputs:
                reached[i] = True
    return [d and r for d, r in zip(depends, reached)]
