"""Learning-rate schedules: call scheduler.step() once per epoch, after optimizer.step()
(a ReduceLROnPlateau's step(metric) with the epoch's loss, say), or a OneCycleLR's once per
batch."""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from micrograd import Value

from .optimizer import Optimizer, _plain
from .rules import (
    _COUNT,
    _FLAG,
    _NON_NEGATIVE,
    _STATE,
    _integer,
    _is_integer,
    _is_real,
    _real,
    _Rule,
)

# ---------------------------------------------------------------------------------------
# Learning-rate schedules: call scheduler.step() after optimizer.step().


def _check_optimizer(name: str, optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        kind = type(optimizer)
        shown = (
            kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        )
        raise TypeError(f"{name}: expected an nn.optim Optimizer, got a {shown}")


class LRScheduler:
    """Sets each group's lr at each epoch (the count of scheduler.step() calls): to
    lr_at(initial lr, epoch), or, where a schedule defines next_lr(lr, initial lr, epoch),
    from its lr as it is now, as torch.optim's schedulers do. Those then chain (two
    schedulers on one optimizer apply one after the other) and build on an lr set by hand,
    and their numbers are torch's to the bit."""

    # every setting state_dict() holds but base_lrs (whose rule needs the optimizer), with
    # what it may hold; a subclass adds its own
    _settings: dict[str, _Rule] = {"last_epoch": _COUNT}
    # May step() read or change the model (its parameters, grads, optimizer state)? Then
    # fit(compile=True) writes its numbers back into the Values before each step(), and
    # reads them again after. A schedule of a formula of the epoch says False, and so does
    # ReduceLROnPlateau, which reads only the metric it is given
    reads_model: bool = True

    def __init__(self, optimizer: Optimizer, **settings) -> None:
        _check_optimizer(type(self).__name__, optimizer)
        name = type(self).__name__
        self.optimizer = optimizer
        # each group's first lr, kept in the group as torch keeps it: a second scheduler on
        # the optimizer starts from it too, not from what the first made of it
        initial = [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]
        settings.update(base_lrs=initial, last_epoch=0)
        self._check(name, settings)
        for group, lr in zip(optimizer.param_groups, initial):
            group["initial_lr"] = lr
        vars(self).update({key: _plain(value) for key, value in settings.items()})
        self._apply(0)

    def _check(self, owner: str, settings: dict) -> None:
        """Raise TypeError or ValueError, naming owner and the setting, unless every setting
        holds what its rule allows. The constructor and load_state_dict both call this."""
        for field, rule in self._settings.items():
            rule.check(owner, field, settings[field])
        self._check_rates(owner, settings)

    def _check_rates(self, owner: str, settings: dict) -> None:
        """The per-group rates' part of _check, whose rule needs the optimizer: base_lrs."""
        # groups added since it was made have none (they go on from their own lr, as torch's)
        groups = len(self.optimizer.param_groups)
        _per_group(groups, at_most=True).check(owner, "base_lrs", settings["base_lrs"])

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """A closed-form schedule's lr at epoch, for a group that started at base_lr."""
        raise NotImplementedError

    def _lrs(self, epoch: int) -> list[float]:
        """Each group's lr at epoch. A group added to the optimizer since the schedule was
        made has no base_lr: a recursive schedule goes on from its lr (base_lr None), a
        closed form cannot, and refuses, as torch's."""
        groups = self.optimizer.param_groups
        if self.next_lr is not None:
            bases = [*self.base_lrs, *[None] * (len(groups) - len(self.base_lrs))]
            return [self.next_lr(g["lr"], base, epoch) for g, base in zip(groups, bases)]
        self._check_no_group_added()
        return [self.lr_at(base_lr, epoch) for base_lr in self.base_lrs]

    def _check_no_group_added(self) -> None:
        groups = len(self.optimizer.param_groups)
        if groups != len(self.base_lrs):
            raise ValueError(
                f"{type(self).__name__}.step: the optimizer has {groups} param groups, "
                f"{len(self.base_lrs)} when the schedule was made; make the schedule after "
                "adding every group"
            )

    # next_lr(lr, base_lr, epoch): the lr at epoch from the lr now (torch's recursive form)
    next_lr = None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        hook = callable(cls.__dict__.get("factor"))  # the hook's name before next_lr
        if hook and cls.next_lr is None and cls.lr_at is LRScheduler.lr_at:
            raise TypeError(
                f"{cls.__name__}: a schedule defines next_lr(lr, base_lr, epoch), the lr at "
                "epoch from the lr now, no longer factor(epoch): return lr * factor(epoch)"
            )

    def step(self) -> None:
        """Advance one epoch and set the new learning rates."""
        self._apply(self.last_epoch + 1)

    def _restart(self) -> None:
        """Set the rates of epoch 0 from each group's base lr, whatever the lr is now: what a
        SequentialLR does at a milestone, as torch's step(0) does by the closed form."""
        self._check_no_group_added()
        self._set(0, self._start_lrs())

    def _start_lrs(self) -> list[float]:
        return [self._start_lr(base_lr) for base_lr in self.base_lrs]

    def _start_lr(self, base_lr: float) -> float:
        """The lr at epoch 0 from base_lr, as torch's closed form gives it."""
        if self.next_lr is not None:
            return self.next_lr(base_lr, base_lr, 0)
        return self.lr_at(base_lr, 0)

    def get_last_lr(self) -> list[float]:
        """The learning rate of each group as this scheduler last set it (another scheduler
        chained after it, or a hand, may have set another since), as torch's."""
        return list(self._last_lr)

    def _apply(self, epoch: int) -> None:
        # every rate first, so that an lr_lambda that raises leaves all as they were
        self._set(epoch, self._lrs(epoch))

    def _set(self, epoch: int, lrs: list[float]) -> None:
        """Make lrs the groups' rates, at epoch, unless one is below 0."""
        for k, lr in enumerate(lrs):
            if lr < 0:  # torch's arithmetic goes on, and its steps then climb the loss
                raise ValueError(
                    f"{type(self).__name__}.step: param group {k}'s lr would be {lr:g}, below "
                    "0 (from an lr set below the schedule's floor, by hand or by another "
                    "schedule); a step would then climb the loss"
                )
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self.last_epoch = epoch
        self._last_lr = lrs

    def state_dict(self) -> dict:
        """The schedule's position and settings as plain data (a LambdaLR's function is not
        data, and is left out, as in PyTorch)."""
        return {
            key: list(value) if isinstance(value, list) else value
            for key, value in vars(self).items()
            if key not in ("optimizer", "lr_lambda", "_last_lr")
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
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    """lr *= gamma every step_size epochs (lr = base_lr * gamma ** (epoch // step_size))"""

    reads_model = False

    _settings = {**LRScheduler._settings, "step_size": _integer(1), "gamma": _NON_NEGATIVE}

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer, step_size=step_size, gamma=gamma)

    def next_lr(self, lr: float, base_lr: float, epoch: int) -> float:
        return lr * self.gamma if epoch and epoch % self.step_size == 0 else lr


class MultiStepLR(LRScheduler):
    """lr *= gamma at each milestone epoch (gamma ** n at one given n times), so
    lr = base_lr * gamma ** (the number of milestones <= epoch)"""

    reads_model = False

    _settings = {
        **LRScheduler._settings,
        "milestones": _Rule(
            "a list of integers >= 0 (the epochs at which lr *= gamma)",
            lambda value: isinstance(value, (list, tuple)) and all(map(_is_integer, value)),
            lambda value: all(epoch >= 0 for epoch in value),
        ),
        "gamma": _NON_NEGATIVE,
    }

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1) -> None:
        # any iterable of epochs, in any order, as torch's (which counts them): kept sorted
        if isinstance(milestones, Mapping):  # epoch -> how many times, as torch's Counter
            if not all(_is_integer(n) and n >= 0 for n in milestones.values()):
                raise TypeError(
                    f"MultiStepLR: invalid milestones {milestones!r}; expected a list of "
                    "integers >= 0, or {epoch: times} with integer times >= 0"
                )
            milestones = list(Counter(milestones).elements())
        elif isinstance(milestones, Iterable) and not isinstance(milestones, (str, bytes)):
            milestones = list(milestones)
        if isinstance(milestones, list) and all(map(_is_integer, milestones)):
            milestones.sort()
        super().__init__(optimizer, milestones=milestones, gamma=gamma)

    def next_lr(self, lr: float, base_lr: float, epoch: int) -> float:
        times = self.milestones.count(epoch)
        return lr * self.gamma**times if times else lr


