# ruff: noqa: B018, E402
# %% [markdown]
# # 2. Drawing computation graphs
#
# Backpropagation is easiest to understand when you can *see* the graph it runs on.
# `micrograd.draw.draw_dot` turns any `Value` into a picture of everything it was computed from.
# In a notebook the picture shows up by itself when a drawing is the last thing in a cell.
# (Drawing needs Graphviz's `dot` program; `make test` installs it on Debian.)

# %%
import random

from micrograd import Value, nn
from micrograd.draw import draw_dot, save_svg, to_json

# %% [markdown]
# ## A first drawing
#
# Each **box** is a `Value`: its label (if it has one), its data and its grad. Each small
# **circle** is the operation that produced the box to its right.

# %%
a = Value(2.0, label="a")
b = Value(-3.0, label="b")
c = Value(10.0, label="c")
e = a * b
e.label = "e"
d = e + c
d.label = "d"
f = Value(-2.0, label="f")
L = d * f
L.label = "L"
draw_dot(L)

# %% [markdown]
# All the grads are 0: nothing has been backpropagated yet. After `L.backward()` the same drawing
# shows every derivative dL/d(node). The root, the Value we drew, is the orange box.

# %%
L.backward()
draw_dot(L)

# %% [markdown]
# ## Options
#
# `rankdir="TB"` lays the graph out top to bottom instead of left to right, which suits tall,
# narrow graphs:

# %%
draw_dot(L, rankdir="TB")

# %% [markdown]
# `edge_grads=True` writes on every arrow the gradient it carries **backwards**: what the
# operation on its right hands to the input on its left. This is the chain rule made visible: the
# `*` node receives dL/dL = 1 from above and hands `f` the value of `d` (4) and `d` the value of
# `f` (-2).

# %%
draw_dot(L, edge_grads=True)

# %% [markdown]
# ## Repeated inputs: gradients add up
#
# When one Value feeds an operation twice, as in `x * x`, there are **two** arrows, and its grad
# is the sum of what flows back along both. Here `y = x*x + x`: x appears three times, so three
# arrows leave it, carrying 3, 3 and 1; x.grad = 7 = 2·3 + 1, the derivative of x² + x at 3.

# %%
x = Value(3.0, label="x")
square = x * x
square.label = "x*x"
y = square + x
y.label = "y"
y.backward()
draw_dot(y, edge_grads=True)

# %% [markdown]
# ## Parameters, inputs and constants
#
# Plain numbers in an expression (the `2` in `2 * x`, the exponent in `x ** 2`) become
# **constant** leaves, drawn grey and dashed. Pass `params=` (a model, a `{name: Value}` dict or
# a list of Values) and leaves are split into **parameters** (blue) and **inputs** (green);
# `legend=True` adds a key. Where the order of an operation's inputs matters (`-`, `/`, `**`),
# the arrows are tagged `a` and `b`: here `a ** b`, the base and the exponent.

# %%
w = Value(0.5, label="w")
bias = Value(-1.0, label="b")
x1 = Value(2.0, label="x1")
out = (2 * w * x1 + bias) ** 2
out.label = "out"
out.backward()
draw_dot(out, params=[w, bias], legend=True)

# %% [markdown]
# ## Saving to a file
#
# `save_svg(root, path, **options)` writes the drawing as an SVG file, which any browser opens and
# which you can put in a document (the README's picture is made this way). The drawing itself is
# a `graphviz.Digraph`, so its DOT source is there too, with no `dot` program needed:

# %%
path = save_svg(out, "expression.svg", params=[w, bias])
print(path, path.stat().st_size, "bytes")
print("\n".join(draw_dot(out).source.splitlines()[:6]))

# %% [markdown]
# And `to_json` exports the same graph as plain data (nodes with stable ids, edges with the input
# slot they fill), for other tools:

# %%
graph = to_json(out)
print(len(graph["nodes"]), "nodes,", len(graph["edges"]), "edges")
graph["nodes"][-1]

# %% [markdown]
# ## Drawing a whole model
#
# A network's graph gets big fast. Here is a tiny MLP, two inputs, a hidden layer of three tanh
# neurons and one output, applied to one point:

