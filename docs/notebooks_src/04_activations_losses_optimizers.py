# ruff: noqa: B018, E402
# %% [markdown]
# # 4. Activations, losses and optimizers
#
# Notebook 3 trained a network with three choices made for us: ReLU activations, the hinge loss
# and plain gradient descent. Each has alternatives, and each alternative changes **the
# gradients** the network learns from. Since our engine computes every derivative, we can simply
# look at them.

# %%
import random

import matplotlib.pyplot as plt
import numpy as np

from micrograd import Value, nn

# %% [markdown]
# ## Activation functions and their derivatives
#
# An activation bends the straight line `w·x + b` of a neuron; without it, a stack of layers would
# still be one straight line. Below, each function is evaluated on a grid, and its derivative is
# **not** typed in by hand: at each point we make a `Value`, apply the function, call `backward()`
# and read `.grad`.


# %%
def curve_and_slope(fn, xs):
    """fn(x) and d fn / dx at every x, both computed by the engine."""
    values, slopes = [], []
    for x in xs:
        v = Value(float(x))
        out = fn(v)
        out.backward()
        values.append(out.data)
        slopes.append(v.grad)
    return values, slopes


activations = {
    "relu": Value.relu,
    "leaky_relu (alpha 0.1)": lambda v: v.leaky_relu(0.1),
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
}
xs = np.linspace(-4, 4, 161)
fig, axes = plt.subplots(1, 4, figsize=(14, 3.2), sharex=True)
for ax, (name, fn) in zip(axes, activations.items()):
    values, slopes = curve_and_slope(fn, xs)
    ax.plot(xs, values, label="f(x)")
    ax.plot(xs, slopes, "--", label="f'(x), from backward()")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_title(name)
    ax.set_xlabel("x")
axes[0].set_ylabel("f(x) and its slope f'(x)")
axes[0].legend(loc="upper left", fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# What the dashed lines say:
#
# * **ReLU** passes the gradient through unchanged (slope 1) for positive inputs and blocks it
#   completely (slope 0) for negative ones. A neuron whose input is negative for every data point
#   gets no gradient at all and stops learning: a "dead" ReLU.
# * **Leaky ReLU** keeps a small slope (here 0.1) on the negative side, so no neuron dies.
# * **sigmoid** squashes into (0, 1); its slope is at most 0.25, and almost 0 far from the
#   origin. Stack a few sigmoid layers and its slope alone shrinks gradients by 4× or more per
#   layer, unless the weights between make up for it: the *vanishing gradient* problem.
# * **tanh** squashes into (-1, 1) and has slope 1 at the origin, but also flattens out.
#
# The slopes at a few points, to check the claims:

# %%
for name, fn in activations.items():
    _, slopes = curve_and_slope(fn, [-3.0, 0.0, 3.0])
    print(f"{name:24} slope at -3, 0, 3: " + ", ".join(f"{s:.4f}" for s in slopes))

# %% [markdown]
# ReLU has no derivative at exactly 0 (the kink); like PyTorch, the engine uses 0 there.
#
# ## Softmax: scores into probabilities
#
# For more than two classes a network outputs one score (a *logit*) per class, and **softmax**
# turns them into probabilities: `p_i = exp(z_i) / Σ_j exp(z_j)`. `nn.softmax` works on a list of
# Values:

# %%
logits = [Value(2.0), Value(1.0), Value(0.1)]
probs = nn.softmax(logits)
print("probabilities:", [round(p.data, 4) for p in probs], " sum:", sum(p.data for p in probs))

# %% [markdown]
# The derivative of one probability with respect to each logit has a neat closed form,
# `d p_i / d z_j = p_i (δ_ij − p_j)`: raising your own score raises your probability, raising
# anyone else's lowers it. The engine agrees:

# %%
probs[0].backward()
p = [q.data for q in probs]
for j, z in enumerate(logits):
    formula = p[0] * ((1.0 if j == 0 else 0.0) - p[j])
    print(f"d p0 / d z{j}: backward {z.grad:+.6f}   formula {formula:+.6f}")

# %% [markdown]
# A practical detail: `exp(1000)` overflows a float. `nn.softmax` subtracts the largest logit
# first (which does not change the result), so huge logits are fine. It finds that logit with
# the `maximum` op rather than Python's `max`, so the whole softmax stays one graph, which
# `micrograd.compile` can replay over a batch (notebook 07). The shift's gradient is exactly
# zero (every `p_i` stays the same when all the logits move together), so the softmax passes
# the shift through `stop_gradient()`: its number flows forward, no gradient flows back, and
# backward does not walk the `maximum` ops at all:

# %%
[round(q.data, 4) for q in nn.softmax([Value(1000.0), Value(999.0), Value(998.0)])]

# %% [markdown]
# ## MSE or cross-entropy?
#
# Take one example of class 1 and a model that outputs a logit `z`, so that its probability is
# `p = sigmoid(z)`. Two ways to score it:
#
# * mean squared error: `(p − 1)²`
# * binary cross-entropy: `−log p`
#
# Both are 0 when the model is right. What matters for learning is the gradient with respect to
# `z` when the model is **wrong** (z very negative):


# %%
def mse_of_sigmoid(z):
    return nn.mse_loss([z.sigmoid()], [1.0])


def cross_entropy_of_logit(z):
    return nn.binary_cross_entropy_with_logits([z], [1.0])


zs = np.linspace(-8, 8, 161)
fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(10, 3.5))
for name, fn in [("MSE of sigmoid", mse_of_sigmoid), ("cross-entropy", cross_entropy_of_logit)]:
    losses, grads = curve_and_slope(fn, zs)
    ax_loss.plot(zs, losses, label=name)
    ax_grad.plot(zs, grads, label=name)
