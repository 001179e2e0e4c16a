"""Stepping an optimizer over arrays: each group's parameters in one operation.

Compiled training (``fit(compile=True)``) keeps the parameters, their gradients and the
optimizer's state in numpy arrays while it runs, and steps them with the optimizer's own
update rule: ``_update`` is written once, against ``F`` (math on floats, numpy here), in
PyTorch's order of operations, so the numbers are the scalar step's to the bit. When the
run ends, ``write_back`` puts everything where users, notebooks and ``state_dict()`` read it:
``p.data``, ``p.grad`` and the optimizer's per-parameter state.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .optimizer import Optimizer, _lerp

__all__ = ["ARRAYS", "ArrayStep"]

ARRAYS = SimpleNamespace(sqrt=np.sqrt, div=np.divide, maximum=np.maximum, lerp=_lerp)
ARRAYS.__doc__ = "The updates' functions on a group's parameters as arrays."


class ArrayStep:
    """optimizer, over flat arrays: ``parameters`` is the order of theta and grad."""

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.parameters = [p for group in optimizer.param_groups for p in group["params"]]
        self.slices, start = [], 0
        for group in optimizer.param_groups:
            self.slices.append(slice(start, start + len(group["params"])))
            start += len(group["params"])
        self.read_state()

    def read_state(self) -> None:
        """Each group's per-parameter state, gathered from the optimizer into arrays."""
        self.states = [self._gathered(group) for group in self.optimizer.param_groups]

    def _gathered(self, group: dict) -> dict:
        """One group's per-parameter state as arrays (a count shared by all stays a number)."""
        entries = [self.optimizer.state.get(p, {}) for p in group["params"]]
        fields = set(entries[0]) if entries else set()  # a group may be empty, as in torch
        if any(set(entry) != fields for entry in entries):
            raise ValueError(
                f"{type(self.optimizer).__name__}: the parameters of one group hold different "
                "state (some have stepped, some not); compiled training steps a group at once"
            )
        state = {}
        for name in fields:
            values = [entry[name] for entry in entries]
            if all(isinstance(v, int) for v in values) and len(set(values)) == 1:
                state[name] = values[0]  # the step count: one number, as the scalar step's
            else:
                state[name] = np.array(values, dtype=np.int64 if name == "step" else np.float64)
        return state

    def values(self) -> np.ndarray:
        """theta: every parameter's number, in this order."""
        return np.array([p.data for p in self.parameters], dtype=np.float64)

    def step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        """optimizer.step(), on theta in place, from grad."""
        with np.errstate(all="ignore"):  # overflow is inf and 0/0 nan, as in float arithmetic
            for group, rows, state in zip(self.optimizer.param_groups, self.slices, self.states):
                g = -grad[rows] if group.get("maximize") else grad[rows].copy()  # state keeps it
                theta[rows] = self.optimizer._update(ARRAYS, theta[rows], g, group, state)

    def write_back(self, theta: np.ndarray, grad: np.ndarray | None) -> None:
        """p.data (and p.grad) from the arrays, and the optimizer's per-parameter state."""
        grads = grad.tolist() if grad is not None else None
        for k, (p, value) in enumerate(zip(self.parameters, theta.tolist())):
            p._data = value  # a float64 from tolist(): the slot, without .data's check
            if grads is not None:
                p.grad = grads[k]
        for group, state in zip(self.optimizer.param_groups, self.states):
            count = len(group["params"])
            columns = {
                name: value.tolist() if isinstance(value, np.ndarray) else [value] * count
                for name, value in state.items()
            }
            for k, p in enumerate(group["params"]):
                self.optimizer.state[p] = {name: column[k] for name, column in columns.items()}