class LinearLR(LRScheduler):
    """lr from base_lr * start to base_lr * end in total_iters epochs, by torch's steps: at
    epoch k, lr *= 1 + (end - start) / (total_iters * start + (k - 1) * (end - start))"""

    reads_model = False

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

    def next_lr(self, lr: float, base_lr: float, epoch: int) -> float:
        # with start 1.0, end 0.1 and 100 iterations this is karpathy/micrograd's demo
        # schedule 1.0 - 0.9 * k / 100, to 1e-15 (each step rounds, as torch's)
        if epoch == 0:
            return lr * self.start_factor
        if epoch > self.total_iters:
            return lr
        change = self.end_factor - self.start_factor
        return lr * (1.0 + change / (self.total_iters * self.start_factor + (epoch - 1) * change))


class ConstantLR(LRScheduler):
    """lr = base_lr * factor for the first total_iters epochs, then base_lr, by torch's
    steps: lr *= factor at epoch 0, lr /= factor (times 1 / factor) at epoch total_iters.
    With total_iters 0 the lr stays base_lr * factor, as torch's (whose epoch 0 scales it and
    whose epoch total_iters comes no more); restarted in a SequentialLR, it is base_lr."""

    reads_model = False

    _settings = {
        **LRScheduler._settings,
        "factor": _real(" in (0, 1]", lambda x: 0 < x <= 1),
        "total_iters": _integer(0),
    }

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5):
        super().__init__(optimizer, factor=factor, total_iters=total_iters)

    def next_lr(self, lr: float, base_lr: float, epoch: int) -> float:
        if epoch == 0:
            return lr * self.factor
        if epoch != self.total_iters:
            return lr
        return lr * (1.0 / self.factor)

    def _start_lr(self, base_lr: float) -> float:
        return base_lr * (self.factor + (self.total_iters <= 0) * (1 - self.factor))


