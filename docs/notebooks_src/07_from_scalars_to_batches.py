# ruff: noqa: B018, E402
# %% [markdown]
# # 7. From scalars to batches: tracing a graph once, replaying it with numpy
#
# Training the moons network of notebook 3 builds a brand-new graph for every sample at every
# step: 100 points times about 650 nodes, each one a Python object, created, walked backwards
# and thrown away. Yet the graph is **the same every time**. Only the numbers flowing through it
# change.
#
# That is the idea behind `jax.jit` and `torch.compile`, and it is what `micrograd.compile`
# does for our scalar engine:
#
# 1. **trace**: run the function once, on one sample, and record the graph it builds;
# 2. **flatten** the graph into a program: a numbered list of primitive ops;
# 3. **replay** the program with numpy, where each slot holds not one number but a whole vector,
#    one number per sample. The forward pass and the backward pass both run over the whole batch
#    at once.
#
# The replay uses the very same forward and derivative rules as `Value` (the op table in
# `micrograd/ops.py` is written once, against a small namespace of functions that exists for
# floats, for Values and for numpy arrays), so the results are the eager engine's.

# %%
import math
import random
import time

import numpy as np

import micrograd
from micrograd import Value, nn


def isclose(a, b, abs_tol=0.0):
    """Whether a and b agree to 1e-12, relative: twelve significant digits."""
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=abs_tol)


# %% [markdown]
# ## Tracing: what a compiler sees
#
# Start with one neuron: `tanh(w0*x0 + w1*x1 + b)`, and a squared error against a target `y`.
# The function is written for **one sample**, with ordinary `Value` operations. The weights
# are captured from the enclosing scope, as a model's parameters usually are.

# %%
w0, w1, b = Value(0.5, label="w0"), Value(-1.0, label="w1"), Value(0.1, label="b")


def neuron_loss(x, y):
    out = (w0 * x[0] + w1 * x[1] + b).tanh()
    return (out - y) ** 2


step = micrograd.compile(neuron_loss)
step.trace([[1.0, 2.0]], [0.5])  # trace on one sample (normally the first call does it)
print(step.program.listing())

# %% [markdown]
# This is the whole graph of one sample, written as straight-line code. Every node got a
# numbered slot `v0, v1, ...`:
#
# * the **inputs** of one sample (`x[0]`, `x[1]`, `y`) come first: they will hold vectors;
# * the **parameters**, any leaf the function captured, are read live at every call (so an
#   optimizer's updates are seen) and receive gradients;
# * the **constants** (the exponent 2.0 of `** 2`) are plain numbers;
# * then one line per operation, in an order where every input is computed before it is used.
#
# The traced graph is still made of ordinary Values, so it can be inspected like any other:

# %%
root = step.graph()
print(type(root).__name__, "with", len(micrograd.topological_order(root)), "nodes")
print("ops:", [str(n._op) for n in micrograd.topological_order(root) if n._prev])

# %% [markdown]
# ## Replaying over a batch
#
# Calling the compiled function with a batch (one row per sample) runs that program with numpy
# arrays, then runs the backward pass the same way, and leaves in each parameter's `.grad`
# the gradient of the **mean** loss over the batch, as one eager `backward()` would. Let us check
# that against the eager engine, sample by sample.

# %%
rng = np.random.default_rng(0)
X = rng.normal(size=(1000, 2))
Y = np.tanh(X @ np.array([1.5, -0.5]))

for p in (w0, w1, b):
    p.grad = 0.0
loss = step(X, Y)
compiled_grads = [p.grad for p in (w0, w1, b)]

for p in (w0, w1, b):
    p.grad = 0.0
losses = [neuron_loss([Value(a), Value(c)], t) for (a, c), t in zip(X.tolist(), Y.tolist())]
eager_loss = sum(losses) / len(losses)
eager_loss.backward()
eager_grads = [p.grad for p in (w0, w1, b)]

print(f"loss      compiled {loss:.15f}   eager {eager_loss.data:.15f}")
for name, c, e in zip(["w0", "w1", "b"], compiled_grads, eager_grads):
    print(f"d/d{name:<5} compiled {c:+.15f}  eager {e:+.15f}  agree to 1e-12: {isclose(c, e)}")

# %% [markdown]
# The same numbers to the last digit or two; what can differ is only the order in which the
# 1000 per-sample contributions are added up (numpy adds long sums pairwise, the eager engine
# one term after the other), so the last bits may round differently: the two agree to far
# better than 1e-12, relative.
#
# ## What cannot be traced: Python decisions on values
#
# The program is recorded once and replayed for every sample. A Python `if` on a value would be
# decided once, for the sample used in tracing, and silently baked in for all the others. So
# while tracing, any value that depends on an input or a parameter refuses to be compared,
# converted to `float` or `bool`, read through `.data` or used under `no_grad` (whose result
# would be a frozen number), and says where:


# %%
def branchy(x):
    s = w0 * x[0]
    if s > 0:  # a decision the compiled program could not repeat per sample
        return s
    return -s


try:
    micrograd.compile(branchy)(X)
except micrograd.compiler.TracingError as error:
    message = str(error)
    site = message.split(": ")[1]  # file:line; a notebook cell's file is a temporary one
    print(message.replace(site.rsplit(":", 1)[0], "<this cell>"))

# %% [markdown]
# The fix is to express the choice with operations, which *are* recorded: here `s.relu() +
# (-s).relu()` (or `abs(s)`). Branching on a plain number that takes only a few values (a
# class label, a flag) is fine: pass it as a **static** argument, one value per sample,
# `compile(fn, static=(1,))`, and one program is traced per distinct value.
#
# ## The demo network: 650 scalar ops become 8 array steps
#
# Now the real workload: karpathy's moons, `MLP(2, [16, 16, 1])`, hinge loss.

# %%
random.seed(1337)
model = nn.MLP(2, [16, 16, 1])
params = model.parameters()
X, y = nn.data.make_moons(100, noise=0.1, seed=1337)
y = (y * 2 - 1).astype(float)


def hinge(x, t):
    return (1 - t * model(x)).relu()


step = micrograd.compile(hinge)
step(X, y)
program = step.program
print(len(program.instructions), "instructions for one sample,", len(params), "parameters")
print("\n".join(step.program.listing().splitlines()[-6:]))

# %% [markdown]
# Run one instruction at a time, that is 650 numpy calls forward and about as many backward,
# each on a vector of 100 numbers: already much faster than 65,000 Python objects, but numpy's
# overhead per call dominates such small arrays.
#
# The compiler can do better, because it can see the structure a framework would have written
# by hand. Each neuron is a sum of products of its weights with the layer's inputs,
# `((b + w0*x0) + w1*x1) + ...`; the 16 neurons of a layer read the same inputs with weights of
# their own. Together they are a **matrix product**: `W @ x + b`, with `W` a 16 x 16 matrix of
# parameters and `x` the previous layer's outputs for all 100 samples at once. The compiler
# recognises such banks of sums (it checks that every weight belongs to one row and every
# input to one column) and *lifts* them: one matrix product forward, two in backward, and no
# per-sample copy of any weight. Everything else (each ReLU, the loss) runs with the other
# instructions of its op at its depth in the graph, as one numpy call applying that op's own
# rule. The plan that runs, one line per numpy step:

# %%
print(step.listing())

# %% [markdown]
# Three `matmul` lines, one per layer: the scalar graph of 643 instructions runs as 8 array
# operations. (`compile(fn, group=False)` keeps one numpy call per instruction, for
# comparison.) The products add their terms in another order than the scalar chain, so the
# last bit or two can differ from the eager engine's; the tests hold them to 1e-12.
#
# ## Timings against the eager engine
#
# One training step: forward over the 100 points, zero the gradients, backward, SGD update. As
# in karpathy's demo, the loss also has an L2 penalty `1e-4 * sum(p**2)`. That term depends on
# the parameters only, so it is compiled on its own, as a function of no inputs, rather than
# being recomputed for each of the 100 samples (hoisting a loop-invariant computation, in
# compiler words).

# %%
penalty = micrograd.compile(lambda: 1e-4 * sum(p * p for p in params))


def eager_step():
    scores = [model(list(row)) for row in X.tolist()]
    losses = [(1 - t * s).relu() for s, t in zip(scores, y.tolist())]
    loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)
    model.zero_grad()
    loss.backward()
    for p in params:
        p.data -= 0.05 * p.grad
    return loss.data


def make_compiled_step(group):
    data_loss = micrograd.compile(hinge, group=group)

    def compiled_step():
        model.zero_grad()
        loss = data_loss(X, y) + penalty()
        for p in params:
            p.data -= 0.05 * p.grad
        return loss

    return compiled_step, data_loss


def seconds_per_call(fn, repeats):
    fn()  # the first call traces
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


saved = [p.data for p in params]
eager = seconds_per_call(eager_step, 3)
one_op_step, _ = make_compiled_step(group=False)
one_op = seconds_per_call(one_op_step, 20)
grouped_step, grouped_fn = make_compiled_step(group=True)
grouped = seconds_per_call(grouped_step, 200)
for p, value in zip(params, saved):
    p.data = value

print(f"eager engine              {eager * 1e3:8.2f} ms per step")
print(f"compiled, one op per call {one_op * 1e3:8.2f} ms per step  ({eager / one_op:5.0f}x)")
print(f"compiled, grouped         {grouped * 1e3:8.2f} ms per step  ({eager / grouped:5.0f}x)")
print(f"tracing, once             {grouped_fn.trace_seconds * 1e3:8.2f} ms")

