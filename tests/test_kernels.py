"""The kernels of micrograd.kernels against their ops' rules on arrays, bit for bit: a kernel
is the rule computed in fewer passes, so every number it gives, signs of zeros and nan
payloads included, must be the one the rule gives (the rules themselves are checked against
PyTorch in test_ops)."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd
from micrograd import OPS, Value
from micrograd.arraymath import ARRAY
from micrograd.kernels import KERNELS, kernel_of
from micrograd.ops import Op

KERNELS_BY_NAME = {kernel.op.name: kernel for kernel in KERNELS}


def nan_with(payload: int, negative: bool = False) -> float:
    bits = 0x7FF8000000000000 | payload | (1 << 63 if negative else 0)
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


AWKWARD = [
    0.0, -0.0, 1.5, -1.5, 2.0, -2.0, 5e-324, -5e-324, 1e308, -1e308, math.inf, -math.inf,
    math.nan, nan_with(1), nan_with(12345, negative=True),
]  # fmt: skip


def bits(x) -> np.ndarray:
    return np.ascontiguousarray(np.broadcast_to(x, np.shape(x)), dtype=np.float64).view(np.int64)


def assert_same_bits(ours, theirs, what: str) -> None:
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    shape = np.broadcast_shapes(ours.shape, theirs.shape)
    assert ours.shape == shape, (what, ours.shape, theirs.shape)
    theirs = np.broadcast_to(theirs, shape)
    mismatch = bits(ours) != bits(theirs)
    assert not mismatch.any(), (what, ours[mismatch][:5], theirs[mismatch][:5])


def check(kernel, inputs: list[np.ndarray], g: np.ndarray) -> None:
    """The kernel's forward and derivative (its select by its mask) against the rule's, on
    these inputs and gradient."""
    op = kernel.op
    shape = np.broadcast_shapes(*(np.shape(x) for x in inputs))
    out = np.full(shape, 7.0)
    kernel.forward(out, *inputs)
    assert_same_bits(out, op.forward(ARRAY, *inputs), f"{op.name} forward")
    if kernel.select is None:
        return
    mask = kernel.mask(out, *inputs)
    ours = kernel.select(g, mask, [None] * op.arity)
    theirs = op.derivative(ARRAY, g, out, *inputs)
    assert len(ours) == len(theirs) == op.arity
    for k, (mine, rule) in enumerate(zip(ours, theirs)):
        assert_same_bits(mine, np.broadcast_to(rule, shape), f"{op.name} derivative {k}")
    # written into the gradients' own rows (what the runner does for rows no other step reads)
    into = [np.full(shape, 7.0) for _ in inputs]
    kernel.select(g, mask, into)
    for k, (written, rule) in enumerate(zip(into, theirs)):
        assert_same_bits(written, np.broadcast_to(rule, shape), f"{op.name} derivative {k} into")


def test_every_kernel_is_a_row_of_the_op_table():
    assert KERNELS_BY_NAME and all(OPS[k.op.name] is k.op for k in KERNELS)


@pytest.mark.parametrize("name", sorted(KERNELS_BY_NAME))
@pytest.mark.parametrize("length", [1, 3, 7, 8, 9, 16, 17, 63, 64, 65])  # vector loops' tails
def test_every_pairing_of_awkward_numbers_gives_the_rules_bits(name, length):
    kernel = KERNELS_BY_NAME[name]
    grid = np.array(AWKWARD)
    pairs = np.array(np.meshgrid(grid, grid)).reshape(2, -1)  # every (a, b) of the grid
    rng = np.random.default_rng(length)
    reps = -(-length // pairs.shape[1]) + 1
    for offset in range(0, pairs.shape[1], length):
        a, b = (np.tile(p, reps)[offset : offset + length][None, :] for p in pairs)
        g = rng.choice(AWKWARD, size=a.shape)
        check(kernel, [a, b][: kernel.op.arity], g)


@pytest.mark.parametrize("name", sorted(KERNELS_BY_NAME))
def test_plain_numbers_with_ties_and_broadcasts(name):
    """Big arrays of ordinary numbers, where the kernels take their fast path: ties between
    equal numbers (pooling over relu's zeros), and inputs that broadcast (a constant, a row)."""
    kernel = KERNELS_BY_NAME[name]
    rng = np.random.default_rng(1)
    a = np.maximum(rng.normal(size=(32, 300)), 0.0)  # many ties at +0.0
    b = np.maximum(rng.normal(size=(32, 300)), 0.0)
    b[:, ::7] = a[:, ::7]
    g = rng.normal(size=(32, 300))
    if kernel.op.arity == 1:
        check(kernel, [rng.normal(size=(32, 300))], g)
        return
    for first, second in [(a, b), (a, b[:1]), (a[:, :1], b), (a, np.array([[0.5]]))]:
        check(kernel, [first, second], g)


@pytest.mark.parametrize("name", sorted(KERNELS_BY_NAME))
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_random_arrays_give_the_rules_bits(name, data):
    kernel = KERNELS_BY_NAME[name]
    numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(AWKWARD))
    n = data.draw(st.integers(1, 40))
    inputs = [
        np.array(data.draw(st.lists(numbers, min_size=n, max_size=n)))[None, :]
        for _ in range(kernel.op.arity)
    ]
    g = np.array(data.draw(st.lists(numbers, min_size=n, max_size=n)))[None, :]
    check(kernel, inputs, g)


def test_an_op_of_ones_own_with_a_kernels_symbol_keeps_its_own_rule():
    doubled = Op("relu", 1, lambda F, a: a * 2.0, lambda F, g, out, a: (g * 2.0,), "2a")
    assert kernel_of(doubled) is None and kernel_of(OPS["relu"]) is not None
    x = Value(0.0)
    step = micrograd.compile(lambda v: doubled(v) + x)
    assert step(np.array([-1.5, 3.0])) == pytest.approx(1.5)
    assert x.grad == 1.0
