"""micrograd.compile on random graphs built from every op: the compiled batch against the eager
engine sample by sample (1e-12 relative) and against PyTorch float64 on the whole batch (each
op at its awkward points, compiled, is checked by test_ops through check_op)."""

from __future__ import annotations

import contextlib
from unittest import mock

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from op_cases import CASES, GRAPH_FORMS
from oracle import same

import micrograd
import micrograd.runner
from micrograd import OPS, Value

# Each op on Values, applied to raw operands: nan and inf are allowed to appear, and must
# appear identically in the compiled batch and the eager engine.
RAW = {name: (case.ours, case.torch) for name, case in CASES.items()}
# The same ops on the gentle domains of their cases, so that graphs compared with PyTorch
# mostly stay finite and a mismatch means something.
GENTLE = GRAPH_FORMS
BINARY = {name for name, op in OPS.items() if op.arity == 2}


def test_the_generator_uses_every_op():
    assert sorted(RAW) == sorted(GENTLE) == sorted(OPS)


@st.composite
def problems(draw):
    """(inputs (batch, k), parameter values, steps); a step is (op, operand, operand or
    constant), operands indexing inputs, then parameters, then earlier steps."""
    k = draw(st.integers(1, 3))
    batch = draw(st.integers(1, 5))
    # Tiny magnitudes are left out: dividing by 1e-80 makes gradients near 1e80 that cancel,
    # and what survives a cancellation depends on the order of summation, which legitimately
    # differs between the engines (PyTorch's order gives yet another answer).
    sizeable = st.floats(-3.0, 3.0).filter(lambda v: abs(v) >= 1e-3)
    number = st.one_of(sizeable, st.sampled_from([0.0, 1.0, -1.0]))
    inputs = draw(
        st.lists(st.lists(number, min_size=k, max_size=k), min_size=batch, max_size=batch)
    )
    parameters = draw(st.lists(number, min_size=1, max_size=3))
    steps = []
    for n in range(draw(st.integers(1, 25))):
        available = k + len(parameters) + n
        name = draw(st.sampled_from(sorted(OPS)))
        a = draw(st.integers(0, available - 1))
        b = None
        if name in BINARY:
            operand = st.integers(0, available - 1)
            b = draw(st.one_of(operand, st.sampled_from([2.0, 0.5, -1.5, 0.01])))
        steps.append((name, a, b))
    return np.array(inputs), parameters, steps


def run(steps, x: list, parameters: list, table: dict, side: int):
    """The program on one sample's Values (or the batch's columns as tensors): the sum of
    its last three nodes."""
    nodes = [*x, *parameters]
    for name, a, b in steps:
        if b is None:
            nodes.append(table[name][side](nodes[a]))
        else:
            other = nodes[b] if isinstance(b, int) else b
            nodes.append(table[name][side](nodes[a], other))
    last = nodes[-3:]
    return sum(last[1:], last[0])


def eager(steps, inputs: np.ndarray, parameters: list[Value], table: dict):
    """The eager engine, one graph per sample, mean over the batch: (loss, gradients)."""
    losses = [run(steps, [Value(v) for v in row], parameters, table, 0) for row in inputs.tolist()]
    loss = sum(losses[1:], losses[0]) / len(losses)
    loss.backward()
    return loss.data, [p.grad for p in parameters]


def close(ours: float, theirs: float, rel: float) -> bool:
    return same(ours, theirs, rel=rel, abs_tol=rel)


def kernels_on_any_size(on: bool):
    """The runner uses micrograd.kernels on big arrays only; these batches are small, so
    half the examples lower the bar to run the kernels too."""
    if not on:
        return contextlib.nullcontext()
    return mock.patch.object(micrograd.runner, "KERNEL_NUMBERS", 0)


@settings(max_examples=150)
@given(problems(), st.booleans(), st.booleans())
def test_random_graphs_match_the_eager_engine(problem, group, kernels):
    inputs, values, steps = problem
    parameters = [Value(v) for v in values]
    step = micrograd.compile(lambda x: run(steps, x, parameters, RAW, 0), group=group)
    with kernels_on_any_size(kernels):
        loss = step(inputs)
    grads = [p.grad for p in parameters]
    for p in parameters:
        p.grad = 0.0
    e_loss, e_grads = eager(steps, inputs, parameters, RAW)
    assert close(loss, e_loss, 1e-12), (loss, e_loss)
    for ours, theirs in zip(grads, e_grads):
        assert close(ours, theirs, 1e-12), (grads, e_grads)


@settings(max_examples=60)
@given(problems(), st.booleans(), st.booleans())
def test_random_graphs_match_torch(problem, group, kernels):
    inputs, values, steps = problem
    parameters = [Value(v) for v in values]
    step = micrograd.compile(lambda x: run(steps, x, parameters, GENTLE, 0), group=group)
    with kernels_on_any_size(kernels):
        loss = step(inputs)
    t_parameters = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    columns = list(torch.tensor(inputs, dtype=torch.float64).T)
    t_loss = run(steps, columns, t_parameters, GENTLE, 1).mean()
    if t_loss.requires_grad:  # else no parameter is used, and every gradient is 0
        t_loss.backward()
    assert close(loss, t_loss.item(), 1e-9), (loss, t_loss.item())
    for p, tp in zip(parameters, t_parameters):
        t_grad = 0.0 if tp.grad is None else tp.grad.item()
        assert close(p.grad, t_grad, 1e-9), (p.grad, t_grad)
