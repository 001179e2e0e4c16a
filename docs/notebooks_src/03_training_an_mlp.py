# ruff: noqa: B018, E402
# %% [markdown]
# # 3. Training a neural network
#
# This is karpathy/micrograd's famous demo, rebuilt with this library: a small network learns to
# separate two interleaving half-moons of points. Everything in it is a `Value`, so every weight's
# gradient comes from the same `backward()` you met in notebook 1; a network is just a bigger
# expression.
#
# The recipe of all of deep learning, in four lines repeated many times:
#
# 1. **forward**: run the network on the data and measure how wrong it is (the *loss*);
# 2. **zero** the old gradients;
# 3. **backward**: compute d loss / d weight for every weight;
# 4. **step**: move every weight a little against its gradient, downhill on the loss.

# %%
import random

import matplotlib.pyplot as plt
import numpy as np

from micrograd import nn, no_grad

# %% [markdown]
# ## The data
#
# 100 points in two classes. `nn.data.make_moons` uses the same formula and random generator as
# scikit-learn's function of the same name, so with seed 1337 these are exactly the points of
# karpathy's demo. The labels come as 0/1; the loss we use wants -1/+1.

# %%
X, y = nn.data.make_moons(100, noise=0.1, seed=1337)
y = y * 2 - 1  # 0/1 -> -1/+1

CLASSES = {-1: ("class -1", "tab:blue"), +1: ("class +1", "tab:red")}


def scatter_classes(ax):
    """The data, one colour per class, named in the legend."""
    for label, (name, color) in CLASSES.items():
        points = X[y == label]
        ax.scatter(points[:, 0], points[:, 1], s=25, color=color, edgecolors="k", linewidths=0.5,
                   label=name)  # fmt: skip
    ax.set_xlabel("x1 (first coordinate)")
    ax.set_ylabel("x2 (second coordinate)")


fig, ax = plt.subplots(figsize=(5, 4))
scatter_classes(ax)
ax.legend()
ax.set_title("make_moons: two classes, 100 points")
plt.show()

# %% [markdown]
# No straight line separates the two moons, so a single neuron cannot do it. We need hidden layers.
#
# ## The model
#
# `MLP(2, [16, 16, 1])`: two inputs (the point's coordinates), two hidden layers of 16 ReLU
# neurons, and one output neuron without activation, whose output is a *score*: positive means
# "class +1", negative means "class -1". Seeding Python's `random` with 1337 gives exactly the
# starting weights of karpathy's demo.

# %%
random.seed(1337)
model = nn.MLP(2, [16, 16, 1])
model

# %% [markdown]
# 337 parameters: the first layer has 16 neurons × (2 weights + 1 bias) = 48, the second
# 16 × (16 + 1) = 272, the output 16 + 1 = 17.
#
# ## The loss
#
# For each point with label `y` and score `s`, the **hinge loss** is `max(0, 1 - y·s)`: zero when
# the point is on the right side with a margin of at least 1, and growing linearly the more wrong
# the score is. We average it over the points and add a small **L2 penalty**, `1e-4 · Σ w²`, that
# keeps the weights from growing without need.

# %%
inputs = [[float(a), float(b)] for a, b in X]
labels = [int(label) for label in y]


def loss_and_accuracy():
    scores = [model(x) for x in inputs]
    data_loss = nn.hinge_loss(scores, labels)
    reg_loss = 1e-4 * nn.l2_penalty(model.parameters())
    accuracy = np.mean([(label > 0) == (s.data > 0) for label, s in zip(labels, scores)])
    return data_loss + reg_loss, accuracy


loss, accuracy = loss_and_accuracy()
print(f"before training: loss {loss.data:.4f}, accuracy {accuracy:.0%}")

# %% [markdown]
# Untrained, the network is as good as a coin: 50%. Its loss, 0.8958, is exactly the first loss
# karpathy's demo prints (the test suite checks this reproduction to 12 digits).
#
# That one `loss` Value sits on top of a graph of every operation for all 100 points:

# %%
from micrograd import topological_order

print(f"{len(topological_order(loss)):,} Values in the graph of the loss")

# %% [markdown]
# ## The training loop
#
# Gradient descent, as in karpathy's demo: the **learning rate** (step size) starts at 1.0 and
# shrinks linearly towards 0.1, so early steps are bold and late ones careful. `tqdm` draws a
# progress bar. Each step builds the whole graph again, backpropagates through all of it and moves
# the 337 weights. The update changes each weight's plain number, `p.data`, which no graph
# records; it runs under `no_grad()` all the same, as a PyTorch loop's must, where the update
# is an op on the weights themselves and would otherwise become part of the next graph.

# %%
from tqdm import tqdm

