# ruff: noqa: B018, E402
# %% [markdown]
# # 6. The same gradients as PyTorch
#
# How do we know this little engine computes the right derivatives? We ask a trusted one.
# PyTorch is built the same way (it records operations and runs the chain rule backwards), just
# on tensors instead of single numbers. In **float64** both engines should agree to the last
# couple of digits. This notebook puts them side by side: a hand-written expression, its second
# derivatives, the awkward points where derivatives blow up, and finally a whole network moved from
# one library to the other and back.

# %%
import torch

from micrograd import Value, grad

torch.set_default_dtype(torch.float64)


def agree(ours, theirs, tol=1e-12):
    """Whether two numbers agree to tol, relative to the larger of them (and at least 1)."""
    return abs(ours - theirs) <= tol * max(1.0, abs(ours), abs(theirs))


# %% [markdown]
# ## One function, two engines
#
# `Value` and `torch.Tensor` share the method names `tanh`, `exp`, `sigmoid`, `relu`, ... and
# both overload `+ - * / **`. So one Python function can run on either kind of number:


# %%
def f(a, b):
    return (a * b + b.exp()).tanh() + (a / b) ** 2 + a.sigmoid() * b.relu()


a, b = Value(0.7), Value(-1.3)
out = f(a, b)
out.backward()

ta = torch.tensor(0.7, requires_grad=True)
tb = torch.tensor(-1.3, requires_grad=True)
tout = f(ta, tb)
tout.backward()

print(f"{'':8} {'micrograd':>19} {'PyTorch':>19}  agree to 1e-12")
for name, ours, theirs in [
    ("f", out.data, tout.item()),
    ("df/da", a.grad, ta.grad.item()),
    ("df/db", b.grad, tb.grad.item()),
]:
    print(f"{name:8} {ours:19.15f} {theirs:19.15f}  {agree(ours, theirs)}")

# %% [markdown]
# The numbers agree far past the twelfth digit. What can differ is the last digit or two, and
# only from rounding: PyTorch's kernels group some operations differently (for example, inside
# `tanh` or `sigmoid`, and differently again on another CPU), and in floating point
# `(x + y) + z` is not always exactly `x + (y + z)`. That is why this notebook states agreement
# as a bound ("agree to 1e-12") instead of printing the rounding noise itself.
#
# ## Second derivatives
#
# The gradient rules of this engine are written with `Value` operations themselves. With
# `create_graph=True` a gradient is therefore a graph too, and differentiating it again gives
# second derivatives. PyTorch offers the same switch. Here is the full 2×2 matrix of second
# derivatives (the Hessian) of `f`, from both:

# %%
a, b = Value(0.7), Value(-1.3)
first = grad(f(a, b), [a, b], create_graph=True)
hessian = [grad(g, [a, b]) for g in first]

ta = torch.tensor(0.7, requires_grad=True)
tb = torch.tensor(-1.3, requires_grad=True)
tfirst = torch.autograd.grad(f(ta, tb), [ta, tb], create_graph=True)
thessian = [[h.item() for h in torch.autograd.grad(g, [ta, tb], retain_graph=True)] for g in tfirst]

for i, wrt in enumerate("ab"):
    for j, wrt2 in enumerate("ab"):
        ours, theirs = hessian[i][j], thessian[i][j]
        print(f"d2f/d{wrt}d{wrt2}: {ours:+.14f} {theirs:+.14f}  agree: {agree(ours, theirs)}")

# %% [markdown]
# The matrix is symmetric (d²f/da db = d²f/db da, up to the last digit's rounding), as it must be
# for a smooth function, and both engines agree. You could keep going: `grad` of a second
# derivative with `create_graph=True` gives a third one.
#
# ## The awkward points
#
# Some functions have no finite derivative somewhere: `sqrt` and `log` at 0, `x / x` at 0, and
# `relu` and `abs` have a kink at 0. There the engines must *choose* an answer, and this engine
# chooses PyTorch's: `inf`, `nan` or, at a kink, the gradient 0. Values are computed, never an
# exception, so a training run shows the problem (a `nan` loss) instead of crashing, and
# `micrograd.detect_anomaly()` can point at the operation responsible.

# %%
awkward = {
    "relu(x)": lambda x: x.relu(),
    "abs(x)": lambda x: abs(x),
    "sqrt(x)": lambda x: x.sqrt(),
    "log(x)": lambda x: x.log(),
    "x / x": lambda x: x / x,
    "x ** 0.5": lambda x: x**0.5,
}
print(f"at x = 0   {'micrograd':>20}  {'PyTorch':>20}")
for name, fn in awkward.items():
    x = Value(0.0)
    y = fn(x)
    y.backward()
    tx = torch.tensor(0.0, requires_grad=True)
    ty = fn(tx)
    ty.backward()
    ours = f"{y.data}, {x.grad}"
    theirs = f"{ty.item()}, {tx.grad.item()}"
    print(f"{name:9}  {ours:>20}  {theirs:>20}")

