"""What micrograd.compile is called with: batches of numbers, one row per sample, checked
and shaped; the rows split by the values of static arguments; outputs reduced over a batch."""

from __future__ import annotations

import numbers

import numpy as np
from numpy.ma import MaskedArray

__all__ = ["as_batches", "first_sample", "reduce_outputs", "split_by_value"]


def as_batches(
    batches: tuple, static: tuple = ()
) -> tuple[list[np.ndarray], tuple[tuple[int, ...], ...]]:
    """Each batch as a float64 array with one row per sample, and the shape of one sample;
    static ones keep their own type (class labels stay ints). No batches at all is a
    function of the parameters alone, run as a batch of one. Numbers only, as the eager
    engine takes them: no strings (not even "1.5"), no complex numbers, no Values."""
    if not batches:
        return [], ()
    arrays = []
    for k, batch in enumerate(batches):
        if isinstance(batch, MaskedArray) and batch.mask.any():  # np.asarray reads under it
            raise TypeError(
                f"micrograd.compile: argument {k}: a masked array with masked entries; give "
                "their numbers (batch.filled(value)) or leave those rows out"
            )
        try:
            array = np.asarray(batch)
        except (TypeError, ValueError, RuntimeError) as error:  # torch's, for a tensor that
            raise TypeError(  # requires grad
                f"micrograd.compile: argument {k}: expected numbers, one row per sample "
                f"(an array or nested lists), got {type(batch).__name__}: {error}"
            ) from None
        # what Value() takes (not Decimal, text, complex numbers) as numbers
        if array.dtype.kind == "O" and all(isinstance(v, numbers.Real) for v in array.flat):
            try:  # Fractions, ints too long for int64: their float(), as Value() takes them
                array = array.astype(np.float64)
            except OverflowError:
                raise ValueError(
                    f"micrograd.compile: argument {k}: a number too large for a float64"
                ) from None
        if array.dtype.kind not in "biuf":  # bool, int, unsigned, float
            what = {"c": "complex numbers", "U": "strings", "S": "bytes", "O": "objects"}
            raise TypeError(
                f"micrograd.compile: argument {k}: expected real numbers, one row per sample, "
                f"got {what.get(array.dtype.kind, array.dtype)} (dtype {array.dtype})"
            )
        if array.ndim == 0:
            raise ValueError(
                f"micrograd.compile: argument {k}: expected one row per sample, got a scalar"
            )
        if k in static:
            if array.dtype.kind == "f" and np.isnan(array).any():
                row = int(np.argwhere(np.isnan(array))[0][0])
                raise ValueError(
                    f"micrograd.compile: static argument {k} holds nan (row {row}); a static "
                    "value picks the traced program, and nan equals nothing, not even itself"
                )
        else:
            array = array.astype(np.float64, copy=False)
        arrays.append(array)
    sizes = {len(array) for array in arrays}
    if len(sizes) != 1:
        each = ", ".join(f"argument {k}: {len(array)}" for k, array in enumerate(arrays))
        raise ValueError(f"micrograd.compile: the batches differ in length ({each} samples)")
    if 0 in sizes:
        raise ValueError("micrograd.compile: the batch is empty")
    return arrays, tuple(array.shape[1:] for array in arrays)


def first_sample(arrays: list[np.ndarray]) -> list[list[float]]:
    """The flat numbers of each argument of the first sample, to trace with."""
    return [array[0].reshape(-1).tolist() for array in arrays]


def reduce_outputs(outputs: np.ndarray, reduce: str, single: bool):
    """outputs (n_outputs, batch) reduced over the batch: a float, or an array."""
    if reduce == "none":
        return outputs[0].copy() if single else outputs.T.copy()
    with np.errstate(all="ignore"):  # inf + -inf is nan, as in the eager sum
        reduced = outputs.sum(axis=1)
    if reduce == "mean":
        reduced = reduced / outputs.shape[1]
    return float(reduced[0]) if single else reduced


def split_by_value(arrays: list[np.ndarray]) -> list[tuple[list, np.ndarray]]:
    """The rows grouped by the values the arrays take in them: [(values, rows)], rows
    grouped by static_key, each group's values those of its first row."""
    groups: dict[tuple, tuple[list, list[int]]] = {}
    for k, values in enumerate(zip(*[array.tolist() for array in arrays])):
        key = tuple(static_key(v) for v in values)
        groups.setdefault(key, (list(values), []))[1].append(k)
    return [(values, np.array(rows)) for values, rows in groups.values()]


def static_key(value) -> tuple:
    """A static value as a key that tells apart what == does not: 0.0 from -0.0 (1 / t is
    inf or -inf), 1 from 1.0 and True (the function may look at the type), and a list
    (a static argument per sample of some shape) as a tuple, which a dict can hold."""
    if isinstance(value, (list, tuple)):
        return (list, tuple(static_key(v) for v in value))
    return (type(value), repr(value) if isinstance(value, float) else value)
