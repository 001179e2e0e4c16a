"""A plan as text: one line per step, in the program's own slot numbers (v12), so that it
reads next to ``Program.listing()``: a ``matmul`` line for each lifted linear map, a
``log_softmax`` line for each log-softmax run as one step, a line for each group of one op."""

from __future__ import annotations

from .runner import LinearStep, LogSoftmaxStep

__all__ = ["plan_listing"]


def slots_text(slots: list[int]) -> str:
    """v3..v18 for a run, v3, v9 for a few, v3, v9, ... (40 slots) for many."""
    slots = list(slots)
    if len(slots) > 2 and slots == list(range(slots[0], slots[0] + len(slots))):
        return f"v{slots[0]}..v{slots[-1]}"
    if len(slots) <= 4:
        return ", ".join(f"v{s}" for s in slots)
    return f"v{slots[0]}, v{slots[1]}, ... ({len(slots)} slots)"


MANY_TERMS = 16  # a step of more inputs lists its first two and how many


def _linear_line(step: LinearStep) -> str:
    R, C, T = step.shape
    weights, columns = step.terms
    outputs = [ins.output for ins in step.instructions]
    sums = "1 sum" if R * C == 1 else f"{R} sums" if C == 1 else f"{R} x {C} sums"
    what = f"{sums} of {T} products"
    line = f"{slots_text(outputs)} = matmul(W {R}x{T}: {slots_text(weights)}, "
    line += f"x {C}x{T}: {slots_text(columns)})" if C > 1 else f"x: {slots_text(columns)})"
    if step.bias is not None or step.folded:
        line += " + bias"
    return f"{line}  # {what}"


def _log_softmax_line(step: LogSoftmaxStep) -> str:
    logits, outputs = step.slots
    exps = step.logits.count  # every logit's, whichever outputs are read
    what = f"{len(step.instructions)} instructions: the max, {exps} exps, their sum, its log"
    return f"{slots_text(outputs)} = log_softmax({slots_text(logits)})  # {what}"


def plan_listing(plan) -> str:
    program = plan.program
    steps, count = len(plan.steps), len(program.instructions)
    lines = [
        f"# {count} instruction{'s' * (count != 1)}, run as {steps} step{'s' * (steps != 1)} "
        f"({sum(isinstance(s, LinearStep) for s in plan.steps)} of them matrix products)"
    ]
    for step in plan.steps:
        if isinstance(step, LinearStep):
            lines.append(_linear_line(step))
            continue
        if isinstance(step, LogSoftmaxStep):
            lines.append(_log_softmax_line(step))
            continue
        if not step.instructions:  # COPY: the function returns a parameter or a constant
            lines.append(f"outputs = copy({step.count} returned parameter(s) or constant(s))")
            continue
        outputs = [ins.output for ins in step.instructions]
        arity = len(step.instructions[0].inputs)
        columns = [[ins.inputs[k] for ins in step.instructions] for k in range(arity)]
        shown = columns if arity <= MANY_TERMS else columns[:2]
        # an input's slots, one per output, bracketed where there are several, so
        # that mul([v0, v2], [v1, v0]) reads as two inputs, not four
        several = len(outputs) > 1
        arguments = ", ".join(
            f"[{slots_text(slots)}]" if several else slots_text(slots) for slots in shown
        )
        if arity > MANY_TERMS:  # a sum over a model's parameters: its first terms and count
            arguments += f", ... ({arity} terms)"
        name = step.op.name if hasattr(step, "op") else "sum"
        lines.append(f"{slots_text(outputs)} = {name}({arguments})")
    return "\n".join(lines)
