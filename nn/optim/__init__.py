"""Optimizers and learning-rate schedules, with PyTorch's names, arguments and defaults.

An optimizer holds ``param_groups`` (dicts with ``"params"`` and the hyperparameters, as in
``torch.optim``) and per-parameter state. ``step()`` first reads every ``.grad`` as a
float (one that is no number fails the step before anything moves; a Value's, after
``create_graph``, by its number), then updates each parameter's ``.data`` with float
arithmetic in the order PyTorch uses, so an update never records a graph, whatever the
mode. A schedule sets ``group["lr"]`` each time it steps (a ReduceLROnPlateau, stepped with
the epoch's metric, only when that metric stops improving; a OneCycleLR the momentum or
Adam's beta1 too).

Every setting has one rule (a ``_Rule`` in the class's ``_settings``, PyTorch's where PyTorch
has one), checked by the constructor and by ``load_state_dict`` alike, so a loaded state is
one the constructor would have accepted and ``step()`` can run from. A setting of the wrong
kind is a TypeError in the constructor; in ``load_state_dict`` every fault is a ValueError,
raised before anything changes.
"""

from .algorithms import SGD, Adagrad, Adam, AdamW, RMSprop
from .optimizer import Optimizer
from .schedules import (
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "LRScheduler",
    "StepLR",
    "MultiStepLR",
    "LinearLR",
    "ConstantLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "LambdaLR",
    "SequentialLR",
    "ReduceLROnPlateau",
]
