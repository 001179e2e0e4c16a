# ruff: noqa: B018, E402
# %% [markdown]
# # 1. A Value, and backpropagation by hand
#
# A neural network is a big mathematical expression. Training it means asking, for every
# number in that expression, "if I nudge this a little, how does the output move?" That
# question is the **derivative**, and **backpropagation** is the trick that answers it for
# every number at once, in one sweep backwards through the expression.
#
# This notebook builds that idea from scratch with the smallest possible tool: `Value`, one
# number that remembers how it was computed.

# %%
from micrograd import Value

a = Value(2.0, label="a")
a

# %% [markdown]
# A `Value` holds its number in `.data`. Its `.grad` will hold a derivative later; for now it is
# zero. Doing arithmetic with Values gives new Values:

# %%
b = Value(-3.0, label="b")
c = Value(10.0, label="c")
e = a * b
e.label = "e"
d = e + c
d.label = "d"
f = Value(-2.0, label="f")
L = d * f
L.label = "L"
print(L)

# %% [markdown]
# `L` is just -8.0, but it also remembers **how** it was made: by which operation (`_op`) and
# from which inputs (`_prev`). Following `_prev` backwards from `L` walks the whole expression,
# which is a small graph:
#
# ```
#  a ─┐
#     ├─ * ─> e ─┐
#  b ─┘          ├─ + ─> d ─┐
#           c ───┘          ├─ * ─> L
#                      f ───┘
# ```

# %%
print("L was made by", repr(str(L._op)), "from", [node.label for node in L._prev])
print("d was made by", repr(str(d._op)), "from", [node.label for node in d._prev])
print("a was made by", repr(str(a._op)), "(nothing: it is a leaf, typed in by us)")

# %% [markdown]
# ## The chain rule, by hand
#
# We want dL/da, dL/db, dL/dc and dL/df. Start at the end and work backwards, one node at a time.
# Each operation only needs to know its *own* local derivative:
#
# * `L = d * f`, so dL/dd = f = -2 and dL/df = d = 4.
# * `d = e + c`: a sum passes its gradient through unchanged, so dL/de = dL/dc = dL/dd = -2.
# * `e = a * b`: dL/da = dL/de · b = -2 · -3 = 6, and dL/db = dL/de · a = -2 · 2 = -4.
#
# That multiplication of "gradient arriving from above" by "local derivative" is the **chain
# rule**, and it is all backpropagation does.

# %%
by_hand = {
    "a": -2.0 * b.data,  # dL/de * de/da
    "b": -2.0 * a.data,  # dL/de * de/db
    "c": f.data,  # dL/dd * dd/dc, and dd/dc = 1
    "f": d.data,  # dL/df
}
by_hand

# %% [markdown]
# ## Now let the engine do it
#
# `L.backward()` does exactly the sweep above, for every node, and stores each result in `.grad`.

# %%
L.backward()
for node in (a, b, c, f, e, d, L):
    print(f"dL/d{node.label} = {node.grad:5.1f}")

# %% [markdown]
# The four gradients of the leaves match our hand computation. The engine also filled in the
# gradients of the intermediate nodes `e` and `d`, and dL/dL = 1, where every backward pass starts.
#
# The order matters: a node may only pass its gradient on once it has received everything from
# above. `topological_order` lists the nodes so that each comes after all of its inputs;
# `backward()` walks that list in reverse.

# %%
from micrograd import topological_order

[node.label for node in topological_order(L)]

# %% [markdown]
# ## Checking against finite differences
#
# How do we know any of this is right? By the definition of a derivative: nudge one input by a
# tiny `h` up and down, recompute, and divide the change in the output by `2h`. This *central
# difference* needs no calculus at all, just two more evaluations per input.


# %%
def expression(a, b, c, f):
    return (a * b + c) * f