class ExponentialLR(LRScheduler):
    """lr *= gamma every epoch (lr = base_lr * gamma ** epoch)"""

    reads_model = False

    _settings = {**LRScheduler._settings, "gamma": _NON_NEGATIVE}

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        super().__init__(optimizer, gamma=gamma)

    def next_lr(self, lr: float, base_lr: float, epoch: int) -> float:
        return lr * self.gamma if epoch else lr


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2: down from
    base_lr to eta_min in T_max epochs, then up again, and so on, as torch's (whose
    recursive steps, from the lr now, it takes)"""

    reads_model = False

    _settings = {**LRScheduler._settings, "T_max": _integer(1), "eta_min": _NON_NEGATIVE}

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer, T_max=T_max, eta_min=eta_min)

    def _start_lr(self, base_lr: float) -> float:
        low = self.eta_min  # torch's closed form at epoch 0, rounding as it does
        return low + (base_lr - low) * (1 + math.cos(0.0)) / 2

    def next_lr(self, lr: float, base_lr: float, epoch: int) -> float:
        T, low = self.T_max, self.eta_min
        if epoch == 0:
            return lr
        if (epoch - 1 - T) % (2 * T) == 0:  # just past a low point, where the ratio is 0/0
            if base_lr is None:
                raise ValueError(
                    "CosineAnnealingLR.step: a param group added since the schedule was made "
                    "has no base lr to rise back to; make the schedule after adding every group"
                )
            return lr + (base_lr - low) * (1 - math.cos(math.pi / T)) / 2
        now, before = math.cos(math.pi * epoch / T), math.cos(math.pi * (epoch - 1) / T)
        return (1 + now) / (1 + before) * (lr - low) + low


class CosineAnnealingWarmRestarts(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2, T_cur the
    epochs since the last restart: down from base_lr towards eta_min over T_i epochs, then
    back to base_lr at once (a warm restart), T_i starting at T_0 and growing T_mult times
    at each restart, as torch's (SGDR)"""

    reads_model = False

    _settings = {
        **LRScheduler._settings,
        "T_0": _integer(1),
        "T_mult": _integer(1),
        "eta_min": _NON_NEGATIVE,
    }

    def __init__(
        self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0
    ) -> None:
        super().__init__(optimizer, T_0=T_0, T_mult=T_mult, eta_min=eta_min)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        since, length = self._cycle(epoch)
        return (
            self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * since / length)) / 2
        )

    def _cycle(self, epoch: int) -> tuple[int, int]:
        """(T_cur, T_i) at epoch, in integers, as torch's steps count them."""
        if self.T_mult == 1:
            return epoch % self.T_0, self.T_0
        since, length = epoch, self.T_0
        while since >= length:  # one turn a restart: a few dozen at most
            since, length = since - length, length * self.T_mult
        return since, length


