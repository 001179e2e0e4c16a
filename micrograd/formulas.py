"""An op row's formulas (``Op.partials``) read as numbers, so that they can be checked.

A formula is the text a step-through caption shows for a local derivative, such as
``"b * a ** (b - 1)"``: a Python expression in the op's input names, ``out`` (the op's
result) and the functions ``exp``, ``log``, ``sin``, ``cos``, ``tanh``, ``sqrt``,
``sigmoid`` and ``sign``, with two forms of its own:

* ``"exp(a) = out"`` names one number two ways: the first is read;
* ``"1 if a > b, 1/2 if a == b, else 0"`` is a chain of conditions, read in order.

Only arithmetic, comparisons, conditionals and those functions are read; anything else is a
FormulaError (a ValueError) saying what cannot be read.
"""

from __future__ import annotations

import ast
import math
import operator

from .floatmath import fsigmoid

__all__ = ["FormulaError", "evaluate"]


class FormulaError(ValueError):
    """A formula that cannot be read (not a math error in reading one)."""


FUNCTIONS = {
    "exp": math.exp,
    "log": math.log,
    "sin": math.sin,
    "cos": math.cos,
    "tanh": math.tanh,
    "sqrt": math.sqrt,
    "sign": lambda x: float((x > 0) - (x < 0)),
    "sigmoid": fsigmoid,
}


_ARITHMETIC = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_SIGNS = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
# "out is a" asks whether the op's result is that input: by its number, as the names hold
# numbers here (at a tie of max's inputs both are; a caption's nodes tell them apart)
_COMPARISONS = {
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Is: operator.eq,
}


def as_python(formula: str) -> str:
    """formula as a Python expression: 'exp(a) = out' keeps its first side, and
    'x if c, y if d, else z' becomes 'x if c else y if d else z'."""
    sides = formula.split(" = ")
    if not all(side.strip() for side in sides):
        raise FormulaError(f"formula {formula!r}: a side of ' = ' is empty")
    formula = sides[0]
    *conditions, last = formula.split(", ")
    if not conditions:
        return formula
    if not last.startswith("else "):
        raise FormulaError(f"formula {formula!r}: a chain of conditions ends with 'else ...'")
    return "".join(f"{condition} else " for condition in conditions) + last[len("else ") :]


def evaluate(formula: str, names: dict[str, float]) -> float:
    """The number formula gives with names bound to numbers (``{"a": 0.5, "out": 0.25}``).
    FormulaError if it cannot be read; Python's own errors (ZeroDivisionError, a math domain
    ValueError, OverflowError) where its arithmetic fails."""
    try:
        tree = ast.parse(as_python(formula), mode="eval")
    except SyntaxError:
        raise FormulaError(f"formula {formula!r} is not an expression this can read") from None
    return float(_value(tree.body, formula, names))


def _value(node: ast.AST, formula: str, names: dict[str, float]):
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left, right = _value(node.left, formula, names), _value(node.right, formula, names)
        return _ARITHMETIC[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _SIGNS:
        return _SIGNS[type(node.op)](_value(node.operand, formula, names))
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARISONS for op in node.ops):
        left = _value(node.left, formula, names)
        for op, right_node in zip(node.ops, node.comparators):
            right = _value(right_node, formula, names)
            if not _COMPARISONS[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        taken = node.body if _value(node.test, formula, names) else node.orelse
        return _value(taken, formula, names)
    if isinstance(node, ast.BoolOp):
        values = (_value(v, formula, names) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in FUNCTIONS
        and len(node.args) == 1
        and not node.keywords
    ):
        return FUNCTIONS[node.func.id](_value(node.args[0], formula, names))
    raise FormulaError(
        f"formula {formula!r}: cannot read {ast.unparse(node)!r} (it reads numbers, the names "
        f"{', '.join(sorted(names))}, arithmetic, comparisons, conditions and "
        f"{', '.join(FUNCTIONS)})"
    )
