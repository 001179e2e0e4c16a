"""Optimizers and learning-rate schedules, with PyTorch's names, arguments and defaults.

An optimizer holds ``param_groups`` (dicts with ``"params"`` and the hyperparameters, as in
``torch.optim``) and per-parameter state. ``step()`` updates each parameter's ``.data``
from its ``.grad`` with float arithmetic in the order PyTorch uses, under ``no_grad`` so an
update never records a graph. A schedule sets ``group["lr"]`` each time it steps.

Every setting has one rule (a ``_Rule`` in the class's ``_settings``, PyTorch's where PyTorch
has one), checked by the constructor and by ``load_state_dict`` alike, so a loaded state is
one the constructor would have accepted and ``step()`` can run from. A setting of the wrong
kind is a TypeError in the constructor; in ``load_state_dict`` every fault is a ValueError,
raised before anything changes.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class _Rule:
    """What one setting may hold, in words (expected) and as two tests: is_kind (else
    TypeError) and holds, asked only of a value of the right kind (else ValueError)."""

    expected: str
    is_kind: Callable[[object], bool]
    holds: Callable[[object], bool] = lambda value: True

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


class Optimizer:
    """Base class: param_groups, per-parameter state, step() and zero_grad()."""

    # every setting of a param group, with what it may hold; a subclass adds its own
    _settings: dict[str, _Rule] = {"lr": _NON_NEGATIVE}
    # every field of a parameter's state that step() keeps, with what it may hold; a
    # subclass that keeps state lists it here, or load_state_dict refuses that state
    _state_fields: dict[str, _Rule] = {}

    def __init__(self, params: Iterable, defaults: dict) -> None:
        name = type(self).__name__
        groups = _param_groups(name, params)
        self._check(name, defaults)  # as PyTorch checks its arguments, even ones groups override
        param_groups: list[dict] = []
        group_of: dict[Value, int] = {}
        for number, group in enumerate(groups):
            owner = name if len(groups) == 1 else f"{name}: group {number}"
            group = {**defaults, **group, "params": _param_list(owner, group["params"])}
            self._check(owner, group)
            for p in group["params"]:
                # one parameter in two groups would step twice and save under one position
                if group_of.setdefault(p, number) != number:
                    raise ValueError(
                        f"{name}: a parameter is in more than one group ({group_of[p]} and "
                        f"{number}); give each parameter to one group"
                    )
            param_groups.append(group)
        self.defaults = defaults
        self.param_groups = param_groups
        self.state: dict[Value, dict] = {}

    def _check(self, owner: str, group: dict) -> None:
        """Raise TypeError or ValueError, naming owner and the setting, unless every setting
        in group holds what its rule allows. The constructor and load_state_dict both call
        this, so the two accept the same settings."""
        for field, rule in self._settings.items():
            if field in group:
                rule.check(owner, field, group[field])

    def _check_state(self, owner: str, entry: dict) -> None:
        """Raise TypeError or ValueError unless entry holds only fields this optimizer keeps,
        each with a value step() can run from."""
        for field, value in entry.items():
            if field not in self._state_fields:
                raise ValueError(
                    f"{owner}: {field!r} is no state {type(self).__name__} keeps "
                    f"(it keeps {', '.join(self._state_fields) or 'none'})"
                )
            self._state_fields[field].check(owner, field, value)

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
        (state keys may be strings, as after a JSON round trip). Every setting and state
        field must pass the checks the constructor makes; on any fault this raises
        ValueError and leaves the optimizer as it was."""
        try:
            self.param_groups, self.state = self._read(state_dict)
        except TypeError as error:
            # a value of the wrong kind is bad data here, not a bad call: one error type
            raise ValueError(str(error)) from None

    def _read(self, state_dict: dict) -> tuple[list[dict], dict[Value, dict]]:
        """The param groups and state that state_dict describes, checked in full."""
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
            owner = f"{name}: group {number}"
            if not isinstance(saved, dict) or set(saved) != set(ours):
                missing = sorted(set(ours) - set(saved)) if isinstance(saved, dict) else "all"
                extra = sorted(set(saved) - set(ours)) if isinstance(saved, dict) else []
                raise ValueError(
                    f"{owner} has other settings than this optimizer's "
                    f"(missing {missing}, unexpected {extra})"
                )
            if not isinstance(saved["params"], list) or len(saved["params"]) != len(ours["params"]):
                raise ValueError(
                    f"{owner} holds {_count(saved['params'])} parameters in the "
                    f"saved state, {len(ours['params'])} here"
                )
            self._check(owner, saved)
            own_keys = [key for key in saved if key != "params" and key not in self._settings]
            for key in own_keys:  # the user's, which have no rule: as ours, at least in kind
                if not _same_kind(ours[key], saved[key]):
                    raise ValueError(
                        f"{owner} has {key} = {saved[key]!r}, where this has {ours[key]!r}"
                    )
            group = {key: _restored(value, like=ours[key]) for key, value in saved.items()}
            group["params"] = ours["params"]
            groups.append(group)
        if not isinstance(state_dict["state"], dict):
            raise ValueError(f"{name}: 'state' must be a dict, got {state_dict['state']!r}")
        params = list(self._positions())
        state: dict[Value, dict] = {}
        for key, entry in state_dict["state"].items():
            position = _position(key)
            if position is None or not 0 <= position < len(params):
                raise ValueError(f"{name}: state for parameter {key!r}, which does not exist")
            owner = f"{name}: state of parameter {position}"
            if params[position] in state:  # 1 and "1", say
                raise ValueError(f"{owner} is given twice")
            if not isinstance(entry, dict):
                raise ValueError(f"{owner} is {entry!r}; expected a dict")
            self._check_state(owner, entry)
            state[params[position]] = dict(entry)
        return groups, state