h = 1e-6
inputs = {"a": 2.0, "b": -3.0, "c": 10.0, "f": -2.0}
for name, node in zip(inputs, (a, b, c, f)):
    up = dict(inputs, **{name: inputs[name] + h})
    down = dict(inputs, **{name: inputs[name] - h})
    numeric = (expression(**up) - expression(**down)) / (2 * h)
    print(f"d/d{name}: backward {node.grad:+.6f}   finite difference {numeric:+.6f}")

# %% [markdown]
# They agree to six digits. Finite differences are slow (two evaluations per input; a network
# has thousands of inputs) and slightly inexact, which is why we backpropagate instead, but they
# make a perfect referee. `micrograd.gradcheck` does this check for you, and checks second
# derivatives too:

# %%
from micrograd import gradcheck

gradcheck(expression, [2.0, -3.0, 10.0, -2.0])

# %% [markdown]
# ## Gradients add up
#
# When a Value is used twice, its gradient is the **sum** of what flows back along each use.
# `y = x + x` is `2x`, so dy/dx must be 2, not 1:

# %%
x = Value(3.0, label="x")
y = x + x
y.backward()
x.grad

# %% [markdown]
# One consequence: gradients of leaves keep accumulating over several `backward()` calls, just as
# in PyTorch. Before computing a fresh gradient you set them back to zero, which is what
# `zero_grad()` does in a training loop.

# %%
y = x + x
y.backward()
print("after a second backward():", x.grad)
x.grad = 0.0
y = x + x
y.backward()
print("after zeroing, then backward():", x.grad)

# %% [markdown]
# ## A neuron
#
# A neuron takes inputs `x1, x2`, multiplies each by a weight, adds a bias and squashes the
# sum with `tanh`: `o = tanh(w1*x1 + w2*x2 + b)`. The numbers below are chosen so that the
# sum `n` comes out at 0.8814, where tanh gives 1/√2 ≈ 0.7071.

# %%
x1 = Value(2.0, label="x1")
x2 = Value(0.0, label="x2")
w1 = Value(-3.0, label="w1")
w2 = Value(1.0, label="w2")
bias = Value(6.8813735870195432, label="b")
x1w1 = x1 * w1
x1w1.label = "x1*w1"
x2w2 = x2 * w2
x2w2.label = "x2*w2"
weighted_sum = x1w1 + x2w2
weighted_sum.label = "x1*w1 + x2*w2"
n = weighted_sum + bias
n.label = "n"
o = n.tanh()
o.label = "o"
o.backward()
print(f"n = {n.data:.4f}, o = {o.data:.4f}")

# %% [markdown]
# The derivative of tanh is `1 - tanh²`, so do/dn = 1 - o² = 1 - 0.5 = 0.5. From there the
# sums pass 0.5 through to each product, and each product hands its *other* input's value to
# its input: do/dw1 = 0.5 · x1 = 1.0, do/dx1 = 0.5 · w1 = -1.5, do/dw2 = 0.5 · x2 = 0.
# Every node of the graph, inputs first:

# %%
print(f"{'node':>14} {'op':>4} {'data':>8} {'grad':>8}")
for node in topological_order(o):
    print(f"{node.label:>14} {str(node._op):>4} {node.data:8.4f} {node.grad:8.4f}")

# %% [markdown]
# Notice do/dw2 = 0: because the input `x2` is 0, changing `w2` cannot change the output. A
# weight only learns from inputs that are "on".
#
# Here is the same graph drawn by `micrograd.draw` (the next notebook is all about drawing):
# each box shows a node's label, data and grad; small circles are the operations.

# %%
from micrograd.draw import draw_dot

draw_dot(o)

# %% [markdown]
# ## What we learned
#
# * A `Value` is a number plus the record of how it was computed; expressions form a graph.
# * `backward()` applies the chain rule from the output back to every input, in reverse
#   topological order, and gradients from several uses of a Value add up.
# * Finite differences (`gradcheck`) are the independent referee that says the result is right.
#
# Next: **02_drawing_graphs** draws these graphs, and **03_training_an_mlp** uses the
# gradients to train a small neural network.
