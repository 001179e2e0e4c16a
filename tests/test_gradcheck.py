"""gradcheck's own arguments: each bad one is a ValueError naming gradcheck and the argument.

(gradcheck against correct and wrong derivative rules is tested in test_engine.py.)
"""

from __future__ import annotations

import math
import re

import pytest

from micrograd import gradcheck


def product(a, b):
    return a * b


@pytest.mark.parametrize(
    "argument, value",
    [
        ("eps", 0),  # was ZeroDivisionError
        ("eps", 0.0),
        ("eps", -1e-6),  # was accepted: a negative step is no step size
        ("eps", math.nan),  # was a GradcheckError blaming the derivative
        ("eps", math.inf),
        ("eps", "1e-6"),  # was TypeError from inside the loop
        ("eps", None),
        ("eps", True),
        ("order", 0),
        ("order", -1),
        ("order", 1.5),  # was TypeError from range()
        ("order", 2.0),
        ("order", "2"),  # was TypeError from a comparison
        ("order", True),  # was accepted as order 1
        ("atol", -1e-5),  # was a GradcheckError blaming the derivative
        ("atol", math.nan),
        ("atol", math.inf),  # was accepted: every derivative passes
        ("atol", "0"),
        ("rtol", -1e-3),
        ("rtol", math.nan),
        ("rtol", math.inf),
        ("rtol", None),
    ],
)
def test_bad_arguments_name_gradcheck_and_the_argument(argument, value):
    with pytest.raises(
        ValueError, match=rf"^gradcheck: {argument} must be .*, got {re.escape(repr(value))}$"
    ):
        gradcheck(product, [1.0, 2.0], **{argument: value})


@pytest.mark.parametrize(
    "argument, value",
    [("eps", 1e-4), ("order", 1), ("order", 3), ("atol", 0), ("atol", 1e-3), ("rtol", 0.0)],
)
def test_good_arguments_still_pass(argument, value):
    assert gradcheck(product, [1.0, 2.0], **{argument: value})


def test_arguments_are_checked_before_fn_is_called():
    calls = []

    def fn(a):
        calls.append(a)
        return a * a

    with pytest.raises(ValueError, match="gradcheck: eps"):
        gradcheck(fn, [1.0], eps=0)
    assert calls == []