def _param_groups(name: str, params) -> list[dict]:
    """params as param-group dicts: the user's, or one group holding all of params."""
    items = _listed(name, params)
    if not items:
        raise ValueError(f"{name} got an empty parameter list")
    if not isinstance(items[0], dict):
        return [{"params": items}]
    for number, group in enumerate(items):
        if not isinstance(group, dict):
            raise TypeError(f"{name}: parameter group {number} must be a dict, got {group!r}")
        if "params" not in group:
            raise ValueError(
                f"{name}: parameter group {number} has no 'params'; "
                "expected a dict like {'params': [...], 'lr': 0.1}"
            )
    return items


def _param_list(owner: str, params) -> list[Value]:
    """params as a list, if it holds only Values."""
    params = _listed(owner, params)
    for p in params:
        if not isinstance(p, Value):
            raise TypeError(f"{owner}: every parameter must be a Value, got {p!r}")
    return params


def _listed(owner: str, params) -> list:
    """The items of an ordered iterable; state_dict() names parameters by their order."""
    if isinstance(params, Value):
        raise TypeError(f"{owner}: params must be an iterable of Values, got one Value")
    if isinstance(params, (set, frozenset)):
        raise TypeError(
            f"{owner}: params must be an ordered iterable of Values, not a set, whose order "
            "changes from run to run"
        )
    try:
        iterator = iter(params)
    except TypeError:
        raise TypeError(f"{owner}: params must be an iterable of Values, got {params!r}") from None
    return list(iterator)


def _position(key) -> int | None:
    """The parameter position a state key names: an int, or one's decimal string as JSON
    writes it. Not '²' (str.isdigit() is True for it), '١' (int() reads it) or '01'."""
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    if isinstance(key, str) and key.isascii() and key.isdigit() and str(int(key)) == key:
        return int(key)
    return None


def _count(items) -> str:
    return str(len(items)) if isinstance(items, list) else "no list of"


def _same_kind(ours, saved) -> bool:
    """Whether a saved setting that has no rule can stand where ours stands: a number for a
    number, a list of the same length for a tuple (JSON has no tuples), else the same type."""
    if _is_real(ours):
        return _is_real(saved)
    if isinstance(ours, tuple):
        return isinstance(saved, (list, tuple)) and len(saved) == len(ours)
    return type(saved) is type(ours)


def _restored(saved, like):
    """A copy of a saved setting, a tuple again where ours is one (JSON has no tuples)."""
    if isinstance(like, tuple):
        return tuple(saved)
    return list(saved) if isinstance(saved, list) else saved


def _plain(value):
    return list(value) if isinstance(value, (list, tuple)) else value