# %%
model = nn.MLP(2, [3, 1], activation="tanh", rng=random.Random(0))
point = [Value(0.5, label="x1"), Value(-1.0, label="x2")]
score = model(point)
score.label = "score"
score.backward()
print(len(to_json(score)["nodes"]), "Values in the graph")
draw_dot(score, params=model)

# %% [markdown]
# Given the model as `params`, the drawing names each parameter by its place in the model:
# `layers.0.neurons.2.w.0` is weight 0 of neuron 2 in layer 0. Still, it is already hard to
# read. With `group="neuron"`, each neuron's nodes are boxed in a labelled cluster named after
# its parameters (`layers.0.neurons.1` is the second neuron of the first layer), so the
# structure reappears:

# %%
draw_dot(score, params=model, group="neuron")

# %% [markdown]
# `collapse=True` goes further and draws each neuron as a single box that sums it up: how many
# parameters and graph nodes it holds, the size (norm) of its parameters' gradient, and its
# output's data and grad. `group="layer"` works the same per layer. This is how you can look at a
# model with thousands of nodes:

# %%
draw_dot(score, params=model, group="neuron", collapse=True)

# %%
draw_dot(score, params=model, group="layer", collapse=True)

# %% [markdown]
# Or keep only the part near the output: `max_depth=n` shows the nodes at most `n` operations
# upstream of the root.

# %%
draw_dot(score, params=model, max_depth=3)

# %% [markdown]
# ## The backward pass, frame by frame
#
# A finished drawing shows the gradients *after* backward. To watch them being computed,
# `backward_steps(root)` replays the backward pass one node at a time, in exactly the engine's
# order, and yields a frame per step: which node is being processed, its gradient, the edges it
# just sent gradient along, and every gradient known so far. It only reads the graph: no `.grad`
# changes.
#
# Back to the neuron of notebook 1:

# %%
from micrograd.draw import backward_steps, draw_step, save_backward_html

x1 = Value(2.0, label="x1")
x2 = Value(0.0, label="x2")
w1 = Value(-3.0, label="w1")
w2 = Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")
n = x1 * w1 + x2 * w2 + b
n.label = "n"
o = n.tanh()
o.label = "o"

frames = list(backward_steps(o))
for frame in frames:
    sends = ", ".join(f"{edge.amount:.4f} to node {edge.source}" for edge in frame.edges)
    print(
        f"step {frame.step}: node {frame.index} ({frame.node._op}) grad {frame.grad:.4f} "
        f"sends {sends}"
    )

# %% [markdown]
# Five operations (tanh, two sums, two products), five steps, from the output back to the
# inputs. `draw_step(frame)` draws the graph as it stands at one step: the node being processed
# and the gradients it just sent are red, and nodes whose gradient has not arrived yet show `?`.
# The first step, at the tanh:

# %%
draw_step(frames[0])

# %% [markdown]
# Halfway, after the sums have passed their gradient through:

# %%
draw_step(frames[2])

# %% [markdown]
# And the last step, where the product `x2*w2` hands each input the other's value times its
# gradient: `w2` gets 0.5 · x2 = 0. After it, every gradient is known, and they are exactly what
# `backward()` computes:

# %%
draw_step(frames[-1])

# %%
o.backward()
leaves = [x1, x2, w1, w2, b]
index = {node: i for i, node in enumerate(frames[-1].graph.nodes)}
for leaf in leaves:
    from_frames = frames[-1].grads[index[leaf]]
    print(f"{leaf.label:>2}: frames {from_frames:+.4f}   backward() {leaf.grad:+.4f}")

# %% [markdown]
# ## The same, in a browser
#
# `save_backward_html(root, path)` puts all the frames in one self-contained web page (no network
# needed) with Previous/Next buttons, a slider and the arrow keys. Open the file it writes in any
# browser and step through backpropagation at your own pace; `micrograd demo` writes one for
# karpathy's lecture neuron.

# %%
page = save_backward_html(o, "backward.html")
print(page, f"{page.stat().st_size:,} bytes,", len(list(backward_steps(o))), "steps")

# %% [markdown]
# Next: **03_training_an_mlp** puts these gradients to work and trains a network.