ax_loss.set_title("loss for a class-1 example")
ax_loss.set_ylabel("loss")
ax_grad.set_title("d loss / d logit")
ax_grad.set_ylabel("d loss / d z")
for ax in (ax_loss, ax_grad):
    ax.set_xlabel("logit z (negative = confidently wrong)")
    ax.legend()
plt.tight_layout()
plt.show()

for z in (-8.0, -2.0, 0.0):
    _, (g_mse,) = curve_and_slope(mse_of_sigmoid, [z])
    _, (g_ce,) = curve_and_slope(cross_entropy_of_logit, [z])
    print(f"z = {z:+.0f}:  MSE gradient {g_mse:+.5f}   cross-entropy gradient {g_ce:+.5f}")

# %% [markdown]
# With MSE, a confidently wrong model (z = −8) gets almost no gradient: the sigmoid is flat
# there and multiplies everything by its tiny slope. Cross-entropy's `log` exactly undoes the
# sigmoid's squashing: the gradient is `p − 1`, close to −1, so the worst mistakes get the
# strongest correction. This is why classifiers are trained with cross-entropy.
#
# ## Optimizers racing
#
# Gradient descent moves each weight by `−lr · gradient`. The optimizers in `nn.optim` (the same
# names, arguments and update rules as `torch.optim`) differ in how they turn gradients into steps:
#
# * **SGD**: exactly that step.
# * **SGD with momentum**: keeps a running sum of past gradients, like a ball rolling downhill
#   that builds up speed along a consistent direction.
# * **Adagrad**: divides each weight's step by the root of the sum of all its squared gradients
#   so far, so each weight gets its own, shrinking, step size.
# * **RMSprop**: the same, but with a *moving average* of squared gradients, so steps don't
#   shrink forever.
# * **Adam**: momentum and RMSprop together, with a correction for the first steps.
#
# The race: the same network (same starting weights, restored from one `state_dict`), the same
# 40 moons points, binary cross-entropy, 100 full-batch steps each. The learning rates are
# typical values for each method, not tuned to make any one win.

# %%
X, y = nn.data.make_moons(40, noise=0.1, seed=0)


def new_model():
    return nn.MLP(2, [8, 8, 1], activation="tanh", rng=random.Random(0))


start = new_model().state_dict()
racers = {
    "SGD (lr 0.1)": lambda params: nn.optim.SGD(params, lr=0.1),
    "SGD + momentum 0.9 (lr 0.1)": lambda params: nn.optim.SGD(params, lr=0.1, momentum=0.9),
    "Adagrad (lr 0.1)": lambda params: nn.optim.Adagrad(params, lr=0.1),
    "RMSprop (lr 0.01)": lambda params: nn.optim.RMSprop(params, lr=0.01),
    "Adam (lr 0.02)": lambda params: nn.optim.Adam(params, lr=0.02),
}
results = {}
for name, make_optimizer in racers.items():
    model = new_model()
    model.load_state_dict(start)
    results[name] = nn.fit(
        model,
        X,
        y,
        loss="binary_cross_entropy_with_logits",
        optimizer=make_optimizer(model.parameters()),
        epochs=100,
        progress=False,
    )

plt.figure(figsize=(7, 4))
for name, history in results.items():
    plt.plot(history["loss"], label=name)
plt.yscale("log")
plt.xlabel("step")
plt.ylabel("cross-entropy loss")
plt.legend()
plt.title("five optimizers, one problem, one starting point")
plt.show()

