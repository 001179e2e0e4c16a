"""Random expression graphs built from every op, with shared subexpressions and reused
leaves: values, gradients and second derivatives against PyTorch float64."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from op_cases import GRAPH_FORMS
from oracle import same, tensors, torch_grads

from micrograd import OPS, Value, grad

# Each op once for Values and once for tensors, on the gentle domain of its case (log of
# |x| + 0.5, a bounded exponent, ...) so that most graphs stay finite and the comparison
# means something; the nan/inf corners are covered point by point by test_ops' check_op.
UNARY = {name: forms for name, forms in GRAPH_FORMS.items() if OPS[name].arity == 1}
BINARY = {name: forms for name, forms in GRAPH_FORMS.items() if OPS[name].arity == 2}


def test_the_generator_uses_every_op():
    assert sorted({**UNARY, **BINARY}) == sorted(OPS)


@st.composite
def programs(draw):
    """(leaf values, steps): each step applies an op to earlier nodes, or to a constant."""
    leaves = draw(st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=4))
    steps = []
    for k in range(draw(st.integers(1, 50))):
        available = len(leaves) + k
        name = draw(st.sampled_from(sorted({**UNARY, **BINARY})))
        a = draw(st.integers(0, available - 1))
        if name in UNARY:
            steps.append((name, a, None))
        elif draw(st.booleans()):
            steps.append((name, a, draw(st.integers(0, available - 1))))
        else:
            steps.append((name, a, draw(st.sampled_from([0.5, -1.5, 2.0]))))
    return leaves, steps


def run(program, inputs, table_index, constant):
    """Evaluate the program on inputs (Values or tensors); the sum of its last few nodes."""
    nodes = list(inputs)
    for name, a, b in program:
        if name in UNARY:
            nodes.append(UNARY[name][table_index](nodes[a]))
        else:
            other = nodes[b] if isinstance(b, int) else constant(b)
            nodes.append(BINARY[name][table_index](nodes[a], other))
    return sum(nodes[-3:][1:], nodes[-3:][0])


def close(ours: float, theirs: float) -> bool:
    return same(ours, theirs, rel=1e-9, abs_tol=1e-9)


@settings(max_examples=500)
@given(programs())
def test_random_graphs_match_torch_to_second_order(program):
    leaves, steps = program
    xs = [Value(x) for x in leaves]
    ts = tensors(*leaves)
    ours = run(steps, xs, 0, Value)
    theirs = run(steps, ts, 1, lambda c: torch.tensor(c, dtype=torch.float64))
    assert close(ours.data, theirs.item()), (ours.data, theirs.item())

    first = grad(ours, xs, create_graph=True)
    t_first = torch_grads(theirs, ts, create_graph=True)
    for g, tg in zip(first, t_first):
        g_data = g.data if isinstance(g, Value) else g
        assert close(g_data, tg.item()), (g_data, tg.item())
        second = grad(g, xs) if isinstance(g, Value) else [0.0] * len(xs)
        t_second = torch_grads(tg, ts) if tg.requires_grad else [torch.zeros(())] * len(ts)
        for h, th in zip(second, t_second):
            assert close(h, th.item()), (h, th.item())

    # backward() agrees with grad() on the same graph
    ours.backward()
    for x, g in zip(xs, first):
        assert close(x.grad, g.data if isinstance(g, Value) else g)