steps = 100
history = {"loss": [], "accuracy": []}
for k in (bar := tqdm(range(steps), desc="training")):
    loss, accuracy = loss_and_accuracy()  # 1. forward
    model.zero_grad()  # 2. zero
    loss.backward()  # 3. backward
    learning_rate = 1.0 - 0.9 * k / steps
    with no_grad():  # 4. step
        for p in model.parameters():
            p.data -= learning_rate * p.grad
    history["loss"].append(loss.data)
    history["accuracy"].append(accuracy)
    bar.set_postfix(loss=f"{loss.data:.4f}", accuracy=f"{accuracy:.0%}")

print(f"step {steps - 1}: loss {history['loss'][-1]:.4f}, accuracy {history['accuracy'][-1]:.0%}")

# %% [markdown]
# ## Loss and accuracy, step by step

# %%
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
ax_loss.plot(history["loss"], color="tab:red")
ax_loss.set_xlabel("step")
ax_loss.set_ylabel("loss")
ax_loss.set_yscale("log")
ax_loss.set_title("loss (log scale)")
ax_acc.plot([100 * a for a in history["accuracy"]], color="tab:blue")
ax_acc.set_xlabel("step")
ax_acc.set_ylabel("accuracy (%)")
ax_acc.set_title("training accuracy")
plt.tight_layout()
plt.show()

first_perfect = history["accuracy"].index(1.0)
print(f"first step with every point right: {first_perfect}")

# %% [markdown]
# The loss does not fall smoothly: with a large learning rate, some steps overshoot and the loss
# jumps up before coming down again, now and then until about step 80. As the learning rate
# shrinks, the steps settle.
#
# Near the end the loss barely moves. Splitting it into its two parts shows why:

# %%
scores = [model(x) for x in inputs]
print(f"hinge part: {nn.hinge_loss(scores, labels).data:.4f}")
print(f"L2 part:    {1e-4 * nn.l2_penalty(model.parameters()).data:.4f}")

# %% [markdown]
# Every point is now on its correct side by a margin of at least 1, so the hinge part is zero and
# gives no more gradient; what remains is the L2 penalty, which only asks for smaller weights.
#
# ## The decision boundary
#
# To see what the network learned, we ask it for a score at every point of a fine grid, 200 × 200
# points, and colour the plane by the score: red where it says "class +1", blue where it says
# "class -1", paler near zero. The black line is where the score is exactly 0, the decision
# boundary; the dashed lines are the margins at -1 and +1 that the hinge loss asks every point to
# clear.
#
# 40,000 forward passes one `Value` at a time would take a while. `micrograd.compile` (notebook 7
# explains it) records the network's operations once, for one point, and then replays them with
# numpy over all the points at once, with the same numbers to about 14 digits (numpy adds a
# layer's products in another order; notebook 7 shows this).

# %%
import micrograd

size = 200
xs = np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, size)
ys = np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, size)
grid_x, grid_y = np.meshgrid(xs, ys)
points = np.column_stack([grid_x.ravel(), grid_y.ravel()])
score = micrograd.compile(lambda point: model(point))
S = score.forward(points).reshape(size, size)  # S[i, j]: the score at (xs[j], ys[i])

fig, ax = plt.subplots(figsize=(6.5, 4.5))
surface = ax.contourf(xs, ys, S, levels=np.linspace(-3, 3, 25), cmap="coolwarm", extend="both",
                      alpha=0.6)  # fmt: skip
ax.contour(xs, ys, S, levels=[0], colors="k", linewidths=1.6)
ax.contour(xs, ys, S, levels=[-1, 1], colors="k", linewidths=0.8, linestyles="--")
scatter_classes(ax)
ax.plot([], [], color="k", lw=1.6, label="decision boundary (score 0)")
ax.plot([], [], color="k", lw=0.8, ls="--", label="margins (score -1, +1)")
ax.legend(fontsize=8, loc="upper right")
fig.colorbar(surface, ax=ax, label="the network's score (clipped at ±3)")
ax.set_title("what the network learned")
plt.show()

with no_grad():  # one point the slow way, to see the compiled numbers are the Value ones
    one = model([float(xs[7]), float(ys[11])]).data
print(f"{S.size:,} grid points scored; at one of them compiled {S[11, 7]:.6f}, Value {one:.6f}")

# %% [markdown]
# The boundary curls between the moons: the 337 weights, each nudged 100 times along its own
# gradient, have carved a curved line that no single neuron could draw.
#
# ## The same in one call
#
# The loop above is what `nn.fit` runs for you (with optional mini-batches, any optimizer from
# `nn.optim`, learning-rate schedules and the same progress bar); the `micrograd demo` command
# uses it. For example:
#
# ```python
# model = nn.MLP(2, [16, 16, 1])
# optimizer = nn.optim.SGD(model.parameters(), lr=1.0)
# schedule = nn.optim.LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=100)
# history = nn.fit(model, X, y, loss="hinge", optimizer=optimizer, epochs=100, l2=1e-4,
#                  scheduler=schedule)
# ```
#
# Next: **04_activations_losses_optimizers** looks at the pieces we just used (ReLU, the hinge
# loss, plain gradient descent) and their alternatives.