# %% [markdown]
# ## The same numbers
#
# Speed is worth nothing if the answer changes. At the same weights, the compiled step's loss
# and all 337 gradients against the eager engine's:

# %%
model.zero_grad()
compiled_loss = micrograd.compile(hinge)(X, y) + penalty()
compiled_grads = [p.grad for p in params]

model.zero_grad()
scores = [model(list(row)) for row in X.tolist()]
losses = [(1 - t * s).relu() for s, t in zip(scores, y.tolist())]
loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)
loss.backward()
eager_grads = [p.grad for p in params]

same = all(isclose(c, e, abs_tol=1e-15) for c, e in zip(compiled_grads, eager_grads))
print(f"loss: compiled {compiled_loss:.15f}, eager {loss.data:.15f}")
print(f"all {len(params)} gradients agree to 1e-12: {same}")

# %% [markdown]
# ## Training with it
#
# `nn.fit(..., compile=True)` uses all this: the loss of one sample is traced once, its target
# an input of the trace as the sample is, each batch is replayed with numpy, and the result
# is the same training run.


# %%
def train(compile):
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1])
    opt = nn.optim.SGD(model.parameters(), lr=1.0)
    schedule = nn.optim.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=100)
    start = time.perf_counter()
    history = nn.fit(model, X, y, loss="hinge", optimizer=opt, scheduler=schedule, epochs=100,
                     l2=1e-4, shuffle=False, progress=False, compile=compile)  # fmt: skip
    return history, time.perf_counter() - start


eager_history, eager_seconds = train(compile=False)
compiled_history, compiled_seconds = train(compile=True)
same = all(map(isclose, compiled_history["loss"], eager_history["loss"]))
for name, history, seconds in [
    ("eager", eager_history, eager_seconds),
    ("compiled", compiled_history, compiled_seconds),
]:
    loss, accuracy = history["loss"][-1], history["accuracy"][-1]
    print(f"100 epochs {name:<8} {seconds:6.2f} s: loss {loss:.6f}, accuracy {accuracy:.0%}")
print(f"{eager_seconds / compiled_seconds:.0f}x faster end to end, tracing included")
print(f"the two loss curves agree to 1e-12 at every epoch: {same}")

# %% [markdown]
# ## At the size of a real network
#
# The handwritten digits of notebook 8 are 8×8 images: 64 inputs, 10 classes, 1,797 of them.
# `MLP(64, [64, 64, 10])` has 8,970 parameters, and one sample's scalar graph has about 18,000
# operations. Lifted, its forward pass is three matrix products and the few operations between
# them:

# %%
digits, labels = nn.data.load_digits()
digits = digits.reshape(len(digits), -1)  # each 8x8 image as 64 numbers
big = nn.MLP(64, [64, 64, 10], init="he_uniform", rng=random.Random(0))
print(f"{len(big.parameters()):,} parameters")
scores = micrograd.compile(lambda x: big(x))
scores.forward(digits[:1])
print("\n".join(scores.listing().splitlines()[:6]))

# %% [markdown]
# The loss `fit` traces for each sample adds 70 instructions after the last layer:
# `nn.cross_entropy`'s loss of one sample takes the log-softmax of the ten scores (a tree of
# `maximum` for the largest, its gradient stopped, ten subtractions, ten exps, their sum, its
# log, ten subtractions more: 50 ops) and its dot with the one-hot target (19), negated.
# (`fit` takes the mean over the batch itself, so it traces that loss alone, not the mean of
# a batch of one around it.) Run op by op at its depth, the log-softmax alone would be ten
# steps of ten rows at most, each a Python call around very little numpy work. The compiler
# recognises the log-softmax and runs it as one step, each of those ops' rules applied once
# to all ten rows (and the maximum tree as one `np.max`, which gives the same numbers):

# %%
loss_of_one = micrograd.compile(nn.steps.per_sample_loss(big, nn.cross_entropy, 10))
loss_of_one.trace(digits[:1], np.eye(10)[labels[:1]])
print("\n".join(loss_of_one.listing().splitlines()[6:]))

