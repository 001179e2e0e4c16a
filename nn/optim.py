"""Optimizers and learning-rate schedules, with PyTorch's names, arguments and defaults.

An optimizer holds ``param_groups`` (dicts with ``"params"`` and the hyperparameters, as in
``torch.optim``) and per-parameter state. ``step()`` updates each parameter's ``.data``
from its ``.grad`` with float arithmetic in the order PyTorch uses, under ``no_grad`` so an
update never records a graph. A schedule sets ``group["lr"]`` each time it steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from micrograd import Value, no_grad

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "LRScheduler",
    "StepLR",
    "LinearLR",
    "ExponentialLR",
    "LambdaLR",
]


class Optimizer:
    """Base class: param_groups, per-parameter state, step() and zero_grad()."""

    def __init__(self, params: Iterable, defaults: dict) -> None:
        name = type(self).__name__
        if isinstance(params, Value):
            raise TypeError(f"{name}: params must be an iterable of Values, got one Value")
        params = list(params)
        if not params:
            raise ValueError(f"{name} got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = defaults
        self.param_groups: list[dict] = []
        for group in groups:
            group = {**defaults, **group, "params": list(group["params"])}
            for p in group["params"]:
                if not isinstance(p, Value):
                    raise TypeError(f"{name}: every parameter must be a Value, got {p!r}")
            self._check(group)
            self.param_groups.append(group)
        self.state: dict[Value, dict] = {}

    def _check(self, group: dict) -> None:
        name = type(self).__name__
        for key in ("lr", "weight_decay", "momentum", "eps", "lr_decay"):
            if key in group and not group[key] >= 0.0:
                raise ValueError(f"{name}: invalid {key} {group[key]!r}; expected >= 0")

    def zero_grad(self) -> None:
        """Set the grad of every parameter to 0."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its grad, without recording a graph."""
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    grad = -p.grad if group.get("maximize") else p.grad
                    p.data = self._update(p.data, grad, group, self.state.setdefault(p, {}))

    def _update(self, param: float, grad: float, group: dict, state: dict) -> float:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """The hyperparameters and per-parameter state as plain data (json.dumps-ready), laid
        out as torch.optim's: {"state": {i: {...}}, "param_groups": [{..., "params": [i]}]},
        a parameter named by its position across the groups."""
        positions = self._positions()
        groups = [
            {
                **{key: _plain(value) for key, value in group.items() if key != "params"},
                "params": [positions[p] for p in group["params"]],
            }
            for group in self.param_groups
        ]
        state = {positions[p]: dict(entry) for p, entry in self.state.items() if entry}
        return {"state": state, "param_groups": groups}

    def _positions(self) -> dict[Value, int]:
        positions: dict[Value, int] = {}
        for group in self.param_groups:
            for p in group["params"]:
                positions.setdefault(p, len(positions))
        return positions

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what state_dict() returned, for the same parameters in the same order
        (state keys may be strings, as after a JSON round trip). On any mismatch this
        raises ValueError and leaves the optimizer as it was."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if not isinstance(saved_groups, list) or len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the saved state has {_count(saved_groups)} parameter groups, "
                f"this optimizer {len(self.param_groups)}"
            )
        groups = []
        for number, (ours, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if not isinstance(saved, dict) or set(saved) != set(ours):
                missing = sorted(set(ours) - set(saved)) if isinstance(saved, dict) else "all"
                extra = sorted(set(saved) - set(ours)) if isinstance(saved, dict) else []
                raise ValueError(
                    f"{name}: group {number} has other settings than this optimizer's "
                    f"(missing {missing}, unexpected {extra})"
                )
            if not isinstance(saved["params"], list) or len(saved["params"]) != len(ours["params"]):
                raise ValueError(
                    f"{name}: group {number} holds {_count(saved['params'])} parameters in the "
                    f"saved state, {len(ours['params'])} here"
                )
            for key, value in saved.items():
                if key != "params" and not _same_kind(ours[key], value):
                    raise ValueError(f"{name}: group {number} has {key} = {value!r}")
            # JSON has no tuples: a setting that is a tuple here (betas) comes back as one
            group = {
                key: tuple(value) if isinstance(ours[key], tuple) else value
                for key, value in saved.items()
            }
            group["params"] = ours["params"]
            self._check(group)
            groups.append(group)
        params = list(self._positions())
        if not isinstance(state_dict["state"], dict):
            raise ValueError(f"{name}: 'state' must be a dict, got {state_dict['state']!r}")
        state = {}
        for key, entry in state_dict["state"].items():
            position = int(key) if str(key).isdigit() else -1
            if not 0 <= position < len(params) or not isinstance(entry, dict):
                raise ValueError(f"{name}: state for parameter {key!r}, which does not exist")
            for field, value in entry.items():
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"{name}: state {field!r} of parameter {key} is {value!r}")
            state[params[position]] = dict(entry)
        self.param_groups, self.state = groups, state


def _count(items) -> str:
    return str(len(items)) if isinstance(items, list) else "no list of"


def _same_kind(ours, saved) -> bool:
    """Whether a saved hyperparameter can stand where ours stands: a flag for a flag, a
    number for a number, a pair of numbers for betas."""
    if isinstance(ours, bool) or ours is None:
        return type(saved) is type(ours)
    if isinstance(ours, tuple):
        return isinstance(saved, (list, tuple)) and len(saved) == len(ours)
    return isinstance(saved, (int, float)) and not isinstance(saved, bool)


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


