"""What an op takes: numbers and Values; what anything else gets: an error naming the op.

``Value * "abc"`` is ``TypeError: Value * str: expected a number or Value, got 'abc'``; a
number too large for a float64 (``10**400``) is a ValueError saying so, not a bare
OverflowError; a label is printable text, checked when the Value is made.
"""

from __future__ import annotations

import numbers
import unicodedata

__all__ = ["checked_label", "is_number", "operation", "to_float", "too_large"]


def is_number(x: object) -> bool:
    """Whether x is a real number: int, float, bool, Fraction, numpy's scalars, and numpy's
    bool, which numbers.Real leaves out (a Python bool counts, so numpy's does too)."""
    if isinstance(x, numbers.Real):
        return True
    kind = type(x)
    return kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_")


def to_float(x: object, where: str) -> float:
    """x as a float, or a TypeError (not a number) or ValueError (too large) naming where."""
    if is_number(x):  # int, float, bool, Fraction and numpy scalars
        try:
            return float(x)
        except OverflowError:
            raise too_large(x, where) from None
    raise TypeError(f"{where}: expected a number, got {x!r} ({type(x).__name__})")


def too_large(x: numbers.Real, where: str) -> ValueError:
    shown = f"an integer of {len(str(abs(int(x))))} digits" if isinstance(x, int) else x
    return ValueError(
        f"{where}: {shown} is too large for a float64 (whose largest value is about 1.8e308)"
    )


def operation(x: object, symbol: str, reflected: bool) -> str:
    """How an error names the operation: 'Value * str', 'str * Value', 'Value.maximum(...)'."""
    if symbol.isidentifier():
        return f"Value.{symbol}(...)"
    kind = type(x).__name__
    return f"{kind} {symbol} Value" if reflected else f"Value {symbol} {kind}"


def checked_label(label: object) -> str:
    """A label is text a drawing can show: a str without control characters (None: none)."""
    if label is None:
        return ""
    if not isinstance(label, str):
        raise TypeError(f"Value(): label must be a string, got {label!r} ({type(label).__name__})")
    for character in label:
        if unicodedata.category(character) in ("Cc", "Cs"):  # control, lone surrogate
            raise ValueError(
                f"Value(): label {label!r} holds the unprintable character {character!r}; "
                "a label must be printable text"
            )
    return label