# %% [markdown]
# Each pair is *(value, derivative)*, and the two columns are identical.
#
# ## A whole network in both libraries
#
# `nn.to_torch(model)` builds the equivalent `torch.nn.Sequential` (float64), with the same
# weights: each of our layers becomes a `Linear` layer (its neurons' weights are the rows of the
# weight matrix) followed by the activation.

# %%
import random

import numpy as np
import torch.nn.functional as F

from micrograd import nn

model = nn.MLP(3, [4, 4, 1], activation="tanh", rng=random.Random(0))
torch_model = nn.to_torch(model)
print(model)
print(torch_model)

# %% [markdown]
# Now one mean-squared-error loss over a batch of five samples, computed and backpropagated by
# each library on its own:

# %%
rng = np.random.default_rng(0)
X = rng.normal(size=(5, 3))
y = rng.normal(size=5)

loss = nn.mse_loss([model(x) for x in X.tolist()], y.tolist())
loss.backward()

torch_loss = F.mse_loss(torch_model(torch.tensor(X)).squeeze(1), torch.tensor(y))
torch_loss.backward()

print(f"loss: micrograd {loss.data:.15f}   PyTorch {torch_loss.item():.15f}")

# %% [markdown]
# Every one of the 41 gradients, layer by layer. Our gradients sit in each parameter's `.grad`;
# PyTorch's in `linear.weight.grad` and `linear.bias.grad`, so we arrange ours the same way:

# %%
linears = [m for m in torch_model if isinstance(m, torch.nn.Linear)]
for i, (layer, linear) in enumerate(zip(model.layers, linears)):
    ours_w = np.array([[w.grad for w in neuron.w] for neuron in layer.neurons])
    ours_b = np.array([neuron.b.grad for neuron in layer.neurons])
    theirs_w, theirs_b = linear.weight.grad.numpy(), linear.bias.grad.numpy()
    pairs = [*zip(ours_w.ravel(), theirs_w.ravel()), *zip(ours_b, theirs_b)]
    print(
        f"layer {i}: its {ours_w.size} weight and {ours_b.size} bias gradient(s) agree to 1e-12: "
        f"{all(agree(o, t) for o, t in pairs)}"
    )

print()
print("the first neuron's weight gradients, side by side:")
print("  micrograd:", np.array([w.grad for w in model.layers[0].neurons[0].w]))
print("  PyTorch:  ", linears[0].weight.grad[0].numpy())

# %% [markdown]
# ## Training steps in both
#
# The optimizers in `nn.optim` follow `torch.optim`'s update rules. Five Adam steps in each
# library, from the same weights, keep the two models in lockstep:

# %%
optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
torch_optimizer = torch.optim.Adam(torch_model.parameters(), lr=0.01)
for _ in range(5):
    optimizer.zero_grad()
    nn.mse_loss([model(x) for x in X.tolist()], y.tolist()).backward()
    optimizer.step()
    torch_optimizer.zero_grad()
    F.mse_loss(torch_model(torch.tensor(X)).squeeze(1), torch.tensor(y)).backward()
    torch_optimizer.step()

ours = np.array([p.data for p in model.parameters()])
back = nn.from_torch(torch_model)  # PyTorch's weights, in our parameter order
theirs = np.array([p.data for p in back.parameters()])
in_lockstep = all(map(agree, ours, theirs))
print(f"after 5 Adam steps, all {ours.size} parameters agree to 1e-12: {in_lockstep}")

# %% [markdown]
# That used the other direction, `nn.from_torch`: it turns a `torch.nn.Sequential` of `Linear`
# layers and activations (and `Conv2d`, pooling and `Flatten`) into one of our models, weights
# included. It is how you could inspect,
# draw or step through a small PyTorch network with this library:

# %%
torch.manual_seed(0)  # torch.nn.Linear starts from random weights
trained_elsewhere = torch.nn.Sequential(
    torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1)
).double()
ours = nn.from_torch(trained_elsewhere)
print(ours)
x = [0.5, -1.0]
print(f"PyTorch: {trained_elsewhere(torch.tensor(x)).item():.15f}")
print(f"ours:    {ours(x).data:.15f}")

# %% [markdown]
# Anything else (a `Dropout`, a `Linear` subclass with a forward of its own, a convolution
# with dilation) is refused with an explanation rather than converted wrongly:

