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

print(f"{'':8} {'micrograd':>22} {'PyTorch':>22} {'difference':>11}")
for name, ours, theirs in [
    ("f", out.data, tout.item()),
    ("df/da", a.grad, ta.grad.item()),
    ("df/db", b.grad, tb.grad.item()),
]:
    print(f"{name:8} {ours:22.17f} {theirs:22.17f} {abs(ours - theirs):11.1e}")

# %% [markdown]
# The numbers agree to 15 or 16 significant digits. The tiny differences that remain come from
# rounding: PyTorch's kernels group some operations differently (for example, inside `tanh` or
# `sigmoid`), and in floating point `(x + y) + z` is not always exactly `x + (y + z)`.
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
        print(f"d2f/d{wrt}d{wrt2}: {ours:+.15f} {theirs:+.15f}  diff {abs(ours - theirs):.1e}")

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
