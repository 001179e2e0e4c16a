"""The `micrograd` console command."""

from __future__ import annotations

import argparse
import sys

from micrograd import Value, grad


def _expression_demo() -> None:
    """Build a small expression, backpropagate, and check each gradient by finite differences."""

    def f(a, b, c):
        return (a * b + c.exp()).tanh() + (a / b) ** 2

    point = {"a": 0.5, "b": -1.5, "c": 0.25}
    inputs = [Value(x, label=name) for name, x in point.items()]
    out = f(*inputs)
    out.backward()
    print("f(a, b, c) = tanh(a*b + exp(c)) + (a/b)**2")
    print(f"f = {out.data:.12f}")
    eps = 1e-6
    print(f"{'input':>5} {'value':>8} {'backprop grad':>18} {'finite difference':>18}")
    for i, x in enumerate(inputs):
        up = [Value(v.data + (eps if j == i else 0.0)) for j, v in enumerate(inputs)]
        down = [Value(v.data - (eps if j == i else 0.0)) for j, v in enumerate(inputs)]
        numeric = (f(*up).data - f(*down).data) / (2 * eps)
        print(f"{x.label:>5} {x.data:8.3f} {x.grad:18.12f} {numeric:18.12f}")
    (second,) = grad(grad(out, [inputs[0]], create_graph=True)[0], [inputs[0]])
    print(f"d2f/da2 = {second:.12f} (from backward(create_graph=True))")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="micrograd", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="backpropagate through a small expression")
    args = parser.parse_args(argv)
    if args.command == "demo":
        _expression_demo()
    return 0


if __name__ == "__main__":
    sys.exit(main())