for name, history in results.items():
    print(f"{name:28} final loss {history['loss'][-1]:.4f}  accuracy {history['accuracy'][-1]:.0%}")

# %% [markdown]
# All five start from the same loss. Plain SGD creeps; momentum does better; the methods that
# adapt a step size per weight (Adagrad, RMSprop, Adam) race ahead on this problem and classify
# every point correctly within 100 steps. Don't read too much into one race: with other learning
# rates or another problem the order can change, which is why trying a couple of optimizers and
# learning rates is part of training any network.
#
# ## Learning-rate schedules
#
# One learning rate for a whole run is a compromise: large enough to make progress early, small
# enough to settle at the end. A **schedule** changes it as training goes; `nn.optim` has nine
# of `torch.optim`'s, by the same names, and `fit` steps one once per epoch, or after every
# batch with `scheduler_interval="batch"`. Here the gradients
# are noisy (mini-batches of 8 points), the optimizer is SGD with momentum 0.9 at a rate of
# 0.5, and each run starts from the same weights:
#
# * **constant**: the rate never changes.
# * **StepLR** halves it every 25 epochs.
# * **CosineAnnealingLR** lowers it along half a cosine, to 0 at epoch 100.
# * **ReduceLROnPlateau** watches the loss `fit` hands it each epoch, and halves the rate once
#   the loss has gone more than 5 epochs (its patience) without improving.
# * **OneCycleLR**, stepped after every batch, warms the rate up from 0.02 to 0.5 over the
#   first 30 epochs, then anneals it to nearly 0, and moves the momentum the other way
#   (from 0.95 down to 0.85 and back).

# %%
schedules = {
    "constant": lambda optimizer: None,
    "StepLR: halve every 25 epochs": lambda optimizer: nn.optim.StepLR(optimizer, 25, gamma=0.5),
    "CosineAnnealingLR: to 0 in 100": lambda optimizer: nn.optim.CosineAnnealingLR(optimizer, 100),
    "ReduceLROnPlateau: halve after 5 flat": lambda optimizer: nn.optim.ReduceLROnPlateau(
        optimizer, factor=0.5, patience=5
    ),
    "OneCycleLR: up to 0.5, then down": lambda optimizer: nn.optim.OneCycleLR(
        optimizer,
        max_lr=0.5,
        epochs=100,
        steps_per_epoch=-(-len(X) // 8),  # batches of 8
    ),
}
runs = {}
for name, make_schedule in schedules.items():
    model = new_model()
    model.load_state_dict(start)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    schedule = make_schedule(optimizer)
    every = "batch" if isinstance(schedule, nn.optim.OneCycleLR) else "epoch"
    rates, losses = [], []
    for epoch in range(100):  # one epoch a call, to note the rate each epoch ran at
        rates.append(optimizer.param_groups[0]["lr"])
        history = nn.fit(model, X, y, loss="binary_cross_entropy_with_logits",
                         optimizer=optimizer, scheduler=schedule, scheduler_interval=every,
                         epochs=1, batch_size=8, seed=epoch, progress=False)  # fmt: skip
        losses.append(history["loss"][0])
    runs[name] = rates, losses

fig, (rate_ax, loss_ax) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
for name, (rates, losses) in runs.items():
    rate_ax.plot(rates, label=name)
    loss_ax.plot(losses)
rate_ax.set(xlabel="epoch", ylabel="learning rate", title="the rate each schedule sets")
loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss", yscale="log", title="the loss")
fig.legend(loc="outside lower center", ncols=3, fontsize=8)
plt.show()

for name, (rates, losses) in runs.items():
    print(f"{name:38} last rate {rates[-1]:.4f}  final loss {losses[-1]:.4f}")

# %% [markdown]
# At a constant 0.5 the noisy steps never settle: the loss keeps bouncing, mostly between 0.2
# and 1. The step and the cosine schedules keep the early progress, then settle, to a loss
# below 0.001. ReduceLROnPlateau cut the rate too soon here: the loss stalled now and then in
# the bumpy early epochs, each stall halved the rate, and by epoch 25 it was down to 0.125; the
# loss stayed near 0.23 from then on, while the rate kept halving. Its patience and factor are
# settings to tune, as the rate itself is. OneCycleLR spends its middle epochs near the top
# rate, where the loss bounces as the constant run's does, and settles only once the rate has
# come down to about 0.2, near epoch 70: to 0.0025, behind the step and cosine schedules
# here. Its warm-up is for networks whose first steps at a high rate would diverge; this small
# one does not need it, and the long stretch near the top costs it time.
#
# Next: **05_xor_and_universal_approximation** asks what a network *can* learn at all.