# %%
try:
    nn.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5)))
except TypeError as error:
    print("TypeError:", error)

# %% [markdown]
# ## Checking your own code
#
# Everything above is what `micrograd.testing` does for you, in one call.
# `assert_matches_torch` runs one function on Values and on float64 tensors and compares the
# value, every gradient and the whole Hessian; it stays silent when they agree and raises
# `AssertionError` with a table when they do not. Its `d(-2*f)` rows compare the gradients
# of `-2 * f`, ours and PyTorch's: each rule then meets an incoming gradient other than 1,
# once on Values and once on plain floats, where a rule that forgets to multiply by it shows.

# %%
from micrograd.testing import assert_matches_torch, check_op

assert_matches_torch(f, 0.7, -1.3)
print("f agrees with PyTorch: value, 2 gradients, 4 second derivatives")
try:
    assert_matches_torch(f, 0.7, -1.3, torch_fn=lambda a, b: f(a, b) + 1e-9 * a * a)
except AssertionError as error:
    print(error)

# %% [markdown]
# ### An op of your own, as one row
#
# softplus, `log(1 + e**a)`, is not in the table. Adding it takes one row: its forward next to
# its derivative (`sigmoid(a)`), written against `F`, so the same text runs on floats, on
# Values (second derivatives) and on arrays (`micrograd.compile`). The first try writes the
# formula straight from the book:

# %%
from micrograd import Op

naive_softplus = Op(
    "softplus",
    1,
    lambda F, a: F.log1p(F.exp(a)),
    lambda F, g, out, a: (g * F.div(1.0, 1.0 + F.exp(-a)),),
    "softplus(a) = log(1 + e**a)",
)
print(naive_softplus(Value(2.0)))
try:
    check_op(naive_softplus, torch.nn.functional.softplus)
except AssertionError as error:
    print(error)

# %% [markdown]
# `check_op` runs every check the built-in ops pass: a grid of awkward points (zeros of both
# signs, huge and tiny magnitudes, infinities, nan) against PyTorch to second order, finite
# differences at smooth points, and the compiled program. It found real problems: `e**a`
# overflows past 709 (PyTorch returns `a` itself past a threshold of 20, where the two differ
# by log(1 + e**-a), below 2.1e-9), and `1 / (1 + e**-a)` turns into `1 / inf` far to the
# left. The second try does as PyTorch does:

# %%
SOFTPLUS = Op(
    "softplus",
    1,
    lambda F, a: F.where(F.plain(a) > 20, a, F.log1p(F.exp(a))),
    lambda F, g, out, a: (F.where(F.plain(a) > 20, g, g * F.div(F.exp(a), F.exp(a) + 1)),),
    "softplus(a) = log(1 + e**a), and a itself past 20, as in PyTorch",
)
try:
    check_op(SOFTPLUS, torch.nn.functional.softplus)
except AssertionError as error:
    print(error)

# %% [markdown]
# Two second derivatives remain, and both are PyTorch's own choices: at the threshold itself
# its double backward already gives 0, and far to the left it rounds a number below the
# smallest float64 (5e-324) to 0. They are not mistakes of ours, so they are declared as known
# differences, and everything else passes:


# %%
def pytorch_choices(point, index, ours, theirs):
    """d2/da2 at the threshold (20) and below e**-745: PyTorch says 0."""
    return index == (0, 0) and theirs == 0 and (point[0] == 20 or abs(ours) < 1e-300)


check_op(SOFTPLUS, torch.nn.functional.softplus, known_difference=pytorch_choices)
print("softplus passes everything the built-in ops pass")
print("softplus(1) =", SOFTPLUS(1.0).data, " its gradient:", grad(SOFTPLUS(x := Value(1.0)), [x]))

# %% [markdown]
# The new op now works wherever a built-in does: `backward()`, `create_graph`, `grad`,
# `no_grad`, `detect_anomaly`, drawings and `micrograd.compile`. A whole model has its check
# too, through `to_torch`: every output, the loss and every parameter's gradient, by name.

# %%
from micrograd.nn.testing import assert_module_matches_torch

assert_module_matches_torch(model, X.tolist(), y.tolist(), loss="mse")
print("the MLP and its PyTorch copy agree on", len(model.parameters()), "gradients")

# %% [markdown]
# ## Why this matters
#
# This engine exists to be read, not to be fast: every number is a Python object. When a model
# outgrows it, `nn.to_torch` hands it over to PyTorch with its weights, and this notebook is the
# evidence that nothing changes in the handover: the same values, the same gradients (first and
# second order), the same optimizer steps. The test suite checks the same things on every run,
# for every operation, against PyTorch in float64.