_ANNEAL = _Rule(
    "'cos' or 'linear'", lambda value: isinstance(value, str), lambda v: v in ("cos", "linear")
)
_POSITIVE = _real(" > 0", lambda x: x > 0)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith and Topin, 2017), as torch's, step by step: over total_steps
    steps, lr rises from max_lr / div_factor to max_lr over the first pct_start of them,
    then falls to max_lr / div_factor / final_div_factor (three_phase: back to the start
    first, then down), by a half cosine or linearly. With cycle_momentum the momentum
    (Adam's beta1) moves the other way, from max_momentum to base_momentum and back. Step
    it after every batch (fit(..., scheduler_interval="batch")), or give it total_steps =
    the epochs to step it after every epoch. It keeps these in the param groups, as torch's:
    initial_lr, max_lr, min_lr, max_momentum and base_momentum.

    Step total_steps, one past the cycle's last, which torch allows so that a loop may step
    after its last batch, is the end of the cycle (min_lr, max_momentum), where torch's
    formula runs on past it (up again, or below 0 with a linear anneal)."""

    reads_model = False

    _settings = {
        **LRScheduler._settings,
        "total_steps": _integer(1),
        "pct_start": _real(" in [0, 1]", lambda x: 0 <= x <= 1),
        "anneal_strategy": _ANNEAL,
        "cycle_momentum": _FLAG,
        "three_phase": _FLAG,
    }

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        name = "OneCycleLR"
        _check_optimizer(name, optimizer)
        total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        settings = dict(
            total_steps=total_steps, pct_start=pct_start, anneal_strategy=anneal_strategy,
            cycle_momentum=cycle_momentum, three_phase=three_phase,
        )  # fmt: skip
        for field, value in settings.items():
            self._settings[field].check(name, field, value)
        _POSITIVE.check(name, "div_factor", div_factor)
        _POSITIVE.check(name, "final_div_factor", final_div_factor)
        _check_warm_up(name, pct_start, total_steps)
        self.optimizer = optimizer
        groups = len(optimizer.param_groups)
        ends = {"max_lr": _each_group(name, "max_lr", max_lr, groups)}
        if cycle_momentum:
            ends["max_momentum"] = _each_group(name, "max_momentum", max_momentum, groups)
            ends["base_momentum"] = _each_group(name, "base_momentum", base_momentum, groups)
        _check_each(name, ends)
        lows = {"initial_lr": [lr / div_factor for lr in ends["max_lr"]]}
        lows["min_lr"] = [lr / final_div_factor for lr in lows["initial_lr"]]
        _check_each(name, lows)  # 1e300 / 1e-300 is inf
        ends.update(lows)
        if cycle_momentum:
            self._check_momenta(name, ends["max_momentum"] + ends["base_momentum"])
        for key, values in ends.items():
            for group, value in zip(optimizer.param_groups, values):
                group[key] = _plain(value)
        super().__init__(optimizer, **settings)

    def _check(self, owner: str, settings: dict) -> None:
        """The settings' rules, and what a loaded state must fit too: a warm-up the formula
        can divide, a step within the cycle, and the momenta a cycle of them moves."""
        super()._check(owner, settings)
        _check_warm_up(owner, settings["pct_start"], settings["total_steps"])
        if settings["last_epoch"] > settings["total_steps"]:
            raise ValueError(
                f"{owner}: last_epoch {settings['last_epoch']} is past total_steps "
                f"{settings['total_steps']}"
            )
        if settings["cycle_momentum"]:
            self._momentum(owner)  # an optimizer with a momentum
            for number, group in enumerate(self.optimizer.param_groups):
                if "max_momentum" not in group or "base_momentum" not in group:
                    raise ValueError(
                        f"{owner}: cycle_momentum needs each param group's max_momentum and "
                        f"base_momentum, which group {number} has not (a OneCycleLR made "
                        "with cycle_momentum=False sets none)"
                    )

    def _momentum(self, owner: str) -> str:
        """The setting the cycle moves: SGD's and RMSprop's momentum, Adam's betas; for an
        optimizer with neither, a ValueError naming owner."""
        defaults = self.optimizer.defaults
        if "betas" in defaults or "momentum" in defaults:
            return "betas" if "betas" in defaults else "momentum"
        raise ValueError(
            f"{owner}: cycle_momentum needs an optimizer with a momentum or betas (SGD, "
            f"RMSprop, Adam, AdamW), not {type(self.optimizer).__name__}; pass "
            "cycle_momentum=False"
        )

    def _check_momenta(self, owner: str, momenta: list[float]) -> None:
        """ValueError unless the optimizer can step with every one of momenta."""
        kind = self._momentum(owner)
        low, high = min(momenta), max(momenta)
        if kind == "betas" and not high < 1:  # 1 - beta1 ** step would be 0
            raise ValueError(f"{owner}: Adam's beta1 would be {high:g}; it must be below 1")
        nesterov = any(group.get("nesterov") for group in self.optimizer.param_groups)
        if nesterov and not low > 0:
            raise ValueError(f"{owner}: SGD's nesterov needs momentum > 0, and it would be {low:g}")

    def _phases(self) -> list[tuple[float, dict[str, tuple[str, str]]]]:
        """Each phase's last step, and the group settings its lr and its momentum move from
        and to, as torch's."""
        T, up = self.total_steps, float(self.pct_start * self.total_steps) - 1
        rise = (up, {"lr": ("initial_lr", "max_lr"), "momentum": ("max_momentum", "base_momentum")})
        if not self.three_phase:
            fall = {"lr": ("max_lr", "min_lr"), "momentum": ("base_momentum", "max_momentum")}
            return [rise, (T - 1, fall)]
        back = {"lr": ("max_lr", "initial_lr"), "momentum": ("base_momentum", "max_momentum")}
        down = {"lr": ("initial_lr", "min_lr"), "momentum": ("max_momentum", "max_momentum")}
        return [rise, (float(2 * self.pct_start * T) - 2, back), (T - 1, down)]

    def _at(self, group: dict, step: int, setting: str) -> float:
        """group's setting ("lr" or "momentum") at step."""
        phases = self._phases()
        if step == self.total_steps:  # past the last step: the end of the cycle
            return group[phases[-1][1][setting][1]]
        start = 0.0
        for phase in phases:
            end, (low, high) = phase[0], phase[1][setting]
            if step <= end or phase is phases[-1]:
                return self._anneal(group[low], group[high], (step - start) / (end - start))
            start = end
        raise AssertionError("the last phase is always taken")

    def _anneal(self, start: float, end: float, done: float) -> float:
        """From start (done 0) to end (done 1), in torch's order of operations."""
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * done) + 1)
        return (end - start) * done + start

    def _lrs(self, epoch: int) -> list[float]:
        return [self._at(group, epoch, "lr") for group in self.optimizer.param_groups]

    def _apply(self, epoch: int) -> None:
        self._check_no_group_added()
        if epoch > self.total_steps:
            raise ValueError(
                f"OneCycleLR.step: the cycle is {self.total_steps} steps long, and this would be "
                f"step {epoch}; make a OneCycleLR with more steps (fit steps it once per "
                "epoch, or per batch with scheduler_interval='batch')"
            )
        # the momenta first, checked, then the lrs (whose checks raise before any is set)
        groups = self.optimizer.param_groups
        if not self.cycle_momentum:
            super()._apply(epoch)
            return
        momenta = [self._at(group, epoch, "momentum") for group in groups]
        self._check_momenta("OneCycleLR.step", momenta)
        super()._apply(epoch)
        kind = self._momentum("OneCycleLR.step")
        for group, momentum in zip(groups, momenta):
            group[kind] = (momentum, *group["betas"][1:]) if kind == "betas" else momentum