# %% [markdown]
# Training it runs the same way, and the optimizer steps all 8,970 parameters as arrays too
# (each `Value`'s `.data` and `.grad` still read what eager training would give). Here is one
# epoch of `fit(compile=True)` (the whole data set per step, cross-entropy, Adam) against the
# same loop in PyTorch, on a copy of the same network made by `nn.to_torch`. Each epoch is
# timed on its own: `fit` calls its scheduler's `step()` at the end of every epoch, so a
# scheduler that leaves the learning rate alone (a `LambdaLR` whose factor is always 1) and
# notes the time gives every epoch's duration. Its `reads_model` is set to `False` on purpose:
# a `LambdaLR`'s function, like any scheduler's `step()`, may read or change the model, so
# `fit(compile=True)` writes the numbers back into the `Value`s before it and reads them
# again after, which here would take longer than the epoch itself; this one reads only the
# clock. The median epoch after the first two (the first one traces) is the figure. On a
# shared machine these figures vary from run to run; `benchmarks/` measures them over rounds
# and for more sizes, and `benchmarks/RESULTS.md` has its figures.

# %%
import statistics

import torch


class EpochClock:
    """Notes the time at each epoch's end: as LambdaLR's factor, which fit's scheduler calls
    with the epoch's number when it starts (0) and after each epoch, keeping the rate (1)."""

    def __init__(self):
        self.stamps = [time.perf_counter()]

    def __call__(self, epoch):
        if epoch:
            self.stamps.append(time.perf_counter())
        return 1.0

    def median_epoch(self):
        durations = [b - a for a, b in zip(self.stamps, self.stamps[1:])]
        return statistics.median(durations[2:])


def fresh_digits_model():
    return nn.MLP(64, [64, 64, 10], init="he_uniform", rng=random.Random(0))


def compiled_run(epochs):
    model = fresh_digits_model()
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    clock = EpochClock()
    schedule = nn.optim.LambdaLR(optimizer, clock)
    schedule.reads_model = False  # the clock reads no weight: nothing to write back
    history = nn.fit(model, digits, labels, loss="cross_entropy", optimizer=optimizer,
                     epochs=epochs, shuffle=False, progress=False, compile=True,
                     scheduler=schedule)  # fmt: skip
    return clock.median_epoch(), history["loss"]


def torch_run(epochs):
    model = nn.to_torch(fresh_digits_model())
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    inputs, targets = torch.tensor(digits), torch.tensor(labels)
    losses, clock = [], EpochClock()
    for epoch in range(epochs):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        clock(epoch + 1)
    return clock.median_epoch(), losses


(compiled_epoch, ours), (torch_epoch, theirs) = compiled_run(60), torch_run(60)
ratio = compiled_epoch / torch_epoch
print(f"fit(compile=True) {compiled_epoch * 1e3:6.2f} ms per epoch")
print(f"PyTorch           {torch_epoch * 1e3:6.2f} ms per epoch  (ours takes {ratio:.2f}x)")
agree = all(math.isclose(a, b, rel_tol=1e-10) for a, b in zip(ours[:11], theirs[:11]))
print(f"the two loss curves agree to 1e-10 over their first 11 epochs: {agree}")

# %% [markdown]
# Close to PyTorch's own time, one way or the other by machine. Over many rounds,
# benchmarks/RESULTS.md puts it at 0.88 times PyTorch's epoch on a 2-core AMD EPYC; the run
# before, on an Intel Xeon, put it at 1.16 times. Most of both epochs goes to the same matrix
# products, and which library's are faster depends on the machine: on that Intel machine
# PyTorch's (Intel's MKL) were faster than numpy's (OpenBLAS), and numpy written by hand took
# 1.45 times PyTorch's epoch (1.09 times on the AMD machine). The rest is the ReLUs, the
# log-softmax and the cross-entropy, a few numpy passes each on one core, where PyTorch runs
# its kernels on both. In the AMD run the smaller `MLP(64, [32, 10])` takes 0.77 times
# PyTorch's epoch, the digits CNN of notebook 8, whose convolutions and pooling are most of the
# work, 0.61 times, and the demo's moons 0.61 times: at that size PyTorch's overhead per
# operation dominates.
# (The eager engine would take tens of seconds per epoch here: 1,797 graphs of 18,000 nodes.)

# %% [markdown]
# ## What you have seen
#
# * A scalar autograd graph is a program. Tracing records it once; from then on it is just data.
# * Replaying the program over vectors turns "one graph per sample" into "one pass per batch":
#   this is `vmap`, batching by the compiler instead of by hand.
# * Independent operations of the same kind can be fused into one array operation; for an MLP
#   that rediscovers the matrix products a framework would have written by hand, and at the
#   size of the digits network it trains about as fast as PyTorch (0.88 to 1.16 times its
#   time, by machine; a smaller MLP and a CNN, faster; the demo's moons, about 1.6 times as
#   fast).
# * The price: the program cannot contain Python decisions on values. Choices must be written
#   as operations (`relu`, `abs`, a mask), or as static arguments. This is the same rule that
#   `jax.jit` and `torch.compile` impose, for the same reason.
# * Higher-order gradients (`create_graph=True`) stay with the eager engine.
