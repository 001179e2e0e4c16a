"""The update rules: SGD, Adam, AdamW, RMSprop and Adagrad, as torch.optim computes them."""

from __future__ import annotations

from collections.abc import Iterable

from .optimizer import Optimizer
from .rules import _BETAS, _COUNT, _FINITE, _FLAG, _NON_NEGATIVE, _STATE


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
    _state_fields = {"momentum_buffer": _STATE}

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

    def _required_state(self, group: dict) -> set[str]:
        return {"momentum_buffer"} if group["momentum"] else set()

    def _update(self, F, param, grad, group: dict, state: dict):
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
    _state_fields = {
        "step": _COUNT,
        "exp_avg": _STATE,
        "exp_avg_sq": _STATE,
        "max_exp_avg_sq": _STATE,
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

    def _required_state(self, group: dict) -> set[str]:
        return {"step", "exp_avg", "exp_avg_sq"} | (
            {"max_exp_avg_sq"} if group["amsgrad"] else set()
        )

    def _update(self, F, param, grad, group: dict, state: dict):
        lr, (beta1, beta2), decay = group["lr"], group["betas"], group["weight_decay"]
        if decay:
            if group["decoupled_weight_decay"]:
                param = param * (1 - lr * decay)
            else:
                grad = grad + decay * param
        step = state["step"] = state.get("step", 0) + 1
        m = state["exp_avg"] = F.lerp(state.get("exp_avg", 0.0), grad, 1 - beta1)
        v = state["exp_avg_sq"] = state.get("exp_avg_sq", 0.0) * beta2 + (1 - beta2) * grad * grad
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"] = F.maximum(state.get("max_exp_avg_sq", 0.0), v)
        step_size = lr / (1 - beta1**step)
        denom = F.div(F.sqrt(v), F.sqrt(1 - beta2**step)) + group["eps"]
        return param - step_size * F.div(m, denom)


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
        "square_avg": _STATE,
        "grad_avg": _STATE,
        "momentum_buffer": _STATE,
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

    def _required_state(self, group: dict) -> set[str]:
        return (
            {"step", "square_avg"}
            | ({"grad_avg"} if group["centered"] else set())
            | ({"momentum_buffer"} if group["momentum"] > 0 else set())
        )

    def _update(self, F, param, grad, group: dict, state: dict):
        alpha = group["alpha"]
        state["step"] = state.get("step", 0) + 1  # unused by the update; kept, as PyTorch does
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        square_avg = state.get("square_avg", 0.0) * alpha + (1 - alpha) * grad * grad
        state["square_avg"] = square_avg
        if group["centered"]:
            grad_avg = state["grad_avg"] = F.lerp(state.get("grad_avg", 0.0), grad, 1 - alpha)
            avg = F.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            avg = F.sqrt(square_avg) + group["eps"]
        if group["momentum"] > 0:
            buffer = state.get("momentum_buffer", 0.0) * group["momentum"] + F.div(grad, avg)
            state["momentum_buffer"] = buffer
            return param - group["lr"] * buffer
        return param - group["lr"] * F.div(grad, avg)


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
    _state_fields = {"step": _COUNT, "sum": _STATE}

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

    def _add_group(self, owner: str, group: dict) -> None:
        first = self.defaults["initial_accumulator_value"]
        if group.get("initial_accumulator_value", first) != first:
            # torch's starts every group's sum from the constructor's value, whatever the
            # group says: refused rather than either ignored or other than torch's numbers
            # (a saved state loads: its sums are there)
            raise ValueError(
                f"{owner}: initial_accumulator_value {group['initial_accumulator_value']!r} "
                f"differs from the optimizer's {first!r}; torch.optim.Adagrad starts every "
                "group's sum from the optimizer's, so give it there"
            )
        super()._add_group(owner, group)

    def _required_state(self, group: dict) -> set[str]:
        return {"step", "sum"}

    def _update(self, F, param, grad, group: dict, state: dict):
        step = state["step"] = state.get("step", 0) + 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        total = state.get("sum", group["initial_accumulator_value"]) + grad * grad
        state["sum"] = total
        return param - clr * F.div(grad, F.sqrt(total) + group["eps"])