def _check_warm_up(owner: str, pct_start: float, total_steps: int) -> None:
    """ValueError for a warm-up of one step, its start and its end, where torch's formula
    divides 0 by 0."""
    if float(pct_start * total_steps) - 1 == 0:
        raise ValueError(
            f"{owner}: pct_start {pct_start} of total_steps {total_steps} is a warm-up of one "
            "step, both its start and its end; choose another pct_start"
        )


def _total_steps(total_steps, epochs, steps_per_epoch) -> int:
    """OneCycleLR's cycle length: total_steps, or epochs * steps_per_epoch (both, if equal)."""
    for name, value in ("epochs", epochs), ("steps_per_epoch", steps_per_epoch):
        if value is not None:
            _integer(1).check("OneCycleLR", name, value)
    product = epochs * steps_per_epoch if None not in (epochs, steps_per_epoch) else None
    if total_steps is None and product is None:
        raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
    if total_steps is not None and product is not None and total_steps != product:
        raise ValueError(
            f"OneCycleLR: total_steps {total_steps} is not epochs {epochs} * steps_per_epoch "
            f"{steps_per_epoch}; give one or the other"
        )
    return total_steps if total_steps is not None else product


def _check_each(owner: str, settings: dict[str, list]) -> None:
    """TypeError or ValueError unless each group's lr or momentum is a finite number >= 0."""
    for key, values in settings.items():
        for number, value in enumerate(values):
            _NON_NEGATIVE.check(owner, f"{key} of param group {number}", value)