class SGD(Optimizer):
    """p -= lr * g, or lr * b with momentum: b = momentum * b + (1 - dampening) * g."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening = 0")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening)
        defaults.update(weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param: float, grad: float, group: dict, state: dict) -> float:
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        momentum = group["momentum"]
        if momentum:
            if "momentum_buffer" not in state:
                buffer = grad
            else:
                buffer = state["momentum_buffer"] * momentum + (1 - group["dampening"]) * grad
            state["momentum_buffer"] = buffer
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        return param - group["lr"] * grad


class Adam(Optimizer):
    """p -= lr * m_hat / (sqrt(v_hat) + eps), m and v running means of g and g**2."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        if not all(0.0 <= beta < 1.0 for beta in betas) or len(betas) != 2:
            raise ValueError(f"{type(self).__name__}: betas must be two numbers in [0, 1)")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        defaults.update(amsgrad=amsgrad, maximize=maximize)
        defaults.update(decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, param: float, grad: float, group: dict, state: dict) -> float:
        lr, (beta1, beta2), decay = group["lr"], group["betas"], group["weight_decay"]
        if decay:
            if group["decoupled_weight_decay"]:
                param = param * (1 - lr * decay)
            else:
                grad = grad + decay * param
        step = state["step"] = state.get("step", 0) + 1
        m = state.get("exp_avg", 0.0)
        m = state["exp_avg"] = m + (grad - m) * (1 - beta1)
        v = state["exp_avg_sq"] = state.get("exp_avg_sq", 0.0) * beta2 + (1 - beta2) * grad * grad
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"] = max(state.get("max_exp_avg_sq", 0.0), v)
        step_size = lr / (1 - beta1**step)
        denom = math.sqrt(v) / math.sqrt(1 - beta2**step) + group["eps"]
        return param - step_size * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before the step."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad,
            maximize=maximize, decoupled_weight_decay=True,
        )  # fmt: skip


class RMSprop(Optimizer):
    """p -= lr * g / (sqrt(s) + eps), s a running mean of g**2 (torch.optim.RMSprop)."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay)
        defaults.update(momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param: float, grad: float, group: dict, state: dict) -> float:
        alpha = group["alpha"]
        state["step"] = state.get("step", 0) + 1  # unused by the update; kept, as PyTorch does
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        square_avg = state.get("square_avg", 0.0) * alpha + (1 - alpha) * grad * grad
        state["square_avg"] = square_avg
        if group["centered"]:
            grad_avg = state.get("grad_avg", 0.0)
            grad_avg = state["grad_avg"] = grad_avg + (grad - grad_avg) * (1 - alpha)
            avg = math.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            avg = math.sqrt(square_avg) + group["eps"]
        if group["momentum"] > 0:
            buffer = state.get("momentum_buffer", 0.0) * group["momentum"] + grad / avg
            state["momentum_buffer"] = buffer
            return param - group["lr"] * buffer
        return param - group["lr"] * (grad / avg)


class Adagrad(Optimizer):
    """p -= lr_t * g / (sqrt(sum of g**2) + eps), lr_t = lr / (1 + (t - 1) * lr_decay)."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps)
        defaults.update(initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param: float, grad: float, group: dict, state: dict) -> float:
        step = state["step"] = state.get("step", 0) + 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        total = state.get("sum", group["initial_accumulator_value"]) + grad * grad
        state["sum"] = total
        return param - clr * (grad / (math.sqrt(total) + group["eps"]))


# ---------------------------------------------------------------------------------------
# Learning-rate schedules: call scheduler.step() once per epoch, after optimizer.step().


class LRScheduler:
    """Sets each group's lr to lr_at(initial lr, epoch); epoch counts scheduler.step() calls."""

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the new learning rates."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        """The learning rate of each group, as last set."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def _apply(self) -> None:
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base_lr, self.last_epoch)

    def state_dict(self) -> dict:
        """The schedule's position and settings as plain data (a LambdaLR's function is not
        data, and is left out, as in PyTorch)."""
        return {
            key: list(value) if isinstance(value, list) else value
            for key, value in vars(self).items()
            if key not in ("optimizer", "lr_lambda")
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what state_dict() returned; the optimizer's own state holds its current lr.
        On a mismatch this raises ValueError and changes nothing."""
        expected = set(self.state_dict())
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: expected the keys {sorted(expected)}"
            )
        vars(self).update(state_dict)


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size)"""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class LinearLR(LRScheduler):
    """lr = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters)"""

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError("LinearLR: start_factor must be in (0, 1], end_factor in [0, 1]")
        if total_iters < 1:
            raise ValueError(f"LinearLR: total_iters must be >= 1, got {total_iters!r}")
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = total_iters
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        # with start 1.0, end 0.1 and 100 iterations this is karpathy/micrograd's demo
        # schedule 1.0 - 0.9 * k / 100, to the bit
        progress = (self.end_factor - self.start_factor) * min(epoch, self.total_iters)
        return base_lr * (self.start_factor + progress / self.total_iters)


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** epoch"""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = gamma
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma**epoch


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch)"""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]) -> None:
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.lr_lambda(epoch)