class SGD(Optimizer):
    """p -= lr * g, or lr * b with momentum: b = momentum * b + (1 - dampening) * g."""

    _settings = {
        **Optimizer._settings,
        "momentum": _NON_NEGATIVE,
        "dampening": _FINITE,  # PyTorch sets no range, and none is needed to step
        "weight_decay": _NON_NEGATIVE,
        "nesterov": _FLAG,
        "maximize": _FLAG,
    }
    _state_fields = {"momentum_buffer": _FINITE}

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
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening)
        defaults.update(weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check(self, owner: str, group: dict) -> None:
        super()._check(owner, group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"{owner}: nesterov needs momentum > 0 and dampening = 0")

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

    _settings = {
        **Optimizer._settings,
        "betas": _BETAS,
        "eps": _NON_NEGATIVE,
        "weight_decay": _NON_NEGATIVE,
        "amsgrad": _FLAG,
        "maximize": _FLAG,
        "decoupled_weight_decay": _FLAG,
    }
    # step() takes sqrt of the squares' means, so they cannot be negative
    _state_fields = {
        "step": _COUNT,
        "exp_avg": _FINITE,
        "exp_avg_sq": _NON_NEGATIVE,
        "max_exp_avg_sq": _NON_NEGATIVE,
    }

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
        # a list becomes a tuple, as the default is; anything else is left for _check to judge
        betas = tuple(betas) if isinstance(betas, list) else betas
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
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

    _settings = {
        **Optimizer._settings,
        "alpha": _NON_NEGATIVE,
        "eps": _NON_NEGATIVE,
        "weight_decay": _NON_NEGATIVE,
        "momentum": _NON_NEGATIVE,
        "centered": _FLAG,
        "maximize": _FLAG,
    }
    _state_fields = {
        "step": _COUNT,
        "square_avg": _NON_NEGATIVE,
        "grad_avg": _FINITE,
        "momentum_buffer": _FINITE,
    }

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

    def _check_state(self, owner: str, entry: dict) -> None:
        super()._check_state(owner, entry)
        # centered, step() takes sqrt(square_avg - grad_avg**2). A running mean of g**2 is
        # never below the square of the running mean of g, so no step that succeeded leaves
        # such a state. grad_avg * grad_avg, as step() computes it: ** overflows to an error
        grad_avg, square_avg = entry.get("grad_avg", 0.0), entry.get("square_avg", 0.0)
        if grad_avg * grad_avg > square_avg:
            raise ValueError(
                f"{owner}: invalid grad_avg {grad_avg!r} with square_avg {square_avg!r}; "
                "expected grad_avg**2 <= square_avg"
            )

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

    _settings = {
        **Optimizer._settings,
        "lr_decay": _NON_NEGATIVE,
        "weight_decay": _NON_NEGATIVE,
        "eps": _NON_NEGATIVE,
        "initial_accumulator_value": _NON_NEGATIVE,
        "maximize": _FLAG,
    }
    _state_fields = {"step": _COUNT, "sum": _NON_NEGATIVE}

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

    # every setting state_dict() holds but base_lrs (whose rule needs the optimizer), with
    # what it may hold; a subclass adds its own
    _settings: dict[str, _Rule] = {"last_epoch": _COUNT}

    def __init__(self, optimizer: Optimizer, **settings) -> None:
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: {optimizer!r} is not an Optimizer")
        self.optimizer = optimizer
        settings.update(base_lrs=[group["lr"] for group in optimizer.param_groups], last_epoch=0)
        self._check(name, settings)
        vars(self).update(settings)
        self._apply(0)

    def _check(self, owner: str, settings: dict) -> None:
        """Raise TypeError or ValueError, naming owner and the setting, unless every setting
        holds what its rule allows. The constructor and load_state_dict both call this."""
        for field, rule in self._settings.items():
            rule.check(owner, field, settings[field])
        groups = len(self.optimizer.param_groups)
        base_lrs = _Rule(
            f"a list of one finite real number >= 0 per param group ({groups})",
            lambda value: isinstance(value, (list, tuple)) and all(map(_is_real, value)),
            lambda value: len(value) == groups and all(_NON_NEGATIVE.holds(lr) for lr in value),
        )
        base_lrs.check(owner, "base_lrs", settings["base_lrs"])

    def lr_at(self, base_lr: float, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the new learning rates."""
        self._apply(self.last_epoch + 1)

    def get_last_lr(self) -> list[float]:
        """The learning rate of each group, as last set."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def _apply(self, epoch: int) -> None:
        # every rate first, so that an lr_lambda that raises leaves all as they were
        lrs = [self.lr_at(base_lr, epoch) for base_lr in self.base_lrs]
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self.last_epoch = epoch

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
        Every setting must pass the checks the constructor makes; on any fault this raises
        ValueError and changes nothing."""
        name = f"{type(self).__name__}.load_state_dict"
        expected = set(self.state_dict())
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            raise ValueError(f"{name}: expected the keys {sorted(expected)}")
        try:
            self._check(name, state_dict)
        except TypeError as error:
            # a value of the wrong kind is bad data here, not a bad call: one error type
            raise ValueError(str(error)) from None
        vars(self).update({key: _plain(value) for key, value in state_dict.items()})


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size)"""

    _settings = {**LRScheduler._settings, "step_size": _integer(1), "gamma": _NON_NEGATIVE}

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer, step_size=step_size, gamma=gamma)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class LinearLR(LRScheduler):
    """lr = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters)"""

    _settings = {
        **LRScheduler._settings,
        "start_factor": _real(" in (0, 1]", lambda x: 0 < x <= 1),
        "end_factor": _real(" in [0, 1]", lambda x: 0 <= x <= 1),
        "total_iters": _integer(1),
    }

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        super().__init__(
            optimizer, start_factor=start_factor, end_factor=end_factor, total_iters=total_iters
        )

    def lr_at(self, base_lr: float, epoch: int) -> float:
        # with start 1.0, end 0.1 and 100 iterations this is karpathy/micrograd's demo
        # schedule 1.0 - 0.9 * k / 100, to the bit
        progress = (self.end_factor - self.start_factor) * min(epoch, self.total_iters)
        return base_lr * (self.start_factor + progress / self.total_iters)


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** epoch"""

    _settings = {**LRScheduler._settings, "gamma": _NON_NEGATIVE}

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        super().__init__(optimizer, gamma=gamma)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma**epoch


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch), lr_lambda returning a finite number >= 0"""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]) -> None:
        if not callable(lr_lambda):
            raise TypeError(f"LambdaLR: lr_lambda must be callable, got {lr_lambda!r}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        factor = self.lr_lambda(epoch)
        _NON_NEGATIVE.check("LambdaLR", f"lr_lambda({epoch})", factor)
        return base_lr * factor
