"""One rule per setting: what a hyperparameter or a saved state entry may hold.

The constructors and load_state_dict check the same rules, so a loaded state is one the
constructor would have accepted and step() can run from. A state's numbers may be anything
a step can leave, nan and the infinities included.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class _Rule:
    """What one setting may hold, in words (expected) and as two tests: is_kind (else
    TypeError) and holds, asked only of a value of the right kind (else ValueError)."""

    expected: str
    is_kind: Callable[[object], bool]
    holds: Callable[[object], bool] = lambda value: True
    real: bool = False  # one real number, finite as a float (kept as a float)

    def check(self, owner: str, field: str, value) -> None:
        """Raise '{owner}: invalid {field} {value}; expected {expected}' unless value fits."""
        if not self.is_kind(value):
            raise TypeError(self._message(owner, field, value))
        if not self.holds(value):
            raise ValueError(self._message(owner, field, value))

    def _message(self, owner: str, field: str, value) -> str:
        return f"{owner}: invalid {field} {_shown(value)}; expected {self.expected}"


def _is_real(value) -> bool:
    # bool is an int subclass, but lr=True is a mistake, not the number 1
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _as_float(value) -> float:
    """float(value), or an infinity where that is an OverflowError (float(10**400))."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _shown(value) -> str:
    # the repr of an int past float range runs to hundreds of digits, or raises past 4300
    if isinstance(value, bool):
        return f"{value!r} (a bool)"
    if _is_integer(value) and math.isinf(_as_float(value)):
        return f"(an int of {int(value).bit_length()} bits, too large for a float)"
    return repr(value)


def _real(expected: str = "", holds: Callable[[float], bool] = lambda x: True) -> _Rule:
    """A real number (not a bool) that is finite as a float and whose float satisfies holds."""
    return _Rule(
        f"a finite real number{expected}",
        _is_real,
        lambda value: math.isfinite(_as_float(value)) and holds(_as_float(value)),
        real=True,
    )


def _integer(low: int) -> _Rule:
    """An integer >= low; step counts meet floats (beta ** step), so it must fit in one."""
    return _Rule(
        f"an integer >= {low} that fits in a float",
        _is_integer,
        lambda value: value >= low and math.isfinite(_as_float(value)),
    )


_FINITE = _real()
_NON_NEGATIVE = _real(" >= 0", lambda x: x >= 0)
_FLAG = _Rule("True or False", lambda value: isinstance(value, bool))
_BETAS = _Rule(
    "two finite real numbers in [0, 1)",
    lambda value: isinstance(value, (list, tuple)) and all(map(_is_real, value)),
    lambda value: len(value) == 2 and all(0 <= _as_float(beta) < 1 for beta in value),
)
_COUNT = _integer(0)
# a saved state's number: any real, nan and the infinities too, as steps from a gradient of
# 1e200 or nan leave them (and torch.optim loads them); step() runs from any of them
_STATE = _Rule(
    "a real number within float range, or nan or an infinity",
    _is_real,
    lambda value: not (_is_integer(value) and math.isinf(_as_float(value))),  # 10**400
)