def _each_group(owner: str, field: str, value, groups: int) -> list:
    """value for each of groups param groups: one for all, or a list of one per group."""
    if not isinstance(value, (list, tuple)):
        return [value] * groups
    if len(value) != groups:
        raise ValueError(
            f"{owner}: {len(value)} values of {field} for {groups} param groups; give one, or "
            "one per group"
        )
    return list(value)


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch), lr_lambda returning a finite number >= 0 (a list of
    them: one per param group). A closed form, as torch's: it sets lr, whatever it was."""

    def __init__(self, optimizer: Optimizer, lr_lambda) -> None:
        _check_optimizer("LambdaLR", optimizer)  # before its groups are counted
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else None
        if lambdas is not None and len(lambdas) != len(optimizer.param_groups):
            raise ValueError(
                f"LambdaLR: {len(lambdas)} lr_lambdas for {len(optimizer.param_groups)} "
                "param groups; give one, or one per group"
            )
        for function in lambdas if lambdas is not None else [lr_lambda]:
            if not callable(function):
                raise TypeError(f"LambdaLR: lr_lambda must be callable, got {function!r}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int, function: Callable | None = None) -> float:
        factor = (function or self.lr_lambda)(epoch)
        _NON_NEGATIVE.check("LambdaLR", f"lr_lambda({epoch})", factor)
        return base_lr * factor

    def _lrs(self, epoch: int) -> list[float]:
        if not isinstance(self.lr_lambda, (list, tuple)):
            return super()._lrs(epoch)
        self._check_no_group_added()
        return [self.lr_at(b, epoch, f) for b, f in zip(self.base_lrs, self.lr_lambda)]

    def _start_lrs(self) -> list[float]:
        return self._lrs(0)


class SequentialLR(LRScheduler):
    """One schedule after another, as torch's: schedulers[0] until epoch milestones[0], then
    schedulers[1] from its epoch 0 (its closed form, from each group's initial lr), and so
    on. Each is made on the optimizer first, as in torch (each sets the lr as it is made);
    making the SequentialLR puts every lr back to its initial value and starts the schedule
    that epoch 0 falls in. A warm-up then a decay: SequentialLR(opt, [LinearLR(opt, 0.1,
    total_iters=5), CosineAnnealingLR(opt, T_max=95)], milestones=[5])."""

    def __init__(self, optimizer: Optimizer, schedulers, milestones) -> None:
        _check_optimizer("SequentialLR", optimizer)
        if not isinstance(schedulers, (list, tuple)):
            raise TypeError(
                f"SequentialLR: schedulers must be a list of schedules, got {schedulers!r}"
            )
        if not schedulers:
            raise ValueError("SequentialLR: schedulers is empty; give at least one schedule")
        groups = len(optimizer.param_groups)
        for k, scheduler in enumerate(schedulers):
            if type(scheduler) not in _IN_SEQUENCE:
                kind = type(scheduler)
                shown = kind.__name__  # torch's StepLR is not ours: say whose it is
                if not kind.__module__.startswith("micrograd."):
                    shown = f"{kind.__module__}.{kind.__qualname__}"
                raise TypeError(
                    f"SequentialLR: schedulers[{k}] is a {shown}; a sequence takes nn.optim's "
                    f"{', '.join(kind.__name__ for kind in _IN_SEQUENCE)}"
                )
            if scheduler.optimizer is not optimizer:
                raise ValueError(
                    f"SequentialLR: schedulers[{k}] sets another optimizer's rates; make each "
                    "schedule on the optimizer given here"
                )
            if any(scheduler is other for other in schedulers[:k]) or scheduler.last_epoch:
                raise ValueError(
                    f"SequentialLR: schedulers[{k}] has been stepped, is in another sequence "
                    "or is listed twice; give each schedule once, newly made"
                )
            if len(scheduler.base_lrs) != groups:
                raise ValueError(
                    f"SequentialLR: schedulers[{k}] was made for {len(scheduler.base_lrs)} "
                    f"param groups, the optimizer has {groups}; make the schedules after adding "
                    "every group"
                )
        _milestones(len(schedulers)).check("SequentialLR", "milestones", milestones)
        self.optimizer = optimizer
        self.schedulers = list(schedulers)
        self.milestones = [int(epoch) for epoch in milestones]  # plain data, for state_dict
        self.last_epoch = 0
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]  # what each schedule made of it, undone
        for scheduler in self.schedulers:
            scheduler.last_epoch -= 1
        first = self.schedulers[bisect.bisect_right(self.milestones, 0)]
        first._apply(0)
        self._last_lr = first.get_last_lr()

    @property
    def reads_model(self) -> bool:  # type: ignore[override]
        return any(scheduler.reads_model for scheduler in self.schedulers)

    def step(self) -> None:
        """Advance one epoch: the schedule it falls in steps, or, at its milestone, starts.
        A step a schedule refuses (a lambda giving a negative rate) leaves the epoch too."""
        epoch = self.last_epoch + 1
        k = bisect.bisect_right(self.milestones, epoch)
        scheduler = self.schedulers[k]
        if k > 0 and self.milestones[k - 1] == epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self.last_epoch = epoch
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict:
        """The epoch, the milestones and each schedule's state_dict(), as plain data."""
        return {
            "last_epoch": self.last_epoch,
            "milestones": list(self.milestones),
            "schedulers": [scheduler.state_dict() for scheduler in self.schedulers],
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what state_dict() returned, every schedule's too: all of it, or, on any
        fault, a ValueError and nothing changed."""
        name = "SequentialLR.load_state_dict"
        if not isinstance(state_dict, dict) or set(state_dict) != set(self.state_dict()):
            raise ValueError(f"{name}: expected the keys {sorted(self.state_dict())}")
        try:
            _COUNT.check(name, "last_epoch", state_dict["last_epoch"])
            _milestones(len(self.schedulers)).check(name, "milestones", state_dict["milestones"])
        except TypeError as error:
            raise ValueError(str(error)) from None
        states = state_dict["schedulers"]
        if not isinstance(states, (list, tuple)) or len(states) != len(self.schedulers):
            raise ValueError(f"{name}: expected {len(self.schedulers)} schedules' states")
        before = [(scheduler.state_dict(), scheduler._last_lr) for scheduler in self.schedulers]
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        try:
            for k, (scheduler, state) in enumerate(zip(self.schedulers, states)):
                try:
                    _load_in_sequence(scheduler, state)
                except ValueError as error:
                    raise ValueError(f"{name}: schedulers[{k}]: {error}") from None
        except BaseException:
            for scheduler, (state, last_lr) in zip(self.schedulers, before):
                _load_in_sequence(scheduler, state)
                scheduler._last_lr = last_lr
            for group, lr in zip(self.optimizer.param_groups, lrs):
                group["lr"] = lr
            raise
        self.last_epoch = state_dict["last_epoch"]
        self.milestones = [int(epoch) for epoch in state_dict["milestones"]]
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


def _load_in_sequence(scheduler: LRScheduler, state) -> None:
    """scheduler.load_state_dict(state) for a schedule of a sequence, whose last_epoch is -1
    until its milestone starts it (as in torch's, which steps each back once)."""
    epoch = state.get("last_epoch") if isinstance(state, dict) else None
    if epoch == -1 and type(epoch) is int:
        scheduler.load_state_dict({**state, "last_epoch": 0})
        scheduler.last_epoch = -1
    else:
        scheduler.load_state_dict(state)


_IN_SEQUENCE = (StepLR, MultiStepLR, LinearLR, ConstantLR, ExponentialLR, CosineAnnealingLR,
                LambdaLR)  # fmt: skip
"""The schedules a SequentialLR takes: those whose epoch 0 torch's restart gives by a closed
form, each checked against torch's SequentialLR."""


def _milestones(schedules: int) -> _Rule:
    return _Rule(
        f"a list of integers >= 0 in increasing order, one less than the schedulers "
        f"({schedules - 1})",
        lambda value: isinstance(value, (list, tuple)) and all(map(_is_integer, value)),
        lambda value: (
            len(value) == schedules - 1
            and all(epoch >= 0 for epoch in value)
            and list(value) == sorted(value)
        ),
    )


_MODE = _Rule("'min' or 'max'", lambda value: isinstance(value, str), lambda v: v in ("min", "max"))
_THRESHOLD_MODE = _Rule(
    "'rel' or 'abs'", lambda value: isinstance(value, str), lambda v: v in ("rel", "abs")
)


def _per_group(groups: int, at_most: bool = False) -> _Rule:
    """A list of one finite real number >= 0 per param group (or for at most that many)."""
    fits = (lambda n: 1 <= n <= groups) if at_most else (lambda n: n == groups)
    return _Rule(
        f"a list of one finite real number >= 0 per param group ({'at most ' * at_most}{groups})",
        lambda value: isinstance(value, (list, tuple)) and all(map(_is_real, value)),
        lambda value: fits(len(value)) and all(_NON_NEGATIVE.holds(lr) for lr in value),
    )


class ReduceLROnPlateau(LRScheduler):
    """lr = max(lr * factor, min_lr) once the metric given to step(metric) has not improved
    for more than patience epochs in a row, then cooldown epochs before bad ones count
    again. Improved, with mode "min": below best * (1 - threshold) (threshold_mode "rel")
    or below best - threshold ("abs"); with mode "max": above best * (1 + threshold) or
    best + threshold. A change of eps or less is not made. As torch's, step by step."""

    reads_model = False

    _settings = {
        "last_epoch": _COUNT,
        "mode": _MODE,
        "factor": _real(" in [0, 1)", lambda x: 0 <= x < 1),
        "patience": _COUNT,
        "threshold": _NON_NEGATIVE,
        "threshold_mode": _THRESHOLD_MODE,
        "cooldown": _COUNT,
        "eps": _NON_NEGATIVE,
        "default_min_lr": _Rule(
            "None or a finite real number >= 0",
            lambda value: value is None or _is_real(value),
            lambda value: value is None or _NON_NEGATIVE.holds(value),
        ),
        # the state: the best metric so far (an infinity before the first), the bad epochs
        # in a row, the cooldown epochs left
        "best": _STATE,
        "num_bad_epochs": _COUNT,
        "cooldown_counter": _COUNT,
    }

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        name = "ReduceLROnPlateau"
        _check_optimizer(name, optimizer)
        self.optimizer = optimizer
        groups = len(optimizer.param_groups)
        one = not isinstance(min_lr, (list, tuple))
        (_NON_NEGATIVE if one else _per_group(groups)).check(name, "min_lr", min_lr)
        _MODE.check(name, "mode", mode)
        settings = dict(
            mode=mode, factor=factor, patience=patience, threshold=threshold,
            threshold_mode=threshold_mode, cooldown=cooldown, eps=eps,
            min_lrs=[min_lr] * groups if one else list(min_lr),
            default_min_lr=min_lr if one else None,  # for a param group added later
            last_epoch=0, best=math.inf if mode == "min" else -math.inf,
            num_bad_epochs=0, cooldown_counter=0,
        )  # fmt: skip
        self._check(name, settings)
        vars(self).update({key: _plain(value) for key, value in settings.items()})
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _check_rates(self, owner: str, settings: dict) -> None:
        """min_lrs: one per group, or any number with one min_lr for all."""
        groups = len(self.optimizer.param_groups)
        min_lrs = settings["min_lrs"]
        if settings["default_min_lr"] is not None and isinstance(min_lrs, (list, tuple)):
            groups = len(min_lrs)  # one min_lr for all: step() gives a group added its own
        _per_group(groups).check(owner, "min_lrs", min_lrs)

    def step(self, metric) -> None:  # type: ignore[override]
        """One epoch more, whose metric (a real number, or a Value: a loss) was metric."""
        current = _metric(metric)
        improved = self._is_better(current, self.best)
        bad = 0 if improved else self.num_bad_epochs + 1
        cooldown = self.cooldown_counter
        if cooldown > 0:
            cooldown, bad = cooldown - 1, 0  # bad epochs in a cooldown do not count
        groups = self.optimizer.param_groups
        if bad > self.patience:
            min_lrs = self.min_lrs
            if len(min_lrs) != len(groups):  # a param group added since
                if self.default_min_lr is None:
                    raise ValueError(
                        f"ReduceLROnPlateau.step: {len(min_lrs)} min_lrs for {len(groups)} "
                        "param groups; set scheduler.min_lrs to one per group"
                    )
                min_lrs = [self.default_min_lr] * len(groups)
            lrs = [max(group["lr"] * self.factor, low) for group, low in zip(groups, min_lrs)]
            for group, lr in zip(groups, lrs):
                if group["lr"] - lr > self.eps:
                    group["lr"] = lr
            self.min_lrs, cooldown, bad = min_lrs, self.cooldown, 0
        if improved:
            self.best = current
        self.num_bad_epochs, self.cooldown_counter = bad, cooldown
        self.last_epoch += 1
        self._last_lr = [group["lr"] for group in groups]

    def _is_better(self, metric: float, best: float) -> bool:
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return metric < best * (1.0 - self.threshold)
            return metric < best - self.threshold
        if self.threshold_mode == "rel":
            return metric > best * (self.threshold + 1.0)
        return metric > best + self.threshold


def _metric(metric) -> float:
    """metric as a float: a real number (not a bool), a Value's number or a 0-d array's."""
    if isinstance(metric, Value):
        return metric.data
    if _is_real(metric) or (isinstance(metric, np.ndarray) and metric.shape == ()):
        try:
            return float(metric)
        except OverflowError:  # an int past float range
            raise ValueError(
                "ReduceLROnPlateau.step: the metric is too large for a float"
            ) from None
        except (TypeError, ValueError):
            pass
    raise TypeError(
        f"ReduceLROnPlateau.step: expected the epoch's metric (a loss, say) as a real "
        f"number or a Value, got {metric!r}"
    )
