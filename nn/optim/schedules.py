"""Learning-rate schedules: call scheduler.step() once per epoch, after optimizer.step()."""

from __future__ import annotations

from collections.abc import Callable

from .optimizer import Optimizer, _plain
from .rules import _COUNT, _NON_NEGATIVE, _integer, _is_real, _real, _Rule

# ---------------------------------------------------------------------------------------
# Learning-rate schedules: call scheduler.step() once per epoch, after optimizer.step().


def _check_optimizer(name: str, optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        kind = type(optimizer)
        shown = (
            kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        )
        raise TypeError(f"{name}: expected an nn.optim Optimizer, got a {shown}")


class LRScheduler:
    """Sets each group's lr at each epoch (the count of scheduler.step() calls): to
    lr_at(initial lr, epoch), or, where a schedule defines factor(epoch), to its lr as it is
    now times that factor, as torch.optim's schedulers do. Those then chain (two schedulers
    on one optimizer multiply their factors) and build on an lr set by hand, and their
    numbers are torch's to the bit."""

    # every setting state_dict() holds but base_lrs (whose rule needs the optimizer), with
    # what it may hold; a subclass adds its own
    _settings: dict[str, _Rule] = {"last_epoch": _COUNT}
    # May step() read or change the model (its parameters, grads, optimizer state)? Then
    # fit(compile=True) writes its numbers back into the Values before each step(), and
    # reads them again after. A schedule of a formula of the epoch says False
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
        """A closed-form schedule's lr at epoch, for a group that started at base_lr."""
        raise NotImplementedError

    def _lrs(self, epoch: int) -> list[float]:
        """Each group's lr at epoch."""
        if self.factor is not None:
            factor = self.factor(epoch)
            return [group["lr"] * factor for group in self.optimizer.param_groups]
        return [self.lr_at(base_lr, epoch) for base_lr in self.base_lrs]

    factor = None  # factor(epoch): the lr now times it (torch's recursive form), if defined

    def step(self) -> None:
        """Advance one epoch and set the new learning rates."""
        self._apply(self.last_epoch + 1)

    def get_last_lr(self) -> list[float]:
        """The learning rate of each group as this scheduler last set it (another scheduler
        chained after it, or a hand, may have set another since), as torch's."""
        return list(self._last_lr)

    def _apply(self, epoch: int) -> None:
        # every rate first, so that an lr_lambda that raises leaves all as they were
        lrs = self._lrs(epoch)
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

    def factor(self, epoch: int) -> float:
        return self.gamma if epoch and epoch % self.step_size == 0 else 1.0


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

    def factor(self, epoch: int) -> float:
        # with start 1.0, end 0.1 and 100 iterations this is karpathy/micrograd's demo
        # schedule 1.0 - 0.9 * k / 100, to 1e-15 (each step rounds, as torch's)
        if epoch == 0:
            return self.start_factor
        if epoch > self.total_iters:
            return 1.0
        change = self.end_factor - self.start_factor
        return 1.0 + change / (self.total_iters * self.start_factor + (epoch - 1) * change)


class ExponentialLR(LRScheduler):
    """lr *= gamma every epoch (lr = base_lr * gamma ** epoch)"""

    reads_model = False

    _settings = {**LRScheduler._settings, "gamma": _NON_NEGATIVE}

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        super().__init__(optimizer, gamma=gamma)

    def factor(self, epoch: int) -> float:
        return self.gamma if epoch else 1.0


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
        return [self.lr_at(b, epoch, f) for b, f in zip(self.base_lrs, self.lr_lambda)]
