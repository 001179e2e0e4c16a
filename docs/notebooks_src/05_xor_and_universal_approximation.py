# ruff: noqa: B018, E402
# %% [markdown]
# # 5. XOR, and what a network can learn
#
# In 1969 Minsky and Papert's book *Perceptrons* showed that a single neuron cannot learn XOR,
# "one or the other but not both", and interest in neural networks faded for over a decade. The
# fix, a hidden layer, is the reason networks have layers at all. This notebook replays both sides,
# then watches a network with more and more hidden neurons approximate a curve.

# %%
import random

import matplotlib.pyplot as plt
import numpy as np

from micrograd import nn, no_grad

# %% [markdown]
# ## The XOR problem
#
# Four points, the corners of a square. The label is 1 when exactly one coordinate is 1:

# %%
X, y = nn.data.make_xor(4)
for point, label in zip(X, y):
    print(point, "->", label)

# %% [markdown]
# ## A single neuron
#
# A neuron computes `w1·x1 + w2·x2 + b` and (after a sigmoid, inside the loss) reads it as a
# probability. Where that sum is 0 is a **straight line**: one side is class 1, the other class 0.
# We train it with binary cross-entropy and Adam for 300 steps:

# %%
neuron = nn.Neuron(2, activation="linear", rng=random.Random(0))
history = nn.fit(
    neuron,
    X,
    y,
    loss="binary_cross_entropy_with_logits",
    optimizer=nn.optim.Adam(neuron.parameters(), lr=0.1),
    epochs=300,
    progress=False,
)
print(f"final loss {history['loss'][-1]:.4f}, accuracy {history['accuracy'][-1]:.0%}")
print("weights and bias:", [f"{p.data:.1e}" for p in neuron.parameters()])

# %% [markdown]
# The loss is stuck at 0.6931 = log 2, the loss of answering "50%" for every point, and the
# weights have shrunk to practically zero. That is the best a straight line can do: any line that
# puts both class-1 corners, (0, 1) and (1, 0), on one side puts at least one class-0 corner
# there too. So the neuron learns to say "I don't know" everywhere.
#
# ## One hidden layer
#
# Now `MLP(2, [4, 1])`: four tanh neurons that each draw their own line, and an output neuron
# that combines them.

# %%
mlp = nn.MLP(2, [4, 1], activation="tanh", rng=random.Random(0))
history = nn.fit(
    mlp,
    X,
    y,
    loss="binary_cross_entropy_with_logits",
    optimizer=nn.optim.Adam(mlp.parameters(), lr=0.1),
    epochs=300,
    progress=False,
)
print(f"final loss {history['loss'][-1]:.4f}, accuracy {history['accuracy'][-1]:.0%}")

# %% [markdown]
# Solved. Here are both models' opinions over the whole square: the colour is the predicted
# probability of class 1.


# %%
def probability_map(model, ax, title):
    grid = np.linspace(-0.5, 1.5, 81)
    xx, yy = np.meshgrid(grid, grid)
    with no_grad():
        logits = [model([float(a), float(b)]).data for a, b in zip(xx.ravel(), yy.ravel())]
    probability = 1 / (1 + np.exp(-np.array(logits)))
    image = ax.contourf(
        xx, yy, probability.reshape(xx.shape), levels=np.linspace(0, 1, 21), cmap="coolwarm"
    )
    for label, color in ((0, "tab:blue"), (1, "tab:red")):
        points = X[y == label]
        ax.scatter(points[:, 0], points[:, 1], s=120, color=color, edgecolors="k",
                   label=f"class {label}")  # fmt: skip
    ax.set_title(title)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return image


fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
probability_map(neuron, axes[0], "one neuron: 50% everywhere")
image = probability_map(mlp, axes[1], "one hidden layer of 4: solved")
axes[0].legend(loc="center", fontsize=9)
fig.colorbar(image, ax=axes, label="P(class 1)")
plt.show()

# %% [markdown]
# ## Approximating any curve
#
# XOR is a special case of a general fact, the **universal approximation theorem**: one hidden
# layer with enough neurons can approximate any continuous function on a bounded range as
# closely as you like. Each tanh neuron contributes one smooth step, `v·tanh(w·x + b)`, centred
# at `x = -b/w`, sharpened by `w` and scaled by `v`; adding steps together builds any shape.
#
# Let's fit two periods of `sin(x)` with 1, 2, 4 and 16 hidden neurons (mean squared error,
# Adam, 500 full-batch steps each).

# %%
xs = np.linspace(-2 * np.pi, 2 * np.pi, 50).reshape(-1, 1)
ys = np.sin(xs[:, 0])

fits = {}
for width in (1, 2, 4, 16):
    model = nn.MLP(1, [width, 1], activation="tanh", rng=random.Random(0))
    history = nn.fit(
        model,
        xs,
        ys,
        loss="mse",
        optimizer=nn.optim.Adam(model.parameters(), lr=0.05),
        epochs=500,
        progress=False,
    )
    fits[width] = (model, history["loss"][-1])

dense = np.linspace(-2 * np.pi, 2 * np.pi, 200)
fig, axes = plt.subplots(1, 4, figsize=(15, 3), sharey=True)
for ax, (width, (model, loss)) in zip(axes, fits.items()):
    with no_grad():
        predicted = [model([float(x)]).data for x in dense]
    ax.plot(dense, np.sin(dense), color="grey", lw=4, alpha=0.4, label="sin(x)")
    ax.plot(dense, predicted, color="tab:red", label="network")
    ax.set_title(f"{width} hidden neuron{'s' if width > 1 else ''}: MSE {loss:.4f}")
    ax.set_xlabel("x")
axes[0].set_ylabel("y")
axes[0].legend(loc="lower left")
plt.tight_layout()
plt.show()

# %% [markdown]
# One neuron can only make one S-shaped step, so it cannot follow two full waves; two neurons make
# a bump; with four the curve is already close, and sixteen follow it closely everywhere except
# near the ends of the range, where the last bend is still shallower than the wave's.
#
# ## Looking inside
#
# The 4-neuron network's output is its bias plus the sum of four scaled tanh steps, one per hidden
# neuron. Drawing each term separately shows how the wave is built:

# %%
model, _ = fits[4]
hidden, output = model.layers
with no_grad():
    terms = [
        [output.neurons[0].w[i].data * neuron([float(x)]).data for x in dense]
        for i, neuron in enumerate(hidden.neurons)
    ]
plt.figure(figsize=(7, 3.5))
for i, term in enumerate(terms):
    plt.plot(dense, term, "--", label=f"v{i + 1} · tanh(w{i + 1}·x + b{i + 1})")
plt.plot(
    dense,
    output.neurons[0].b.data + np.sum(terms, axis=0),
    color="tab:red",
    lw=2,
    label="bias + sum = the network",
)
plt.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))
plt.xlabel("x")
plt.ylabel("each term, and their sum")
plt.title("four steps add up to two waves")
plt.show()

# %% [markdown]
# The theorem promises that *some* set of weights approximates the function; it does not promise
# that gradient descent will find it, nor how many neurons that takes. In practice depth (more
# layers) usually needs far fewer neurons than one very wide layer, which is why deep networks
# are deep.
#
# Next: **06_gradients_vs_pytorch** checks every one of these gradients against PyTorch.
