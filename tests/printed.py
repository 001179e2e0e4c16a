"""Comparing printed text as a reader would, not as a CPU rounds it.

A float printed to 15 or 17 digits can differ in its last digit from one machine to another
(PyTorch and numpy pick other kernels on other CPUs), so printed numbers are compared as
numbers, to ``REL`` relative, and everything else between them as text.
"""

from __future__ import annotations

import math
import re

REL = 1e-10  # far above rounding noise (~1e-16), far below any change a reader would see
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:nan|inf)\b")


def _split(text: str) -> tuple[list[str], list[float]]:
    return NUMBER.split(text), [float(token) for token in NUMBER.findall(text)]


def _close(now: float, then: float) -> bool:
    if math.isnan(now) or math.isnan(then):
        return math.isnan(now) and math.isnan(then)
    return now == then or abs(now - then) <= REL * max(abs(now), abs(then))


def same_printout(now: str, then: str) -> bool:
    """Whether two printouts say the same: equal text between the numbers, and each number
    equal to ``REL`` relative (so 0.30000000000000004 is 0.3, but 1.3e-16 is not 7.6e-17)."""
    words_now, numbers_now = _split(now)
    words_then, numbers_then = _split(then)
    return (
        words_now == words_then
        and len(numbers_now) == len(numbers_then)
        and all(map(_close, numbers_now, numbers_then))
    )
