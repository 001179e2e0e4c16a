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
# ## Karpathy's lecture neuron, by hand
#
# A neuron takes inputs `x1, x2`, multiplies each by a weight, adds a bias and squashes the
# sum with `tanh`: `o = tanh(x1*w1 + x2*w2 + b)`. These are the numbers of karpathy's lecture,
# chosen so that the sum `n` comes out at 0.8814, where tanh gives 1/√2 ≈ 0.7071.

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
print(f"x1*w1 = {x1w1.data}, x2*w2 = {x2w2.data}, n = {n.data:.4f}, o = {o.data:.4f}")

# %% [markdown]
# Before asking the engine, work out every gradient by hand. Each operation has a **local
# derivative**, the derivative of its output with respect to each of its inputs, that only
# needs the numbers at that node:
#
# | operation | local derivatives | here |
# |---|---|---|
# | `o = tanh(n)` | do/dn = 1 - tanh(n)² = 1 - o² | 1 - 0.7071² = 0.5 |
# | `n = (x1*w1 + x2*w2) + b` | dn/d(x1*w1 + x2*w2) = 1, dn/db = 1 | 1 and 1 |
# | `x1*w1 + x2*w2` | 1 for each of the two products | 1 and 1 |
# | `x1*w1` | d/dx1 = w1, d/dw1 = x1 | -3 and 2 |
# | `x2*w2` | d/dx2 = w2, d/dw2 = x2 | 1 and 0 |
#
# The chain rule then multiplies, from the output down: a node's gradient is the gradient of
# the node it feeds times the local derivative along the way (here every node feeds one other;
# one that feeds several adds up what each sends back, as shown above). do/do = 1 is
# where it starts.

# %%
import math

grad = {"o": 1.0}
local_tanh = 1 - math.tanh(n.data) ** 2  # do/dn = 1 - o**2
grad["n"] = grad["o"] * local_tanh
grad["x1*w1 + x2*w2"] = grad["n"] * 1.0  # a sum passes its gradient through
grad["b"] = grad["n"] * 1.0
grad["x1*w1"] = grad["x1*w1 + x2*w2"] * 1.0
grad["x2*w2"] = grad["x1*w1 + x2*w2"] * 1.0
grad["x1"] = grad["x1*w1"] * w1.data  # d(x1*w1)/dx1 = w1
grad["w1"] = grad["x1*w1"] * x1.data  # d(x1*w1)/dw1 = x1
grad["x2"] = grad["x2*w2"] * w2.data
grad["w2"] = grad["x2*w2"] * x2.data
for name, value in grad.items():
    print(f"do/d({name}) = {value:+.4f}")

# %% [markdown]
# Notice do/dw2 = 0: because the input `x2` is 0, changing `w2` cannot change the output. A
# weight only learns from inputs that are "on".
#
# ## Step through it
#
# `micrograd.step_through(o)` shows the same backward pass one operation at a time, right here
# in the notebook: press **Next** (or drag the slider, or click the picture and use the arrow
# keys). Each step's caption states the chain rule for that operation in symbols and numbers,
# the local derivative from the op's own row in micrograd's op table, and each edge is labelled
# with what flows back along it. It only reads the graph: `o.grad` and the rest stay as they
# are. Where a notebook viewer runs no scripts (GitHub's, for one) the last step shows as a
# still picture.

# %%
import micrograd

micrograd.step_through(o)

# %% [markdown]
# ## The engine, and PyTorch, agree
#
# Now `o.backward()` does all of it at once. The same neuron in PyTorch, in float64, is the
# independent referee: every gradient should match the hand computation and PyTorch's.

# %%
import torch

o.backward()

leaves = {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": bias}
tensors = {
    name: torch.tensor(leaf.data, dtype=torch.float64, requires_grad=True)
    for name, leaf in leaves.items()
}
t = tensors
torch.tanh(t["x1"] * t["w1"] + t["x2"] * t["w2"] + t["b"]).backward()

print(f"{'':>4} {'by hand':>9} {'micrograd':>10} {'PyTorch':>9}")
for name, leaf in leaves.items():
    print(f"{name:>4} {grad[name]:+9.4f} {leaf.grad:+10.4f} {tensors[name].grad.item():+9.4f}")
    assert abs(leaf.grad - grad[name]) < 1e-12 and abs(leaf.grad - tensors[name].grad) < 1e-12

# %% [markdown]
# Here is the finished graph drawn by `micrograd.draw` (the next notebook is all about drawing):
# each box shows a node's label, data and grad; small circles are the operations, and with
# `edge_grads=True` each edge carries what the chain rule sent back along it.

# %%
from micrograd.draw import draw_dot

draw_dot(o, edge_grads=True)

# %% [markdown]
# ## What we learned
#
# * A `Value` is a number plus the record of how it was computed; expressions form a graph.
# * `backward()` applies the chain rule from the output back to every input, in reverse
#   topological order, and gradients from several uses of a Value add up.
# * Each step multiplies the gradient arriving from above by the op's local derivative;
#   `micrograd.step_through(y)` shows every step with its formula and numbers.
# * Finite differences (`gradcheck`) are the independent referee that says the result is right.
#
# Next: **02_drawing_graphs** draws these graphs, and **03_training_an_mlp** uses the
# gradients to train a small neural network.
