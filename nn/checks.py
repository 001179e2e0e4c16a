"""The argument checks modules share: sizes, initialisations, inputs, numbers read from files,
and short reprs of whatever a message must show."""

from __future__ import annotations

import math
import numbers
import random
import reprlib
import sys
from collections.abc import Callable, Mapping, Set
from typing import Any

from micrograd import Value

from .init import INITS


def _check_size(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_layer_sizes(owner: str, nouts: Any) -> list[int]:
    """nouts as a list of ints: any non-empty ordered collection of integers >= 1."""
    # A string or bytes would read as characters or bytes, a set or mapping has no layer order.
    unordered_or_text = isinstance(nouts, (str, bytes, bytearray, Mapping, Set))
    try:
        sizes = None if unordered_or_text else list(nouts)
    except TypeError:  # a bare number, None, a 0-d numpy array
        sizes = None
    if sizes is None:
        raise ValueError(
            f"{owner}: nouts must be a sequence of layer sizes such as [16, 1], "
            f"got {type(nouts).__name__} {_brief(nouts)}"
        )
    if not sizes:
        raise ValueError(f"{owner}: nouts must be a non-empty sequence of layer sizes, got none")
    return [_check_size(f"{owner}: layer size", n) for n in sizes]


class _Brief(reprlib.Repr):
    """repr cut short: a deep or long value read from a file stays a short line in a message."""

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() <= 128:
            return repr(x)
        try:
            return f"an integer of {len(str(abs(x)))} digits"
        except ValueError:  # longer than Python converts to text
            return f"an integer of more than {sys.get_int_max_str_digits()} digits"


_BRIEF = _Brief()
_BRIEF.maxlevel, _BRIEF.maxdict, _BRIEF.maxlist, _BRIEF.maxstring = 4, 8, 8, 60


def _brief(value: object) -> str:
    return _BRIEF.repr(value)


def _as_float(value: object) -> float | None:
    """value as a float if it is a real number (not a bool) within float range, else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except (OverflowError, ValueError, TypeError):  # 10**400, Fraction(10**400, 3)
        return None


def _check_init(owner: str, init: str | Callable) -> Callable:
    """init's draw(fan_in, fan_out, rng) -> float: a name's, or a function of one's own,
    whose failures and results that are no finite number are errors naming owner."""
    if callable(init):  # checked once, by the outermost module (a Layer for its Neurons)
        return init if getattr(init, "checked_init", False) else _checked_draw(owner, init)
    if not isinstance(init, str):
        raise TypeError(f"{owner}: init must be a name or a function, got {init!r}")
    if init not in INITS:
        known = ", ".join(repr(name) for name in INITS)
        raise ValueError(f"{owner}: unknown init {init!r}; expected one of {known}")
    return INITS[init]


def _checked_draw(owner: str, init: Callable) -> Callable:
    expected = "a function init(fan_in, fan_out, rng) returning one finite number"

    def draw(fan_in: int, fan_out: int, rng) -> float:
        try:
            number = init(fan_in, fan_out, rng)
        except (TypeError, AttributeError) as error:  # most likely, not such a function
            raise TypeError(
                f"{owner}: init({fan_in}, {fan_out}, rng) failed ({type(error).__name__}: "
                f"{error}); expected {expected}"
            ) from error
        except Exception as error:  # its own failure (a math domain error): as it is
            if hasattr(error, "add_note"):  # Python 3.11
                error.add_note(f"{owner}: raised by its init({fan_in}, {fan_out}, rng)")
            raise
        value = _as_float(number)
        if value is None or not math.isfinite(value):
            raise ValueError(
                f"{owner}: init({fan_in}, {fan_out}, rng) gave {_brief(number)}; expected "
                f"{expected}"
            )
        return value

    draw.checked_init = True
    return draw


def _check_rng(owner: str, rng):
    """rng, or the random module for None: anything with uniform(a, b), as random.Random,
    numpy's Generator and RandomState have."""
    if rng is None:
        return random
    if isinstance(rng, type):  # random.Random itself: its uniform wants an instance
        raise TypeError(
            f"{owner}: rng must be a random number generator, such as random.Random(0), got "
            f"the class {rng.__module__}.{rng.__qualname__} itself"
        )
    if not callable(getattr(rng, "uniform", None)):
        raise TypeError(
            f"{owner}: rng must be a random number generator with uniform(a, b), such as "
            f"random.Random(0), got {_brief(rng)}"
        )
    return rng


def _as_inputs(owner: str, x: Any, nin: int) -> list:
    """x as a list of nin inputs; a lone Value or number counts as a list of one."""
    if isinstance(x, (Value, numbers.Real)):
        x = [x]
    else:
        try:
            x = list(x)
        except TypeError:
            raise TypeError(
                f"{owner} expects a list of {nin} inputs, got {type(x).__name__}"
            ) from None
    if len(x) != nin:
        raise ValueError(f"{owner} expects {nin} inputs, got {len(x)}")
    return x
