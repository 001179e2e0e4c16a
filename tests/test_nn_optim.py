"""nn.optim against torch.optim: 20 steps side by side from the same parameters and gradients."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import torch
from micrograd.nn import optim

import micrograd
from micrograd import Value

# torch warns when a scheduler steps before its optimizer ever did; the schedules' own
# numbers are what these tests compare
pytestmark = pytest.mark.filterwarnings(
    "ignore:Detected call of `lr_scheduler.step\\(\\)` before:UserWarning"
)

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.02, "amsgrad": True}),
    ("Adam", {"lr": 0.02, "maximize": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"centered": True}),
    ("RMSprop", {"lr": 0.001, "momentum": 0.9}),
    ("RMSprop", {"alpha": 0.9, "centered": True, "momentum": 0.5, "weight_decay": 0.02}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("Adagrad", {"weight_decay": 0.05, "eps": 1e-6}),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_twenty_steps_agree_with_torch(name, kwargs):
    rng = np.random.default_rng(0)
    start = rng.normal(size=12)
    ours = [Value(float(x)) for x in start]
    theirs = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    ours_opt = getattr(optim, name)(ours, **kwargs)
    theirs_opt = getattr(torch.optim, name)([theirs], **kwargs, foreach=False)
    for step in range(20):
        grads = rng.normal(size=12) * 10.0 ** rng.uniform(-3, 1)
        grads[step % 12] = 0.0  # a zero gradient now and then
        ours_opt.zero_grad()
        for p, g in zip(ours, grads):
            p.grad += float(g)
        theirs.grad = torch.tensor(grads, dtype=torch.float64)
        ours_opt.step()
        theirs_opt.step()
        for p, t in zip(ours, theirs.tolist()):
            assert math.isclose(p.data, t, rel_tol=1e-12, abs_tol=1e-14), (step, p.data, t)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_defaults_are_pytorchs(name):
    ours = getattr(optim, name)([Value(1.0)]).defaults
    theirs = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)]).defaults
    for key, value in ours.items():
        if key in theirs:
            assert theirs[key] == value, key


def test_steps_record_no_graph():
    params = [Value(1.0), Value(-2.0)]
    recorded = []
    micrograd.add_node_hook(recorded.append)
    try:
        for opt in [optim.SGD(params, lr=0.1, momentum=0.9), optim.Adam(params)]:
            for p in params:
                p.grad = 0.5
            opt.step()
    finally:
        micrograd.remove_node_hook(recorded.append)
    assert recorded == []
    assert all(p._prev == () and p._op is micrograd.ops.LEAF for p in params)


def test_param_groups_have_their_own_lr():
    a, b = Value(1.0), Value(1.0)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad = b.grad = 1.0
    opt.step()
    assert (a.data, b.data) == (1.0 - 0.1, 1.0 - 0.5)


def torch_lrs(make, epochs):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    scheduler = make(torch.optim.lr_scheduler, opt)
    lrs = [scheduler.get_last_lr()[0]]
    for _ in range(epochs):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    return lrs


SCHEDULES = {
    "step": lambda m, opt: m.StepLR(opt, step_size=3, gamma=0.5),
    "linear": lambda m, opt: m.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=10),
    "linear-default": lambda m, opt: m.LinearLR(opt),
    "exponential": lambda m, opt: m.ExponentialLR(opt, gamma=0.9),
    "lambda": lambda m, opt: m.LambdaLR(opt, lambda epoch: 1 / (1 + epoch)),
    # a milestone given twice decays twice; one at 0 at once (torch counts them, any order)
    "multistep": lambda m, opt: m.MultiStepLR(opt, milestones=[12, 4, 4, 0], gamma=0.5),
    "multistep-none": lambda m, opt: m.MultiStepLR(opt, milestones=[]),
    # down to eta_min at 7, up again to 14 (where the recursive ratio would be 0 / 0), ...
    "cosine": lambda m, opt: m.CosineAnnealingLR(opt, T_max=7, eta_min=0.01),
    "cosine-1": lambda m, opt: m.CosineAnnealingLR(opt, T_max=1),
    # warm restarts at 5, 10, 15, ...; at 3, 9, 21 (cycles of 3, 6, 12); every epoch
    "restarts": lambda m, opt: m.CosineAnnealingWarmRestarts(opt, T_0=5),
    "restarts-growing": lambda m, opt: m.CosineAnnealingWarmRestarts(
        opt, 3, T_mult=2, eta_min=0.01
    ),
    "restarts-1": lambda m, opt: m.CosineAnnealingWarmRestarts(opt, 1, T_mult=3),
    # a cycle longer than the 25 steps, so that every step is one torch computes as ours
    "one-cycle": lambda m, opt: m.OneCycleLR(opt, max_lr=1.0, total_steps=30),
    "one-cycle-3": lambda m, opt: m.OneCycleLR(
        opt, 0.5, total_steps=26, pct_start=0.2, anneal_strategy="linear", three_phase=True
    ),
    "constant": lambda m, opt: m.ConstantLR(opt, factor=0.25, total_iters=4),
    "constant-default": lambda m, opt: m.ConstantLR(opt),
    # a warm-up, then a cosine decay from each group's initial lr (its closed form at 0)
    "sequential": lambda m, opt: m.SequentialLR(
        opt,
        [m.LinearLR(opt, 0.1, total_iters=5), m.CosineAnnealingLR(opt, T_max=7, eta_min=0.01)],
        milestones=[5],
    ),
    # three in turn, the second starting at once (a milestone at 0 skips the first)
    "sequential-3": lambda m, opt: m.SequentialLR(
        opt,
        [
            m.ConstantLR(opt, 0.5, 2),
            m.StepLR(opt, 3, 0.5),
            m.MultiStepLR(opt, [1, 4], 0.3),
            m.LambdaLR(opt, lambda e: 1 / (e + 1)),
            m.ExponentialLR(opt, 0.9),
        ],
        milestones=[0, 6, 11, 17],
    ),  # fmt: skip
}


@pytest.mark.parametrize("kind", SCHEDULES)
def test_schedules_agree_with_torch(kind):
    opt = optim.SGD([Value(0.0)], lr=0.3)
    scheduler = SCHEDULES[kind](optim, opt)
    ours = [scheduler.get_last_lr()[0]]
    for _ in range(25):
        opt.step()
        scheduler.step()
        ours.append(opt.param_groups[0]["lr"])
    assert ours == torch_lrs(SCHEDULES[kind], 25)  # to the bit: torch's own steps


def test_linear_schedule_is_karpathys_demo_schedule():
    opt = optim.SGD([Value(0.0)], lr=1.0)
    scheduler = optim.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=100)
    for k in range(100):  # torch's steps round on the way, as the closed form does not
        assert opt.param_groups[0]["lr"] == pytest.approx(1.0 - 0.9 * k / 100, rel=1e-14)
        scheduler.step()


def _two_group_sgd(module):
    """SGD of ours (module optim) or torch's (torch.optim) over two parameters at 0, in two
    param groups of lr 0.3 and 0.05."""
    params = (
        [Value(0.0), Value(0.0)]
        if module is optim
        else [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
    )
    return module.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.05}], lr=0.3)


def _both_schedules(make, setup=lambda opt: None, epochs=12):
    """The lrs ours and torch's schedulers set, epoch by epoch, from make(module, optimizer)
    on an optimizer of two groups, and what each scheduler's get_last_lr() says; setup(
    optimizer) runs after epoch 4 (an lr set by hand)."""
    runs = []
    for module in (optim, torch.optim):
        opt = _two_group_sgd(module)
        schedulers = make(module if module is optim else torch.optim.lr_scheduler, opt)
        lrs = []
        for epoch in range(epochs):
            opt.step()
            for scheduler in schedulers:
                scheduler.step()
            if epoch == 4:
                setup(opt)
            lrs.append([group["lr"] for group in opt.param_groups])
            lrs.append([scheduler.get_last_lr() for scheduler in schedulers])
        runs.append(lrs)
    return runs


@pytest.mark.parametrize(
    "make, setup",
    [
        # two schedulers on one optimizer multiply (only the last one counted)
        (lambda m, opt: [m.StepLR(opt, 2, 0.5), m.ExponentialLR(opt, 0.9)], lambda opt: None),
        (lambda m, opt: [m.LinearLR(opt, 0.5, 1.0, 6), m.StepLR(opt, 3, 0.1)], lambda opt: None),
        # an lr set by hand is where the schedule goes on from (it was overwritten)
        (lambda m, opt: [m.ExponentialLR(opt, 0.5)],
         lambda opt: opt.param_groups[0].update(lr=1.0)),
        (lambda m, opt: [m.LambdaLR(opt, [lambda e: 0.9**e, lambda e: 1 / (1 + e)])],
         lambda opt: None),
        # a LambdaLR after another starts from the first lr (initial_lr), not from what the
        # LinearLR made of it: lrs 14.8 times torch's at worst over 30 steps
        (lambda m, opt: [m.LinearLR(opt, 0.5, 1.0, 10), m.LambdaLR(opt, lambda e: 0.9**e)],
         lambda opt: None),
        (lambda m, opt: [m.ExponentialLR(opt, 0.9), m.LambdaLR(opt, lambda e: 1 / (1 + e))],
         lambda opt: opt.param_groups[1].update(lr=0.5)),
        (lambda m, opt: [m.CosineAnnealingLR(opt, 5, 0.001), m.MultiStepLR(opt, [3, 8])],
         lambda opt: opt.param_groups[0].update(lr=1.0)),
        # a closed form, as LambdaLR: it sets lr from the first, whatever another did
        (lambda m, opt: [m.StepLR(opt, 2, 0.5), m.CosineAnnealingWarmRestarts(opt, 3, 2)],
         lambda opt: opt.param_groups[1].update(lr=0.5)),
    ],
)  # fmt: skip
def test_schedules_chain_and_go_on_from_an_lr_set_by_hand_as_torchs(make, setup):
    # get_last_lr() is each scheduler's own last lrs (it read the groups': after a chain
    # or a hand, another's)
    ours, theirs = _both_schedules(make, setup)
    assert ours == theirs


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: optim.SGD([], lr=0.1), "empty parameter list"),
        (lambda: optim.SGD([Value(1.0)], lr=-1.0), "invalid lr -1.0"),
        (lambda: optim.SGD([Value(1.0)], nesterov=True), "nesterov needs momentum"),
        (lambda: optim.Adam([Value(1.0)], betas=(0.9, 1.0)), "betas"),
        (lambda: optim.StepLR(optim.SGD([Value(1.0)]), step_size=0), "step_size"),
    ],
)
def test_bad_arguments_are_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_non_values_are_rejected():
    with pytest.raises(TypeError, match="SGD: every parameter must be a Value"):
        optim.SGD([1.0])


def _run(opt, params, grads_per_step):
    for grads in grads_per_step:
        opt.zero_grad()
        for p, g in zip(params, grads):
            p.grad += float(g)
        opt.step()


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_state_dict_holds_what_torchs_holds(name, kwargs):
    rng = np.random.default_rng(1)
    start, grads = rng.normal(size=4), rng.normal(size=(5, 4))
    ours = [Value(float(x)) for x in start]
    theirs = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    ours_opt = getattr(optim, name)(ours, **kwargs)
    theirs_opt = getattr(torch.optim, name)([theirs], **kwargs, foreach=False)
    _run(ours_opt, ours, grads)
    for g in grads:
        theirs.grad = torch.tensor(g)
        theirs_opt.step()
    saved, expected = ours_opt.state_dict(), theirs_opt.state_dict()
    torch_state = {k: v for k, v in expected["state"].get(0, {}).items() if v is not None}
    assert sorted(saved["state"]) == ([0, 1, 2, 3] if torch_state else [])  # plain SGD: none
    for i, entry in saved["state"].items():
        assert set(entry) == set(torch_state), (entry, torch_state)
        for key, value in entry.items():
            theirs_value = torch_state[key].reshape(-1)
            theirs_value = theirs_value[0] if key == "step" else theirs_value[i]
            assert math.isclose(value, theirs_value.item(), rel_tol=1e-12, abs_tol=1e-15), key
    group, torch_group = saved["param_groups"][0], expected["param_groups"][0]
    assert group["params"] == [0, 1, 2, 3]
    for key in set(group) & set(torch_group) - {"params"}:
        assert group[key] == pytest.approx(list(torch_group[key]) if key == "betas" else
                                           torch_group[key]), key  # fmt: skip


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_training_resumed_from_a_saved_state_continues_exactly(name, kwargs):
    import json

    rng = np.random.default_rng(2)
    start, grads = rng.normal(size=5), rng.normal(size=(8, 5))
    straight = [Value(float(x)) for x in start]
    _run(getattr(optim, name)(straight, **kwargs), straight, grads)

    first = [Value(float(x)) for x in start]
    opt = getattr(optim, name)(first, **kwargs)
    _run(opt, first, grads[:4])
    saved = json.loads(json.dumps(opt.state_dict()))  # as written to and read from a file
    resumed = [Value(p.data) for p in first]
    fresh = getattr(optim, name)(resumed, lr=123.0) if name != "SGD" else optim.SGD(resumed)
    fresh.load_state_dict(saved)
    _run(fresh, resumed, grads[4:])
    assert [p.data for p in resumed] == [p.data for p in straight]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s["param_groups"].append(dict(s["param_groups"][0])), "2 parameter groups"),
        (lambda s: s["param_groups"][0]["params"].pop(), "holds 2 parameters"),
        (lambda s: s["param_groups"][0].update(foo=1), r"unexpected \['foo'\]"),
        (lambda s: s["param_groups"][0].pop("eps"), r"missing \['eps'\]"),
        (lambda s: s["param_groups"][0].update(lr=-1.0), "invalid lr"),
        (lambda s: s["state"].update({7: {"step": 1}}), "parameter 7"),
        (lambda s: s["state"][0].update(exp_avg="x"), "parameter 0: invalid exp_avg 'x'"),
        (lambda s: s.pop("state"), "'state' and 'param_groups'"),
        (lambda s: s.update(state=[]), "'state' must be a dict"),
        (lambda s: s["state"].update({"first": {}}), "parameter 'first'"),
        (lambda s: s["param_groups"][0].update(params=3), "holds no list of parameters"),
        (lambda s: s["param_groups"][0].update(lr="0.1"), "group 0: invalid lr '0.1'"),
        (lambda s: s["param_groups"][0].update(amsgrad=1), "group 0: invalid amsgrad 1"),
        (lambda s: s["param_groups"][0].update(betas=[0.9]), r"group 0: invalid betas \[0.9\]"),
    ],
)
def test_a_bad_state_dict_is_a_clear_error_and_changes_nothing(change, message):
    params = [Value(1.0), Value(-2.0), Value(0.5)]
    opt = optim.Adam(params, lr=0.1)
    _run(opt, params, [[0.1, 0.2, 0.3]] * 2)
    before = opt.state_dict()
    bad = opt.state_dict()
    change(bad)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(bad)
    assert opt.state_dict() == before


@pytest.mark.parametrize("kind", SCHEDULES)
def test_a_schedule_resumes_from_its_state_dict(kind):
    opt = optim.SGD([Value(0.0)], lr=0.3)
    scheduler = SCHEDULES[kind](optim, opt)
    lrs = [scheduler.get_last_lr()[0]]
    for epoch in range(25):
        if epoch == 12:  # stop, save both, and carry on from the saved state
            saved = (opt.state_dict(), scheduler.state_dict())
            opt = optim.SGD([Value(0.0)], lr=0.3)
            scheduler = SCHEDULES[kind](optim, opt)
            opt.load_state_dict(saved[0])
            scheduler.load_state_dict(saved[1])
        opt.step()
        scheduler.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == pytest.approx(torch_lrs(SCHEDULES[kind], 25), rel=1e-12)
    with pytest.raises(ValueError, match="expected the keys"):
        scheduler.load_state_dict({"last_epoch": 3})


# ---------------------------------------------------------------------------------------
# Validation: the constructor and load_state_dict share one set of checks, so a state that
# load_state_dict accepts is one the constructor would have accepted, and step() can run it.

NAN, INF = float("nan"), float("inf")
HUGE = 10**400  # an int that float() cannot hold: float arithmetic with it is an OverflowError
NUMBER_BAD = ["0.1", True, None, NAN, INF, -INF, HUGE]  # not a finite real number
NON_NEGATIVE_BAD = [*NUMBER_BAD, -1e-3]
FLAG_BAD = [1, "yes", None]
BETAS_BAD = [[1.0, 5.0], ["a", "b"], [0.9], [0.9, 0.99, 0.999], 0.9, "ab", [0.9, NAN]]
BETAS_BAD += [[-0.1, 0.9], [0.9, 1.0], [True, False]]
COUNT_BAD = [-1, 1.5, 2.0, True, "3", None, HUGE]  # a step count: an integer >= 0
# a state's number: nan and the infinities are good (steps leave them, torch loads them)
STATE_NUMBER_BAD = ["0.1", True, None, HUGE]

# every setting in each optimizer's param groups, and values of it that no optimizer may hold
SETTINGS_BAD = {
    "SGD": dict(
        lr=NON_NEGATIVE_BAD, momentum=NON_NEGATIVE_BAD, dampening=NUMBER_BAD,
        weight_decay=NON_NEGATIVE_BAD, nesterov=FLAG_BAD, maximize=FLAG_BAD,
    ),
    "Adam": dict(
        lr=NON_NEGATIVE_BAD, betas=BETAS_BAD, eps=NON_NEGATIVE_BAD,
        weight_decay=NON_NEGATIVE_BAD, amsgrad=FLAG_BAD, maximize=FLAG_BAD,
        decoupled_weight_decay=FLAG_BAD,
    ),
    "AdamW": dict(
        lr=NON_NEGATIVE_BAD, betas=BETAS_BAD, eps=NON_NEGATIVE_BAD,
        weight_decay=NON_NEGATIVE_BAD, amsgrad=FLAG_BAD, maximize=FLAG_BAD,
        decoupled_weight_decay=FLAG_BAD,
    ),
    "RMSprop": dict(
        lr=NON_NEGATIVE_BAD, alpha=NON_NEGATIVE_BAD, eps=NON_NEGATIVE_BAD,
        weight_decay=NON_NEGATIVE_BAD, momentum=NON_NEGATIVE_BAD, centered=FLAG_BAD,
        maximize=FLAG_BAD,
    ),
    "Adagrad": dict(
        lr=NON_NEGATIVE_BAD, lr_decay=NON_NEGATIVE_BAD, weight_decay=NON_NEGATIVE_BAD,
        initial_accumulator_value=NON_NEGATIVE_BAD, eps=NON_NEGATIVE_BAD, maximize=FLAG_BAD,
    ),
}  # fmt: skip

# the per-parameter state each optimizer keeps (with the settings that make it keep all of
# it), and values of each field that step() cannot run from
STATE_BAD = {
    "SGD": ({"lr": 0.1, "momentum": 0.9}, dict(momentum_buffer=STATE_NUMBER_BAD)),
    "Adam": (
        {"lr": 0.1, "amsgrad": True},
        dict(
            step=COUNT_BAD, exp_avg=STATE_NUMBER_BAD, exp_avg_sq=STATE_NUMBER_BAD,
            max_exp_avg_sq=STATE_NUMBER_BAD,
        ),
    ),
    "AdamW": (
        {"lr": 0.1, "amsgrad": True},
        dict(
            step=COUNT_BAD, exp_avg=STATE_NUMBER_BAD, exp_avg_sq=STATE_NUMBER_BAD,
            max_exp_avg_sq=STATE_NUMBER_BAD,
        ),
    ),
    "RMSprop": (
        {"centered": True, "momentum": 0.5},
        dict(
            step=COUNT_BAD, square_avg=STATE_NUMBER_BAD, grad_avg=STATE_NUMBER_BAD,
            momentum_buffer=STATE_NUMBER_BAD,
        ),
    ),
    "Adagrad": ({}, dict(step=COUNT_BAD, sum=STATE_NUMBER_BAD)),
}  # fmt: skip

GRADS = [[0.1, -0.2, 0.3], [0.4, 0.1, -0.3], [-0.2, 0.5, 0.05]]


def _stepped(name, **kwargs):
    """An optimizer of three parameters after two real steps, and its parameters."""
    params = [Value(1.0), Value(-2.0), Value(0.5)]
    opt = getattr(optim, name)(params, **kwargs)
    _run(opt, params, GRADS[:2])
    return opt, params


def _assert_load_is_refused(name, kwargs, change, message):
    """Loading a changed copy of the state is a ValueError matching message; afterwards the
    optimizer holds what it held and steps on exactly as a twin that never saw the bad load."""
    opt, params = _stepped(name, **kwargs)
    twin, twin_params = _stepped(name, **kwargs)
    before = copy.deepcopy(opt.state_dict())
    bad = copy.deepcopy(before)
    change(bad)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(bad)
    assert opt.state_dict() == before
    _run(opt, params, GRADS[2:])
    _run(twin, twin_params, GRADS[2:])
    assert [p.data for p in params] == [p.data for p in twin_params]
    assert opt.state_dict() == twin.state_dict()


def _ids(cases):
    return [f"{name}-{field}={'10**400' if v is HUGE else repr(v)}" for name, field, v in cases]


SETTING_CASES = [
    (name, field, value)
    for name, fields in SETTINGS_BAD.items()
    for field, values in fields.items()
    for value in values
]


@pytest.mark.parametrize("name", SETTINGS_BAD)
def test_every_setting_has_bad_values_in_the_tables(name):
    # a setting added to an optimizer without a line in SETTINGS_BAD fails here
    settings = set(getattr(optim, name)([Value(1.0)]).state_dict()["param_groups"][0]) - {"params"}
    assert settings == set(SETTINGS_BAD[name])
    opt, _ = _stepped(name, **STATE_BAD[name][0])
    for entry in opt.state_dict()["state"].values():
        assert set(entry) == set(STATE_BAD[name][1])


# AdamW takes no decoupled_weight_decay argument (it is always True): only a load can set it
ARGUMENT_CASES = [case for case in SETTING_CASES if case[:2] != ("AdamW", "decoupled_weight_decay")]


@pytest.mark.parametrize("name, field, value", ARGUMENT_CASES, ids=_ids(ARGUMENT_CASES))
def test_the_constructor_refuses_a_bad_setting_naming_it(name, field, value):
    with pytest.raises((TypeError, ValueError), match=field):
        getattr(optim, name)([Value(1.0)], **{field: value})


@pytest.mark.parametrize("name, field, value", SETTING_CASES, ids=_ids(SETTING_CASES))
def test_load_state_dict_refuses_a_bad_setting_and_changes_nothing(name, field, value):
    change = lambda state: state["param_groups"][0].update({field: value})
    _assert_load_is_refused(name, {}, change, f"group 0.*{field}")


STATE_CASES = [
    (name, field, value)
    for name, (_, fields) in STATE_BAD.items()
    for field, values in fields.items()
    for value in values
]


@pytest.mark.parametrize("name, field, value", STATE_CASES, ids=_ids(STATE_CASES))
def test_load_state_dict_refuses_bad_per_parameter_state(name, field, value):
    change = lambda state: state["state"][1].update({field: value})
    _assert_load_is_refused(name, STATE_BAD[name][0], change, f"parameter 1.*{field}")


@pytest.mark.parametrize(
    "name, kwargs, field",
    [("Adam", {}, "momentum_buffer"), ("SGD", {"momentum": 0.9}, "exp_avg"),
     ("Adagrad", {}, "square_avg"), ("RMSprop", {}, "sum")],
)  # fmt: skip
def test_load_state_dict_refuses_state_another_optimizer_keeps(name, kwargs, field):
    change = lambda state: state["state"][0].update({field: 0.5})
    _assert_load_is_refused(name, kwargs, change, f"parameter 0.*{field}")


@pytest.mark.parametrize("key", ["²", "١", "01", " 1", "+1", 1.0, True, None])
def test_load_state_dict_refuses_a_parameter_number_that_is_not_one(key):
    # str.isdigit() is True for '²', and int() reads Arabic-Indic '١' as 1; state_dict() and
    # JSON write only ints and their plain decimal strings
    change = lambda state: state["state"].update({key: state["state"].pop(1)})
    _assert_load_is_refused("Adam", {}, change, "parameter")


def test_load_state_dict_refuses_a_parameter_given_twice():
    change = lambda state: state["state"].update({"1": dict(state["state"][1], step=9)})
    _assert_load_is_refused("Adam", {}, change, "parameter 1.*twice")


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("SGD", {"lr": -0.1}), ("SGD", {"momentum": -0.5}), ("SGD", {"weight_decay": -1e-3}),
        ("SGD", {"nesterov": True}), ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}),
        ("Adam", {"lr": -1.0}), ("Adam", {"eps": -1e-8}), ("Adam", {"weight_decay": -0.1}),
        ("Adam", {"betas": (1.0, 0.5)}), ("Adam", {"betas": (0.5, 1.0)}),
        ("Adam", {"betas": (-0.1, 0.5)}), ("AdamW", {"betas": (0.9, 1.5)}),
        ("AdamW", {"weight_decay": -0.01}), ("RMSprop", {"alpha": -0.1}),
        ("RMSprop", {"momentum": -0.1}), ("RMSprop", {"eps": -1.0}),
        ("Adagrad", {"lr_decay": -0.1}), ("Adagrad", {"initial_accumulator_value": -0.1}),
        ("Adagrad", {"eps": -1e-10}), ("Adagrad", {"weight_decay": -1.0}),
    ],
)  # fmt: skip
def test_what_torch_refuses_we_refuse_naming_the_setting(name, kwargs):
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match="nesterov" if "nesterov" in kwargs else list(kwargs)[0]):
        getattr(optim, name)([Value(1.0)], **kwargs)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("SGD", {"lr": 0}), ("SGD", {"lr": 1, "momentum": 0.5, "dampening": -0.5}),
        ("SGD", {"lr": np.float64(0.1), "momentum": np.float64(0.9)}),
        ("Adam", {"lr": 0.0, "betas": (0.0, 0.0), "eps": 0.01}), ("Adam", {"betas": [0.8, 0.9]}),
        ("RMSprop", {"alpha": 0.0, "momentum": 0}), ("RMSprop", {"alpha": 1}),
        ("Adagrad", {"lr_decay": 0, "initial_accumulator_value": 0, "eps": 1e-3}),
    ],
)  # fmt: skip
def test_edge_values_torch_accepts_we_accept_and_step_with(name, kwargs):
    theirs = torch.tensor([0.5, -1.5], dtype=torch.float64, requires_grad=True)
    theirs_opt = getattr(torch.optim, name)([theirs], **kwargs, foreach=False)
    ours = [Value(0.5), Value(-1.5)]
    ours_opt = getattr(optim, name)(ours, **kwargs)
    for grads in [[0.3, -0.2], [0.0, 0.1], [-0.4, 0.7]]:
        theirs.grad = torch.tensor(grads, dtype=torch.float64)
        theirs_opt.step()
        _run(ours_opt, ours, [grads])
    for p, t in zip(ours, theirs.tolist()):
        assert math.isclose(p.data, t, rel_tol=1e-12, abs_tol=1e-15)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda a, b: optim.SGD([a], lr="0.1"), TypeError, "SGD: invalid lr '0.1'"),
        (lambda a, b: optim.SGD([{"lr": 1}]), ValueError, "group 0 has no 'params'"),
        (lambda a, b: optim.SGD([{"params": [a]}, b]), TypeError, "group 1 must be a dict"),
        (lambda a, b: optim.SGD(3), TypeError, "params must be an iterable"),
        (lambda a, b: optim.SGD({a, b}), TypeError, "set"),
        (lambda a, b: optim.SGD([{"params": {a, b}}]), TypeError, "set"),
        (lambda a, b: optim.SGD([{"params": a}]), TypeError, "one Value"),
        (lambda a, b: optim.SGD([{"params": [a]}, {"params": [a, b]}]), ValueError,
         "more than one"),
        (lambda a, b: optim.SGD([{"params": [a]}, {"params": [b], "lr": -1}]), ValueError,
         "group 1: invalid lr -1"),
        (lambda a, b: optim.SGD([{"params": [a], "lr": 0.1}], lr="x"), TypeError, "lr 'x'"),
        (lambda a, b: optim.SGD([{"params": [a], "momentum": 0.9}], nesterov=True), ValueError,
         "nesterov"),
        # stepped twice a step (torch warns that this will be an error)
        (lambda a, b: optim.SGD([a, b, a]), ValueError, "SGD: parameter 2 is in params twice"),
        (lambda a, b: optim.Adam([{"params": [b]}, {"params": [a, a]}]), ValueError,
         "Adam: group 1: parameter 1 is in params twice"),
    ],
)  # fmt: skip
def test_bad_parameters_and_groups_are_clear_errors(make, error, message):
    with pytest.raises(error, match=message):
        make(Value(1.0), Value(2.0))


def test_a_users_own_group_key_survives_a_json_round_trip():
    # torch.optim keeps keys of the user's own in a param group, and so do we; a saved one
    # must come back as the same kind of value, as the optimizer cannot know what it means
    import json

    torch_opt = torch.optim.SGD([{"params": [torch.zeros(1)], "name": "encoder"}], lr=0.1)
    assert torch_opt.state_dict()["param_groups"][0]["name"] == "encoder"
    opt, _ = _stepped("SGD", lr=0.1)
    opt.param_groups[0]["name"] = "encoder"
    saved = json.loads(json.dumps(opt.state_dict()))
    fresh = optim.SGD([{"params": [Value(0.0) for _ in range(3)], "name": "decoder"}])
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["name"] == "encoder"
    saved["param_groups"][0]["name"] = 7
    with pytest.raises(ValueError, match="group 0 has name = 7, where this has 'encoder'"):
        fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["name"] == "encoder"


def test_a_parameter_in_two_groups_torch_refuses_too():
    a = torch.zeros(1, requires_grad=True)
    with pytest.raises(ValueError, match="more than one"):
        torch.optim.SGD([{"params": [a]}, {"params": [a]}])


# ---------------------------------------------------------------------------------------
# Schedules: the same contract.

SCHEDULE_MAKERS = {  # each with good settings, any of which a test may replace
    "StepLR": lambda opt, **kw: optim.StepLR(opt, **{"step_size": 3, "gamma": 0.5, **kw}),
    "LinearLR": lambda opt, **kw: optim.LinearLR(
        opt, **{"start_factor": 0.5, "end_factor": 0.1, "total_iters": 10, **kw}
    ),
    "ExponentialLR": lambda opt, **kw: optim.ExponentialLR(opt, **{"gamma": 0.9, **kw}),
    "LambdaLR": lambda opt, **kw: optim.LambdaLR(opt, **{"lr_lambda": lambda e: 0.5**e, **kw}),
    "MultiStepLR": lambda opt, **kw: optim.MultiStepLR(
        opt, **{"milestones": [2, 5], "gamma": 0.5, **kw}
    ),
    "CosineAnnealingLR": lambda opt, **kw: optim.CosineAnnealingLR(
        opt, **{"T_max": 4, "eta_min": 0.01, **kw}
    ),
    "CosineAnnealingWarmRestarts": lambda opt, **kw: optim.CosineAnnealingWarmRestarts(
        opt, **{"T_0": 2, "T_mult": 2, "eta_min": 0.01, **kw}
    ),
    "OneCycleLR": lambda opt, **kw: optim.OneCycleLR(
        opt, **{"max_lr": 1.0, "total_steps": 12, **kw}
    ),
    "ConstantLR": lambda opt, **kw: optim.ConstantLR(
        opt, **{"factor": 0.5, "total_iters": 3, **kw}
    ),
}
MAKERS = {  # ReduceLROnPlateau has no base_lrs, and state of its own: tables of its own below
    **SCHEDULE_MAKERS,
    "ReduceLROnPlateau": lambda opt, **kw: optim.ReduceLROnPlateau(
        opt, **{"patience": 1, "cooldown": 1, **kw}
    ),
}
FACTOR_BAD = ["x", None, True, NAN, INF, HUGE]
SCHEDULE_SETTINGS_BAD = {
    "StepLR": dict(step_size=[0, -1, 1.5, 3.0, "3", True, None], gamma=[*FACTOR_BAD, -0.5]),
    "LinearLR": dict(
        start_factor=[*FACTOR_BAD, 0, 0.0, -0.1, 1.5],
        end_factor=[*FACTOR_BAD, -0.1, 1.5],
        total_iters=[0, -1, 2.5, 5.0, "5", True, None],
    ),
    "ExponentialLR": dict(gamma=[*FACTOR_BAD, -0.5]),
    "LambdaLR": dict(),
    "MultiStepLR": dict(
        milestones=[[-1], [1.5], [2, "3"], [True], "25", 3, None], gamma=[*FACTOR_BAD, -0.5]
    ),
    "CosineAnnealingLR": dict(
        T_max=[0, -1, 2.5, 4.0, "4", True, None], eta_min=[*FACTOR_BAD, -0.01]
    ),
    "CosineAnnealingWarmRestarts": dict(
        T_0=[0, -1, 2.5, "2", True, None],
        T_mult=[0, -1, 1.5, 2.0, True, None],
        eta_min=[*FACTOR_BAD, -0.01],
    ),
    "ConstantLR": dict(
        factor=[*FACTOR_BAD, 0, 0.0, -0.1, 1.5], total_iters=[-1, 2.5, 3.0, "3", True, None]
    ),
    "OneCycleLR": dict(
        total_steps=[0, -1, 2.5, 12.0, "12", True],  # None: epochs and steps_per_epoch
        pct_start=[*FACTOR_BAD, -0.1, 1.5],
        anneal_strategy=["cosine", "COS", None, 1],
        cycle_momentum=FLAG_BAD,
        three_phase=FLAG_BAD,
    ),
}
# last_epoch counts scheduler.step() calls; base_lrs holds one rate per param group (two here)
COMMON_BAD = dict(
    last_epoch=[-1, "x", 1.5, True, None, HUGE],
    base_lrs=[[], [0.3, 0.3, 0.3], [0.3, "x"], [0.3, -0.1], [NAN, 0.3], "0.3", 0.3, None],
)
PLATEAU_ARGUMENTS_BAD = dict(
    mode=["x", "MIN", None, 1],
    factor=[*FACTOR_BAD, -0.1, 1.0, 1.5],
    patience=[-1, 1.5, "3", True, None],
    threshold=[*FACTOR_BAD, -1e-4],
    threshold_mode=["relative", None, 1],
    cooldown=[-1, 2.5, True, None],
    eps=[*FACTOR_BAD, -1e-8],
    min_lr=[*FACTOR_BAD, -0.1, [0.1], [0.1, 0.1, 0.1], [0.1, "x"], [0.1, -0.1]],
)
PLATEAU_STATE_BAD = {  # the state: min_lrs for min_lr, and what step() keeps
    **{field: bad for field, bad in PLATEAU_ARGUMENTS_BAD.items() if field != "min_lr"},
    "min_lrs": [[0.1, "x"], [0.1, -0.1], [NAN, 0.1], 0.1, None],
    "default_min_lr": ["x", True, NAN, INF, -0.1],
    "best": ["x", None, True, HUGE],
    "num_bad_epochs": [-1, 1.5, True, None],
    "cooldown_counter": [-1, 1.5, True, None],
    "last_epoch": COMMON_BAD["last_epoch"],
}


def _scheduled(kind):
    """An optimizer of two param groups and a schedule of it after three epochs."""
    params = [Value(1.0), Value(-1.0)]
    opt = optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.2}], lr=0.3)
    scheduler = MAKERS[kind](opt)
    for epoch in range(3):
        _run(opt, params, [[0.5, -0.5]])
        _step(scheduler, epoch)
    return opt, scheduler, params


def _step(scheduler, epoch: int) -> None:
    """scheduler.step(), given a plateau's metric: it falls, then rises, and falls again."""
    if isinstance(scheduler, optim.ReduceLROnPlateau):
        scheduler.step([1.0, 0.5, 0.8, 0.9, 1.0, 0.2, 0.3][epoch % 7])
    else:
        scheduler.step()


def _assert_schedule_load_is_refused(kind, field, value):
    opt, scheduler, params = _scheduled(kind)
    _, twin, twin_params = _scheduled(kind)
    before = copy.deepcopy(scheduler.state_dict())
    lrs_before = scheduler.get_last_lr()
    bad = dict(copy.deepcopy(before), **{field: value})
    with pytest.raises(ValueError, match=f"{kind}.load_state_dict.*{field}"):
        scheduler.load_state_dict(bad)
    assert scheduler.state_dict() == before
    assert scheduler.get_last_lr() == lrs_before
    for epoch in range(3, 7):
        _step(scheduler, epoch)
        _step(twin, epoch)
        assert scheduler.get_last_lr() == twin.get_last_lr()
    assert scheduler.state_dict() == twin.state_dict()


SCHEDULE_CASES = [
    (kind, field, value)
    for kind, fields in SCHEDULE_SETTINGS_BAD.items()
    for field, values in fields.items()
    for value in values
]
COMMON_CASES = [
    (kind, field, value)
    for kind in SCHEDULE_MAKERS
    for field, values in COMMON_BAD.items()
    for value in values
]
PLATEAU_CASES = [
    ("ReduceLROnPlateau", field, value)
    for field, values in PLATEAU_ARGUMENTS_BAD.items()
    for value in values
]
PLATEAU_STATE_CASES = [
    ("ReduceLROnPlateau", field, value)
    for field, values in PLATEAU_STATE_BAD.items()
    for value in values
]


@pytest.mark.parametrize("kind", MAKERS)
def test_every_schedule_setting_has_bad_values_in_the_tables(kind):
    _, scheduler, _ = _scheduled(kind)
    if kind == "ReduceLROnPlateau":
        assert set(scheduler.state_dict()) == set(PLATEAU_STATE_BAD)
    else:
        assert set(scheduler.state_dict()) == set(SCHEDULE_SETTINGS_BAD[kind]) | set(COMMON_BAD)


@pytest.mark.parametrize(
    "kind, field, value", SCHEDULE_CASES + PLATEAU_CASES, ids=_ids(SCHEDULE_CASES + PLATEAU_CASES)
)
def test_a_schedule_constructor_refuses_a_bad_setting_naming_it(kind, field, value):
    opt = optim.SGD([{"params": [Value(1.0)]}, {"params": [Value(2.0)]}], lr=0.3)
    with pytest.raises((TypeError, ValueError), match=f"{kind}: invalid {field}"):
        MAKERS[kind](opt, **{field: value})
    assert [group["lr"] for group in opt.param_groups] == [0.3, 0.3]
    assert all("initial_lr" not in group for group in opt.param_groups)


LOAD_CASES = SCHEDULE_CASES + COMMON_CASES + PLATEAU_STATE_CASES


@pytest.mark.parametrize("kind, field, value", LOAD_CASES, ids=_ids(LOAD_CASES))
def test_a_schedule_refuses_a_bad_state_and_changes_nothing(kind, field, value):
    _assert_schedule_load_is_refused(kind, field, value)


@pytest.mark.parametrize(
    "start_factor, end_factor", [(0.0, 1.0), (1.5, 1.0), (0.5, -0.1), (0.5, 1.5)]
)
def test_linear_factors_torch_refuses_we_refuse(start_factor, end_factor):
    theirs = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    with pytest.raises(ValueError):
        torch.optim.lr_scheduler.LinearLR(theirs, start_factor, end_factor)
    with pytest.raises(ValueError, match="LinearLR: invalid (start|end)_factor"):
        optim.LinearLR(optim.SGD([Value(1.0)], lr=0.3), start_factor, end_factor)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (
            lambda opt: optim.StepLR([Value(1.0)], step_size=3),
            TypeError,
            "StepLR: expected an nn.optim Optimizer, got a list",
        ),
        # an AttributeError ('NoneType' has no param_groups) before the optimizer was checked
        (lambda opt: optim.LambdaLR(None, [abs]), TypeError, "LambdaLR: expected an nn.optim"),
        (
            lambda opt: optim.StepLR(torch.optim.SGD([torch.zeros(1)], lr=0.1), 2),
            TypeError,
            "StepLR: expected an nn.optim Optimizer, got a torch.optim.sgd.SGD",
        ),  # not its whole repr
        (lambda opt: optim.LambdaLR(opt, lr_lambda=3), TypeError, "lr_lambda"),
        (lambda opt: optim.LambdaLR(opt, lambda epoch: "x"), TypeError, r"lr_lambda\(0\)"),
        (lambda opt: optim.LambdaLR(opt, lambda epoch: -1.0), ValueError, r"lr_lambda\(0\)"),
    ],
)
def test_bad_schedule_arguments_are_clear_errors(make, error, message):
    opt = optim.SGD([Value(1.0)], lr=0.3)
    with pytest.raises(error, match=message):
        make(opt)
    assert opt.param_groups[0]["lr"] == 0.3


PLATEAU_METRICS = {
    # falls, stalls, rises, falls within the threshold: bad epochs, then a reduction
    "noisy": [1.0, 0.8, 0.8, 0.79995, 0.9, 0.7, 0.7, 0.7, 0.71, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
    # nan is never better, so it counts as a bad epoch; the infinities compare as numbers
    "nan": [1.0, NAN, NAN, NAN, 0.5, INF, -INF, NAN, -INF, -INF, -INF, -INF],
    "negative": [-1.0, -1.0001, -1.00015, -1.1, -1.1, -1.1, -2.0, -2.0, -2.0],
}
PLATEAU_SETTINGS = [
    {},
    {"patience": 0},
    {"patience": 1, "cooldown": 2, "factor": 0.5},
    {"patience": 0, "threshold_mode": "abs", "threshold": 0.05},
    {"patience": 0, "mode": "max"},
    {"patience": 1, "mode": "max", "threshold_mode": "abs", "threshold": 0.0},
    {"patience": 0, "min_lr": [0.1, 0.02]},  # reaches the floors, then stops
    {"patience": 0, "factor": 0.9, "eps": 0.01},  # a change of eps or less is not made
]


@pytest.mark.parametrize("metrics", PLATEAU_METRICS)
@pytest.mark.parametrize("settings", PLATEAU_SETTINGS, ids=str)
def test_plateau_schedules_agree_with_torch_step_by_step(settings, metrics):
    runs = []
    for module in (optim, torch.optim):
        opt = _two_group_sgd(module)
        maker = optim if module is optim else torch.optim.lr_scheduler
        scheduler = maker.ReduceLROnPlateau(opt, **settings)
        seen = []
        for epoch, metric in enumerate(PLATEAU_METRICS[metrics] * 2):
            scheduler.step(metric)
            if epoch == 9:
                opt.param_groups[1]["lr"] = 0.04  # set by hand: it goes on from there
            state = [scheduler.best, scheduler.num_bad_epochs, scheduler.cooldown_counter]
            seen.append(([g["lr"] for g in opt.param_groups], scheduler.get_last_lr(), state))
        runs.append(seen)
    ours, theirs = runs
    assert repr(ours) == repr(theirs)  # nan equal to nan, each number to the bit
    assert len({repr(lrs) for lrs, _, _ in theirs}) > 1 or settings.get("eps")


def test_a_plateau_schedule_takes_a_values_or_a_numpy_numbers_metric():
    opt = optim.SGD([Value(1.0)], lr=0.3)
    scheduler = optim.ReduceLROnPlateau(opt, patience=0)
    scheduler.step(Value(2.0) * 0.5)  # a loss
    scheduler.step(np.float32(1.5))  # worse: 0.3 * 0.1
    scheduler.step(np.array(0.5))
    assert scheduler.best == 0.5 and opt.param_groups[0]["lr"] == pytest.approx(0.03)


@pytest.mark.parametrize("metric", ["1.0", None, True, [1.0], np.array([1.0]), 1j])
def test_a_plateau_schedule_refuses_a_metric_that_is_no_number_and_changes_nothing(metric):
    opt = optim.SGD([Value(1.0)], lr=0.3)
    scheduler = optim.ReduceLROnPlateau(opt, patience=0)
    scheduler.step(1.0)
    before = scheduler.state_dict()
    with pytest.raises(TypeError, match="ReduceLROnPlateau.step: expected the epoch's metric"):
        scheduler.step(metric)
    assert scheduler.state_dict() == before


def test_a_param_group_added_later_gets_the_one_min_lr_as_torchs():
    runs = []
    for module in (optim, torch.optim):
        make = (lambda: Value(0.0)) if module is optim else lambda: torch.zeros(1).requires_grad_()
        opt = module.SGD([make()], lr=1.0)
        maker = optim if module is optim else torch.optim.lr_scheduler
        scheduler = maker.ReduceLROnPlateau(opt, patience=0, factor=0.5, min_lr=0.2)
        opt.add_param_group({"params": [make()], "lr": 0.3})
        for metric in [1.0, 1.0, 1.0, 1.0]:
            scheduler.step(metric)
        runs.append(([g["lr"] for g in opt.param_groups], scheduler.min_lrs))
    assert runs[0] == runs[1]  # [0.25, 0.2], both floors 0.2


def test_a_param_group_added_to_per_group_min_lrs_is_refused_changing_nothing():
    # torch raises a RuntimeError at the reduction too; here a ValueError, lrs untouched
    opt = optim.SGD([Value(0.0)], lr=1.0)
    scheduler = optim.ReduceLROnPlateau(opt, patience=0, min_lr=[0.1])
    opt.add_param_group({"params": [Value(0.0)], "lr": 0.3})
    scheduler.step(1.0)
    before = scheduler.state_dict()
    with pytest.raises(ValueError, match="ReduceLROnPlateau.step: 1 min_lrs for 2 param groups"):
        scheduler.step(1.0)
    assert scheduler.state_dict() == before
    assert [g["lr"] for g in opt.param_groups] == [1.0, 0.3]


@pytest.mark.parametrize("min_lrs", [[0.1], [0.1, 0.1, 0.1]])
def test_a_plateau_state_with_a_min_lr_per_group_must_have_one_per_group(min_lrs):
    opt = optim.SGD([{"params": [Value(0.0)]}, {"params": [Value(0.0)]}], lr=1.0)
    scheduler = optim.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])
    before = scheduler.state_dict()
    with pytest.raises(ValueError, match=r"invalid min_lrs .*one .* per param group \(2\)"):
        scheduler.load_state_dict({**before, "min_lrs": min_lrs})
    assert scheduler.state_dict() == before


def test_a_plateau_schedule_saved_as_json_goes_on_as_before():
    made = []
    for _ in range(2):
        opt = optim.SGD([Value(0.0)], lr=1.0)
        made.append((opt, optim.ReduceLROnPlateau(opt, patience=1, cooldown=1, factor=0.5)))
    (opt, scheduler), (twin_opt, twin) = made
    metrics = [1.0, 1.0, 1.0, 0.5, 0.6, 0.6, 0.6, 0.6, 0.4, 0.4, 0.4, 0.4]
    for metric in metrics[:5]:
        scheduler.step(metric)
    twin.load_state_dict(json.loads(json.dumps(scheduler.state_dict())))
    twin_opt.load_state_dict(json.loads(json.dumps(opt.state_dict())))
    for metric in metrics[5:]:
        scheduler.step(metric)
        twin.step(metric)
        assert twin.get_last_lr() == scheduler.get_last_lr()
    assert twin.state_dict() == scheduler.state_dict()
    theirs = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    their_scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        theirs, patience=1, cooldown=1, factor=0.5
    )
    for metric in metrics:
        their_scheduler.step(metric)
    assert twin.get_last_lr() == their_scheduler.get_last_lr() == [0.125]


RECURSIVE = {  # torch's recursive schedules: a group added later goes on from its own lr
    "StepLR": lambda m, opt: m.StepLR(opt, 2, 0.5),
    "ExponentialLR": lambda m, opt: m.ExponentialLR(opt, 0.9),
    "LinearLR": lambda m, opt: m.LinearLR(opt, 0.5, 1.0, 6),
    "MultiStepLR": lambda m, opt: m.MultiStepLR(opt, [2, 3, 3]),
    "CosineAnnealingLR": lambda m, opt: m.CosineAnnealingLR(opt, 10, 0.01),  # no low point
}


@pytest.mark.parametrize("kind", RECURSIVE)
def test_a_group_added_after_the_schedule_is_scheduled_as_torchs(kind):
    # it kept its lr for good: base_lrs, one per group the schedule was made with, ended
    # the zip over the groups
    runs = []
    for module in (optim, torch.optim):
        make = (lambda: Value(0.0)) if module is optim else lambda: torch.zeros(1).requires_grad_()
        opt = module.SGD([make()], lr=0.3)
        maker = optim if module is optim else torch.optim.lr_scheduler
        scheduler = RECURSIVE[kind](maker, opt)
        scheduler.step()
        opt.add_param_group({"params": [make()], "lr": 0.2})
        lrs = []
        for _ in range(8):
            scheduler.step()
            lrs.append([group["lr"] for group in opt.param_groups])
        runs.append(lrs)
    assert runs[0] == runs[1]
    assert len({lrs[1] for lrs in runs[0]}) > 1  # the added group's lr moves


@pytest.mark.parametrize(
    "make, epochs",
    [
        (lambda m, opt: m.LambdaLR(opt, lambda epoch: 0.5**epoch), 1),
        (lambda m, opt: m.CosineAnnealingLR(opt, 2), 3),  # rising back: to which base lr?
        (lambda m, opt: m.CosineAnnealingWarmRestarts(opt, 2), 1),  # a closed form
    ],
)
def test_a_group_added_that_a_schedule_cannot_place_is_refused_as_torch_does(make, epochs):
    ours = optim.SGD([Value(0.0)], lr=0.3)
    scheduler = make(optim, ours)
    ours.add_param_group({"params": [Value(0.0)], "lr": 0.2})
    for _ in range(epochs - 1):
        scheduler.step()
    before = [group["lr"] for group in ours.param_groups]
    with pytest.raises(ValueError, match=r"\.step: .*make the schedule after adding every group"):
        scheduler.step()
    assert [group["lr"] for group in ours.param_groups] == before
    assert scheduler.last_epoch == epochs - 1
    theirs = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    their_scheduler = make(torch.optim.lr_scheduler, theirs)
    theirs.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.2})
    with pytest.raises(ValueError, match="zip"):
        for _ in range(epochs):
            their_scheduler.step()


def test_a_schedule_refuses_to_set_a_negative_lr_changing_nothing():
    # an lr set by hand below eta_min: torch's arithmetic gives -0.87, then -1.83, and its
    # SGD climbs the loss; the optimizer here could not even load its own state after
    opt = optim.SGD([Value(1.0)], lr=1.0)
    scheduler = optim.CosineAnnealingLR(opt, 4, eta_min=0.5)
    for _ in range(5):
        scheduler.step()
    opt.param_groups[0]["lr"] = 0.1
    with pytest.raises(ValueError, match="CosineAnnealingLR.step: param group 0's lr would be -0"):
        scheduler.step()
    assert opt.param_groups[0]["lr"] == 0.1 and scheduler.last_epoch == 5
    theirs = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    their_scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(theirs, 4, eta_min=0.5)
    for _ in range(5):
        their_scheduler.step()
    theirs.param_groups[0]["lr"] = 0.1
    their_scheduler.step()
    assert theirs.param_groups[0]["lr"] < 0  # what is refused


def test_numpy_settings_become_pythons_numbers():
    # gamma=np.float32(0.5) made every later lr a float32, and SGD's steps round in it;
    # milestones from numpy made state_dict() something json.dump refuses
    params = [Value(1.0)]
    opt = optim.SGD(params, lr=0.3)
    scheduler = optim.MultiStepLR(opt, np.array([1, 2]), gamma=np.float32(0.5))
    plateau = optim.ReduceLROnPlateau(opt, factor=np.float64(0.5), patience=np.int64(0))
    scheduler.step()
    plateau.step(1.0)
    assert type(opt.param_groups[0]["lr"]) is float
    assert json.loads(json.dumps(scheduler.state_dict()))["milestones"] == [1, 2]
    assert json.loads(json.dumps(plateau.state_dict()))["factor"] == 0.5
    params[0].grad = 1.0
    opt.step()
    assert params[0].data == 1.0 - 0.3 * 0.5  # in float64: 0.85 exactly as Python computes


def test_milestones_given_as_counts_count_as_torchs():
    lrs = []
    for module, make in ((optim, lambda: Value(0.0)), (torch.optim.lr_scheduler, None)):
        param = make() if make else torch.zeros(1, requires_grad=True)
        opt = (optim if make else torch.optim).SGD([param], lr=0.3)
        scheduler = module.MultiStepLR(opt, {2: 2, 3: 1}, gamma=0.5)  # epoch 2 twice
        for _ in range(4):
            scheduler.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[0] == lrs[1] == 0.3 * 0.5**3


@pytest.mark.parametrize("milestones", [{2: 2.5}, {2: -1}, {2: True}])
def test_milestone_counts_that_are_no_counts_are_refused(milestones):
    opt = optim.SGD([Value(1.0)], lr=0.3)
    with pytest.raises(TypeError, match="MultiStepLR: invalid milestones"):
        optim.MultiStepLR(opt, milestones)
    assert "initial_lr" not in opt.param_groups[0]


def test_a_helper_named_factor_beside_next_lr_is_no_old_hook():
    class Halving(optim.LRScheduler):
        reads_model = False

        def factor(self):
            return 0.5

        def next_lr(self, lr, base_lr, epoch):
            return lr * self.factor() if epoch else lr

    opt = optim.SGD([Value(1.0)], lr=0.4)
    scheduler = Halving(opt)
    scheduler.step()
    assert opt.param_groups[0]["lr"] == 0.2


def test_a_schedule_of_ones_own_with_the_old_factor_hook_is_told_the_new_one():
    with pytest.raises(TypeError, match=r"defines next_lr\(lr, base_lr, epoch\)"):

        class Halving(optim.LRScheduler):  # noqa: F841  (refused as it is made)
            def factor(self, epoch):
                return 0.5


def test_a_plateau_metric_past_float_range_is_a_value_error():
    scheduler = optim.ReduceLROnPlateau(optim.SGD([Value(1.0)], lr=0.3))
    with pytest.raises(ValueError, match="ReduceLROnPlateau.step: the metric is too large"):
        scheduler.step(10**400)
    assert scheduler.last_epoch == 0


def test_a_lambda_that_fails_in_step_changes_nothing():
    # lr_lambda(2) is nan: step() says so and leaves the schedule and both groups' rates at
    # epoch 1 (0.3 * 0.5 and 0.2 * 0.5), so fixing the function and stepping again works
    opt = optim.SGD([{"params": [Value(1.0)]}, {"params": [Value(2.0)], "lr": 0.2}], lr=0.3)
    factors = {0: 1.0, 1: 0.5, 2: NAN, 3: 0.25}
    scheduler = optim.LambdaLR(opt, lambda epoch: factors[epoch])
    scheduler.step()
    with pytest.raises(ValueError, match=r"LambdaLR: invalid lr_lambda\(2\) nan"):
        scheduler.step()
    assert scheduler.last_epoch == 1
    assert scheduler.get_last_lr() == [0.3 * 0.5, 0.2 * 0.5]
    factors[2] = 0.4
    scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([0.3 * 0.4, 0.2 * 0.4], rel=1e-15)


# -- where a step meets 0 / 0, sqrt of a negative, or a weight of 1: torch's numbers ----------

EDGE_STEPS = [
    # eps = 0 and a zero gradient: 0 / 0 (a ZeroDivisionError, with the first parameter moved)
    ("Adam", {"lr": 0.1, "eps": 0.0}, [[1.0, 0.0], [0.5, 0.0]]),
    ("Adagrad", {"lr": 0.1, "eps": 0.0}, [[1.0, 0.0], [0.5, 0.0]]),
    ("RMSprop", {"lr": 0.1, "eps": 0.0}, [[1.0, 0.0], [0.5, 0.0]]),
    ("RMSprop", {"lr": 0.1, "alpha": 1.5}, [[1.0, 2.0], [0.5, 1.0]]),  # sqrt(< 0): a math error
    # a running mean of weight 1 (beta 0): torch's lerp takes the gradient itself; m + (g - m)
    # gave 0.0 after 1e17 then 1.0
    ("Adam", {"lr": 0.1, "betas": (0.0, 0.999)}, [[1e17, 3.0], [1.0, 1.0]]),
    ("Adam", {"lr": 0.1, "betas": (0.3, 0.999)}, [[1e17, 3.0], [1.0, 1.0], [0.5, -2.0]]),
]


@pytest.mark.parametrize(
    "name, kwargs, grads", EDGE_STEPS, ids=[f"{n}-{k}" for n, k, _ in EDGE_STEPS]
)
def test_edge_steps_give_torchs_numbers_eagerly_and_over_arrays(name, kwargs, grads):
    from micrograd.nn.optim.arrays import ArrayStep

    theirs = torch.tensor([0.5, -1.5], dtype=torch.float64, requires_grad=True)
    theirs_opt = getattr(torch.optim, name)([theirs], **kwargs, foreach=False)
    ours = [Value(0.5), Value(-1.5)]
    ours_opt = getattr(optim, name)(ours, **kwargs)
    arrayed = [Value(0.5), Value(-1.5)]
    arrays = ArrayStep(getattr(optim, name)(arrayed, **kwargs))
    theta = arrays.values()
    for step in grads:
        theirs.grad = torch.tensor(step, dtype=torch.float64)
        theirs_opt.step()
        _run(ours_opt, ours, [step])
        arrays.step(theta, np.array(step))
    expected = theirs.tolist()
    assert all(map(same_number, [p.data for p in ours], expected)), (
        [p.data for p in ours],
        expected,
    )
    assert all(map(same_number, theta.tolist(), expected)), (theta.tolist(), expected)


def same_number(ours: float, theirs: float) -> bool:
    if math.isnan(theirs):
        return math.isnan(ours)
    return math.isclose(ours, theirs, rel_tol=1e-12, abs_tol=1e-300)


@pytest.mark.parametrize(
    "name, kwargs, bad",
    [
        ("Adam", {"lr": 0.01}, 1e200),  # exp_avg_sq inf: refused by load_state_dict
        ("SGD", {"lr": 0.1, "momentum": 0.9}, math.nan),  # momentum_buffer nan: refused
        ("RMSprop", {"lr": 0.01, "centered": True}, math.inf),
    ],
)
def test_a_state_a_step_left_loads_and_training_carries_on_as_torchs(name, kwargs, bad):
    params = [Value(1.0), Value(-2.0)]
    opt = getattr(optim, name)(params, **kwargs)
    _run(opt, params, [[bad, 0.5]])
    saved = json.loads(json.dumps(opt.state_dict()))  # nan and inf as JSON's NaN, Infinity
    theirs = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    theirs_opt = getattr(torch.optim, name)([theirs], **kwargs, foreach=False)
    theirs.grad = torch.tensor([bad, 0.5], dtype=torch.float64)
    theirs_opt.step()
    again = getattr(optim, name)(params, **kwargs)
    again.load_state_dict(saved)
    _run(again, params, [[0.25, -0.75]])
    theirs.grad = torch.tensor([0.25, -0.75], dtype=torch.float64)
    theirs_opt.step()
    assert all(map(same_number, [p.data for p in params], theirs.tolist()))


def test_saved_parameter_ids_map_to_parameters_as_in_torch():
    ours = [Value(1.0), Value(-2.0)]
    theirs = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    ours_opt = optim.SGD(ours, lr=0.1, momentum=0.9)
    theirs_opt = torch.optim.SGD([theirs], lr=0.1, momentum=0.9, foreach=False)
    saved = ours_opt.state_dict()
    # ids 1 and 0, in that order: id 1 is the first parameter (was: state by position)
    saved["param_groups"][0]["params"] = [1, 0]
    saved["state"] = {0: {"momentum_buffer": 5.0}, 1: {"momentum_buffer": -3.0}}
    ours_opt.load_state_dict(saved)
    theirs_state = copy.deepcopy(theirs_opt.state_dict())
    theirs_state["param_groups"][0]["params"] = [7]
    theirs_state["state"] = {7: {"momentum_buffer": torch.tensor([-3.0, 5.0], dtype=torch.float64)}}
    theirs_opt.load_state_dict(theirs_state)
    _run(ours_opt, ours, [[0.5, 0.25]])
    theirs.grad = torch.tensor([0.5, 0.25], dtype=torch.float64)
    theirs_opt.step()
    for p, t in zip(ours, theirs.tolist()):  # torch's kernels may fuse a multiply-add
        assert math.isclose(p.data, t, rel_tol=1e-12)  # (another CPU, another rounding)


@pytest.mark.parametrize("ids", [[7, "x"], [0, 0], [None, 1]])
def test_saved_parameter_ids_that_are_not_ids_are_refused(ids):
    change = lambda state: state["param_groups"][0].update(params=ids + [2])
    _assert_load_is_refused("SGD", {"momentum": 0.9}, change, "group 0 lists parameter")


@pytest.mark.parametrize(
    "name, kwargs, field",
    [("Adam", {}, "exp_avg"), ("Adam", {"amsgrad": True}, "max_exp_avg_sq"),
     ("RMSprop", {"centered": True}, "grad_avg"), ("Adagrad", {}, "sum"),
     ("RMSprop", {"momentum": 0.5}, "momentum_buffer")],
)  # fmt: skip
def test_a_state_that_lacks_a_field_step_keeps_is_refused(name, kwargs, field):
    change = lambda state: state["state"][1].pop(field)  # step() began it afresh, mid-run
    _assert_load_is_refused(name, kwargs, change, f"parameter 1 lacks {field}")


def test_add_param_group_and_a_closure_step_as_torchs():
    ours = [Value(1.0), Value(-2.0)]
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (1.0, -2.0)]
    ours_opt = optim.SGD([ours[0]], lr=0.1, momentum=0.9)
    theirs_opt = torch.optim.SGD([theirs[0]], lr=0.1, momentum=0.9, foreach=False)
    ours_opt.add_param_group({"params": [ours[1]], "lr": 0.01})
    theirs_opt.add_param_group({"params": [theirs[1]], "lr": 0.01})
    for ours_group, theirs_group in zip(ours_opt.param_groups, theirs_opt.param_groups):
        assert {k: ours_group[k] for k in ("lr", "momentum", "dampening", "nesterov")} == {
            k: theirs_group[k] for k in ("lr", "momentum", "dampening", "nesterov")
        }

    def ours_closure():
        ours_opt.zero_grad()
        loss = ours[0] * ours[0] + 3.0 * ours[1]
        loss.backward()
        return loss

    def theirs_closure():
        theirs_opt.zero_grad()
        loss = theirs[0] * theirs[0] + 3.0 * theirs[1]
        loss.backward()
        return loss

    for _ in range(3):  # torch's kernels fuse multiply-adds: equal to rounding
        loss = ours_opt.step(ours_closure).data
        assert math.isclose(loss, theirs_opt.step(theirs_closure).item(), rel_tol=1e-12)
    for p, t in zip(ours, theirs):
        assert math.isclose(p.data, t.item(), rel_tol=1e-12)
    with pytest.raises(ValueError, match="more than one group"):
        ours_opt.add_param_group({"params": [ours[0]]})
    with pytest.raises(TypeError, match="add_param_group: expected a dict with 'params'"):
        ours_opt.add_param_group([ours[0]])
    assert len(ours_opt.param_groups) == 2


def test_zero_grad_refuses_set_to_none_which_a_value_cannot_hold():
    opt = optim.SGD([Value(1.0)], lr=0.1)
    opt.zero_grad(set_to_none=False)
    with pytest.raises(ValueError, match="set_to_none must be False"):
        opt.zero_grad(set_to_none=True)


def test_a_numpy_learning_rate_leaves_the_parameters_float64():
    # the step wrote its float32 result into the slot: the model computed in float32 after
    p = Value(0.5)
    p.grad = 0.25
    optim.SGD([p], lr=np.float32(0.1)).step()
    tp = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    tp.grad = torch.tensor([0.25], dtype=torch.float64)
    torch.optim.SGD([tp], lr=np.float32(0.1)).step()
    # float64 arithmetic, as torch's: float32 would be 1e-8 off; torch's kernel may fuse the
    # multiply-add on some CPUs, a last bit apart
    assert type(p.data) is float and p.data == pytest.approx(tp.item(), rel=1e-14)


def test_loaded_numpy_state_steps_in_float64_and_saves_as_json():
    # a momentum buffer loaded as np.float32 made every later step round in float32, and
    # state_dict() then held numbers json.dump refuses
    p = Value(1.0)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    saved = opt.state_dict()
    saved["state"] = {0: {"momentum_buffer": np.float32(0.1)}}
    saved["param_groups"][0]["lr"] = np.float32(0.1)
    opt.load_state_dict(saved)
    tp = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    theirs = torch.optim.SGD([tp], lr=0.1, momentum=0.9)
    theirs.state[tp]["momentum_buffer"] = torch.tensor(  # as ours was loaded
        [float(np.float32(0.1))], dtype=torch.float64
    )
    theirs.param_groups[0]["lr"] = float(np.float32(0.1))
    for _ in range(3):
        p.grad = 1 / 3
        tp.grad = torch.tensor([1 / 3], dtype=torch.float64)
        opt.step()
        theirs.step()
    # in float32 every step rounded 5e-8 off; torch's kernels may fuse multiply-adds
    assert type(p.data) is float and p.data == pytest.approx(tp.item(), rel=1e-14)
    json.dumps(opt.state_dict())
    adam = optim.Adam([Value(1.0)])
    state = adam.state_dict()
    state["state"] = {0: {"step": np.int64(2), "exp_avg": np.float32(0.5), "exp_avg_sq": 0.25}}
    adam.load_state_dict(state)
    assert json.loads(json.dumps(adam.state_dict()))["state"]["0"]["step"] == 2


@pytest.mark.parametrize(
    "name, settings",
    [("SGD", {"momentum": 0.9}), ("Adam", {}), ("RMSprop", {})],
)
def test_a_step_with_a_grad_that_is_no_number_moves_nothing(name, settings):
    # parameter 0 moved and state was kept for parameter 1 before its None failed: SGD kept
    # a momentum buffer of None and failed every step after; Adam counted a step it never
    # took, and a retry stepped parameter 0 twice
    ps = [Value(1.0), Value(2.0), Value(3.0)]
    for p in ps:
        p.grad = 0.5
    opt = getattr(optim, name)(ps, lr=0.1, **settings)
    ps[1].grad = None
    with pytest.raises(TypeError, match=r"step: parameter 1 of group 0 has grad None, not a"):
        opt.step()
    assert [p.data for p in ps] == [1.0, 2.0, 3.0] and opt.state_dict()["state"] == {}
    ps[1].grad = 0.5
    opt.step()
    twin = [torch.tensor([v], dtype=torch.float64, requires_grad=True) for v in (1.0, 2.0, 3.0)]
    for t in twin:
        t.grad = torch.tensor([0.5], dtype=torch.float64)
    getattr(torch.optim, name)(twin, lr=0.1, **settings).step()
    assert [p.data for p in ps] == pytest.approx([t.item() for t in twin], rel=1e-14)


def test_a_grad_that_is_a_value_steps_by_its_number_and_keeps_no_graph():
    # backward(create_graph=True) leaves Values in .grad: the step kept them (and their
    # graphs) in its state, which json.dump then refused
    x = Value(1.5)
    y = x * x * x
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    opt = optim.SGD([x], lr=0.1, momentum=0.9)
    opt.step()
    tx = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    (tx**3).backward()
    torch_opt = torch.optim.SGD([tx], lr=0.1, momentum=0.9)
    torch_opt.step()
    assert x.data == pytest.approx(tx.item(), rel=1e-15)
    state = json.loads(json.dumps(opt.state_dict()))["state"]["0"]
    assert state["momentum_buffer"] == pytest.approx(torch_opt.state[tx]["momentum_buffer"].item())


def test_an_optimizers_state_with_a_schedulers_initial_lr_loads_as_torchs():
    # the first scheduler keeps each group's first lr in it, as torch's: a state saved then
    # has initial_lr, and loads into an optimizer made afresh, before its scheduler or not
    ps = [Value(1.0)]
    opt = optim.SGD(ps, lr=0.1, momentum=0.9)
    optim.LinearLR(opt, 0.5, 1.0, 4)
    ps[0].grad = 0.25
    opt.step()
    saved = json.loads(json.dumps(opt.state_dict()))
    tp = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    topt = torch.optim.SGD([tp], lr=0.1, momentum=0.9)
    torch.optim.lr_scheduler.LinearLR(topt, 0.5, 1.0, 4)
    assert (
        saved["param_groups"][0]["initial_lr"] == topt.state_dict()["param_groups"][0]["initial_lr"]
    )
    fresh = optim.SGD([Value(1.0)], lr=0.1, momentum=0.9)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["initial_lr"] == 0.1 and fresh.param_groups[0]["lr"] == 0.05
    again = optim.SGD([Value(1.0)], lr=0.1, momentum=0.9)
    optim.StepLR(again, 2)
    del saved["param_groups"][0]["initial_lr"]  # saved before any scheduler: loads too
    again.load_state_dict(saved)
    assert again.param_groups[0]["initial_lr"] == 0.1


# ---------------------------------------------------------------------------------------
# OneCycleLR: the lr and the momentum (Adam's beta1), both to the bit.

ONE_CYCLE_OPTIMIZERS = {  # two param groups each, at different lrs
    "SGD": lambda m, ps: m.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.5}], lr=0.1,
                               momentum=0.9),
    "SGD-nesterov": lambda m, ps: m.SGD([{"params": ps[:1]}, {"params": ps[1:]}], lr=0.1,
                                        momentum=0.9, nesterov=True),
    "Adam": lambda m, ps: m.Adam([{"params": ps[:1]}, {"params": ps[1:]}], betas=(0.8, 0.99)),
    "AdamW": lambda m, ps: m.AdamW([{"params": ps[:1]}, {"params": ps[1:]}]),
    "RMSprop": lambda m, ps: m.RMSprop([{"params": ps[:1]}, {"params": ps[1:]}], momentum=0.5),
    "Adagrad": lambda m, ps: m.Adagrad([{"params": ps[:1]}, {"params": ps[1:]}]),
}  # fmt: skip
ONE_CYCLE_SETTINGS = [
    dict(max_lr=1.0, total_steps=17),
    dict(max_lr=[1.0, 0.3], total_steps=23, anneal_strategy="linear", three_phase=True),
    dict(max_lr=2.0, epochs=3, steps_per_epoch=7, pct_start=0.25, div_factor=10.0,
         final_div_factor=100.0, base_momentum=0.8, max_momentum=[0.9, 0.95]),
    dict(max_lr=1.0, total_steps=9, pct_start=0.0),  # no warm-up
    dict(max_lr=1.0, total_steps=9, pct_start=1.0),  # no fall: torch divides 0 by 0 at step 9
    dict(max_lr=1.0, total_steps=2),  # a warm-up of 0.6 steps: step 0 is in the fall
    dict(max_lr=1.0, total_steps=1),
    dict(max_lr=0.1, total_steps=12, cycle_momentum=False),
]  # fmt: skip


def _cycle(module, optimizer, settings, steps):
    """Each group's (lr, momentum or betas) at steps 0 to steps of a OneCycleLR."""
    params = (
        [Value(0.0), Value(0.0)]
        if module is optim
        else [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
    )
    opt = ONE_CYCLE_OPTIMIZERS[optimizer](module, params)
    schedules = optim if module is optim else torch.optim.lr_scheduler
    schedule = schedules.OneCycleLR(opt, **settings)

    def now():
        return [(g["lr"], g.get("betas", g.get("momentum"))) for g in opt.param_groups]

    seen = [now()]
    for _ in range(steps):
        opt.step()
        schedule.step()
        seen.append(now())
    return seen, opt


# Adagrad has no momentum to cycle (refused below)
ONE_CYCLE_CASES = [
    (settings, optimizer)
    for settings in ONE_CYCLE_SETTINGS
    for optimizer in ONE_CYCLE_OPTIMIZERS
    if optimizer != "Adagrad" or not settings.get("cycle_momentum", True)
]


@pytest.mark.parametrize("settings, optimizer", ONE_CYCLE_CASES, ids=str)
def test_one_cycle_lrs_and_momenta_are_torchs_to_the_bit(settings, optimizer):
    total = settings.get("total_steps") or settings["epochs"] * settings["steps_per_epoch"]
    theirs, their_opt = _cycle(torch.optim, optimizer, settings, total - 1)
    ours, opt = _cycle(optim, optimizer, settings, total)
    assert ours[:total] == theirs  # steps 0 to total - 1: every step of the cycle
    assert len({lr for (lr, _), _ in ours}) > 1 or total == 1
    # step total, one past the cycle's last, holds its end: min_lr, and max_momentum
    for (lr, momentum), group in zip(ours[total], their_opt.param_groups):
        assert lr == group["min_lr"]
        if settings.get("cycle_momentum", True):
            beta1 = momentum[0] if isinstance(momentum, tuple) else momentum
            assert beta1 == group["max_momentum"]
    # the group settings torch keeps, kept in the groups, as torch's
    keys = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")
    for group, their_group in zip(opt.param_groups, their_opt.param_groups):
        assert {k: group[k] for k in keys if k in group} == {
            k: their_group[k] for k in keys if k in their_group
        }


def test_one_cycle_past_the_end_torch_runs_on_where_ours_holds():
    # what the rule above is for: torch's last step climbs back (cos) or goes below 0
    # (linear); and one more step is refused by both, ours changing nothing
    for strategy, wrong in (("cos", lambda lr: lr > 0.04), ("linear", lambda lr: lr < 0)):
        theirs, _ = _cycle(torch.optim, "SGD", dict(max_lr=1.0, total_steps=10,
                                                    anneal_strategy=strategy), 10)  # fmt: skip
        assert wrong(theirs[-1][0][0])
    opt = optim.SGD([Value(0.0)], lr=0.1, momentum=0.9)
    schedule = optim.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="linear")
    for _ in range(10):
        schedule.step()
    before = dict(opt.param_groups[0])
    with pytest.raises(ValueError, match="OneCycleLR.step: the cycle is 10 steps long, and this"):
        schedule.step()
    assert opt.param_groups[0] == before and schedule.last_epoch == 10
    their_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    theirs = torch.optim.lr_scheduler.OneCycleLR(their_opt, max_lr=1.0, total_steps=10)
    for _ in range(10):
        theirs.step()
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        theirs.step()


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "RMSprop"])
def test_steps_under_a_one_cycle_schedule_are_torchs(optimizer):
    # the optimizers read the cycled momentum (beta1) at each step, as torch's: the same
    # parameters after the cycle, and the same state, to rounding
    params = [Value(1.0), Value(-2.0)]
    tensors = [torch.tensor([1.0], dtype=torch.float64, requires_grad=True),
               torch.tensor([-2.0], dtype=torch.float64, requires_grad=True)]  # fmt: skip
    opt = ONE_CYCLE_OPTIMIZERS[optimizer](optim, params)
    their_opt = ONE_CYCLE_OPTIMIZERS[optimizer](torch.optim, tensors)
    schedule = optim.OneCycleLR(opt, max_lr=0.5, total_steps=15)
    theirs = torch.optim.lr_scheduler.OneCycleLR(their_opt, max_lr=0.5, total_steps=15)
    for step in range(15):
        for p, t in zip(params, tensors):
            g = math.sin(step + p.data)  # a gradient that moves with the parameter
            p.grad = g
            t.grad = torch.tensor([math.sin(step + t.item())], dtype=torch.float64)
        opt.step()
        their_opt.step()
        schedule.step()
        theirs.step()
    assert [p.data for p in params] == pytest.approx([t.item() for t in tensors], rel=1e-13)
    assert len({p.data for p in params} | {1.0, -2.0}) == 4  # both moved


@pytest.mark.parametrize(
    "optimizer, settings, error, message",
    [
        ("Adagrad", dict(), ValueError, "cycle_momentum needs an optimizer with a momentum"),
        ("Adam", dict(max_momentum=1.0), ValueError, "Adam's beta1 would be 1; it must be"),
        ("SGD-nesterov", dict(base_momentum=0.0), ValueError, "nesterov needs momentum > 0"),
        ("SGD", dict(total_steps=None), ValueError, "give total_steps, or epochs and steps_"),
        ("SGD", dict(total_steps=None, epochs=3), ValueError, "give total_steps, or epochs"),
        ("SGD", dict(epochs=2, steps_per_epoch=4), ValueError, "total_steps 10 is not epochs 2"),
        ("SGD", dict(total_steps=None, epochs=2, steps_per_epoch=0), ValueError,
         "invalid steps_per_epoch 0"),
        ("SGD", dict(total_steps=None, epochs=2.0, steps_per_epoch=3), TypeError,
         "invalid epochs 2.0"),
        ("SGD", dict(max_lr=[1.0]), ValueError, "1 values of max_lr for 2 param groups"),
        ("SGD", dict(max_lr=-1.0), ValueError, "invalid max_lr of param group 0 -1.0"),
        ("SGD", dict(max_lr=[1.0, "x"]), TypeError, "invalid max_lr of param group 1 'x'"),
        ("SGD", dict(max_momentum=[0.9, NAN]), ValueError, "invalid max_momentum of param gr"),
        ("SGD", dict(div_factor=0.0), ValueError, "invalid div_factor 0.0"),
        ("SGD", dict(final_div_factor=None), TypeError, "invalid final_div_factor None"),
        ("SGD", dict(max_lr=1e300, div_factor=1e-300), ValueError, "invalid initial_lr of param"),
        # a warm-up that starts and ends at step 0: torch divides 0 by 0 there
        ("SGD", dict(pct_start=0.1), ValueError, "pct_start 0.1 of total_steps 10 is a warm-up"),
    ],
)  # fmt: skip
def test_one_cycle_refuses_what_it_cannot_run_changing_no_group(
    optimizer, settings, error, message
):
    opt = ONE_CYCLE_OPTIMIZERS[optimizer](optim, [Value(0.0), Value(0.0)])
    before = copy.deepcopy([{k: v for k, v in g.items() if k != "params"}
                            for g in opt.param_groups])  # fmt: skip
    with pytest.raises(error, match=message):
        optim.OneCycleLR(opt, **{"max_lr": 1.0, "total_steps": 10, **settings})
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == before


def test_torch_fails_on_a_one_step_warm_up_and_a_cycle_momentum_without_momentum():
    # the two refusals above that torch makes too, or fails on
    their_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    with pytest.raises(ZeroDivisionError):
        torch.optim.lr_scheduler.OneCycleLR(their_opt, 1.0, total_steps=10, pct_start=0.1)
    adagrad = torch.optim.Adagrad([torch.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="optimizer must support momentum"):
        torch.optim.lr_scheduler.OneCycleLR(adagrad, 1.0, total_steps=10)


def test_one_cycle_refuses_a_group_added_later_changing_nothing():
    opt = optim.SGD([Value(0.0)], lr=0.1, momentum=0.9)
    schedule = optim.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    opt.add_param_group({"params": [Value(0.0)], "lr": 0.2, "momentum": 0.5})
    before = [dict(group) for group in opt.param_groups]
    with pytest.raises(ValueError, match="make the schedule after adding every group"):
        schedule.step()
    assert opt.param_groups == before and schedule.last_epoch == 0
    their_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    theirs = torch.optim.lr_scheduler.OneCycleLR(their_opt, max_lr=1.0, total_steps=10)
    their_opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.2})
    with pytest.raises(KeyError):  # the cycle's ends, which the new group has not
        theirs.step()


def test_an_optimizers_state_with_a_cycles_settings_loads_with_or_without_the_schedule():
    # the cycle keeps its ends in the groups, as torch's: a state saved mid-cycle loads into
    # an optimizer made afresh, with its OneCycleLR made before the load or not, and the
    # cycle goes on as it would have
    def made(schedule_first):
        opt = optim.Adam([Value(1.0)], lr=0.1)
        schedule = optim.OneCycleLR(opt, max_lr=1.0, total_steps=10) if schedule_first else None
        return opt, schedule

    opt, schedule = made(True)
    for _ in range(4):
        opt.param_groups[0]["params"][0].grad = 0.5
        opt.step()
        schedule.step()
    saved = json.loads(json.dumps((opt.state_dict(), schedule.state_dict())))
    later = []
    for _ in range(3):
        schedule.step()
        later.append((opt.param_groups[0]["lr"], opt.param_groups[0]["betas"]))
    their_opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=0.1)
    torch.optim.lr_scheduler.OneCycleLR(their_opt, max_lr=1.0, total_steps=10)
    their_keys = set(their_opt.state_dict()["param_groups"][0])
    assert set(saved[0]["param_groups"][0]) - {"decoupled_weight_decay"} <= their_keys
    plain, _ = made(False)
    plain.load_state_dict(saved[0])
    assert plain.param_groups[0]["max_lr"] == 1.0  # as torch's load takes them
    for schedule_first in (True, False):  # torch's order of making and loading, or not
        fresh, again = made(schedule_first)
        fresh.load_state_dict(saved[0])
        again = again or optim.OneCycleLR(fresh, max_lr=1.0, total_steps=10)
        again.load_state_dict(saved[1])
        resumed = []
        for _ in range(3):
            again.step()
            resumed.append((fresh.param_groups[0]["lr"], fresh.param_groups[0]["betas"]))
        assert resumed == later


def test_an_optimizer_refuses_a_parameter_an_op_made_as_torchs():
    # a step moved the product's .data, never a or b
    a, b = Value(1.0), Value(2.0)
    with pytest.raises(ValueError, match="SGD: parameter 1 was made by op 'mul'; an optimizer"):
        optim.SGD([a, a * b], lr=0.1)
    with pytest.raises(ValueError, match="Adam.add_param_group: group 1: parameter 0 was made"):
        optim.Adam([a]).add_param_group({"params": [b.tanh()]})
    t = torch.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        torch.optim.SGD([t * 2], lr=0.1)


def test_settings_of_huge_integers_step_as_floats_as_torchs():
    # lr_decay=10**308 (an int) made (step - 1) * lr_decay int arithmetic, whose division
    # overflowed on step 3, after the count had moved and before the sum had
    p = Value(1.0)
    opt = optim.Adagrad([p], lr=0.1, lr_decay=10**308)
    t = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    theirs = torch.optim.Adagrad([t], lr=0.1, lr_decay=10**308)
    for _ in range(3):
        p.grad, t.grad = 0.5, torch.tensor([0.5], dtype=torch.float64)
        opt.step()
        theirs.step()
    assert p.data == t.item()
    assert opt.state[p]["sum"] == theirs.state[t]["sum"].item() == 0.75
    assert opt.param_groups[0]["lr_decay"] == 1e308
    q = Value(1.0)
    adamw = optim.AdamW([q], lr=10**200, weight_decay=10**200)  # lr * decay past float range
    q.grad = 0.5
    adamw.step()  # IEEE arithmetic: -inf, not an OverflowError
    assert q.data == -math.inf


def test_a_refused_load_leaves_the_callers_state_dict_as_it_was():
    opt = optim.SGD([Value(1.0)], lr=0.1)
    saved = copy.deepcopy(opt.state_dict())
    saved["param_groups"][0].update(lr=np.float32(0.5), momentum="bad")
    with pytest.raises(ValueError, match="invalid momentum 'bad'"):
        opt.load_state_dict(saved)
    assert type(saved["param_groups"][0]["lr"]) is np.float32


def test_a_state_keyed_by_numpy_integers_loads():
    p = Value(1.0)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = 0.5
    opt.step()
    saved = opt.state_dict()
    saved["state"] = {np.int64(k): v for k, v in saved["state"].items()}
    fresh = optim.SGD([Value(1.0)], lr=0.1, momentum=0.9)
    fresh.load_state_dict(saved)  # "state for parameter np.int64(0), which does not exist"
    assert list(fresh.state.values()) == [{"momentum_buffer": 0.5}]


def test_adagrad_refuses_a_groups_own_initial_accumulator_value_which_torch_ignores():
    # torch starts every group's sum from the constructor's value: ours took the group's,
    # and stepped other numbers than torch's
    t0, t1 = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    own = {"params": [t1], "initial_accumulator_value": 0.5}
    theirs = torch.optim.Adagrad([{"params": [t0]}, own])
    assert theirs.state[t1]["sum"].item() == 0.0  # the group's 0.5 is not used
    with pytest.raises(ValueError, match="Adagrad: group 1: initial_accumulator_value 0.5 diff"):
        optim.Adagrad([{"params": [Value(0.0)]},
                       {"params": [Value(0.0)], "initial_accumulator_value": 0.5}])  # fmt: skip
    opt = optim.Adagrad([Value(0.0)], initial_accumulator_value=0.5)
    opt.add_param_group({"params": [Value(0.0)], "initial_accumulator_value": 0.5})  # the same
    with pytest.raises(ValueError, match="add_param_group: group 2: initial_accumulator_value"):
        opt.add_param_group({"params": [Value(0.0)], "initial_accumulator_value": 0.0})


@pytest.mark.parametrize(
    "make, change, message",
    [
        # a step then failed: KeyError 'max_momentum', ZeroDivisionError; or nothing said
        (lambda opt: optim.OneCycleLR(opt, 1.0, total_steps=10, cycle_momentum=False),
         dict(cycle_momentum=True), "cycle_momentum needs each param group's max_momentum"),
        (lambda opt: optim.OneCycleLR(opt, 1.0, total_steps=10), dict(pct_start=0.1),
         "pct_start 0.1 of total_steps 10 is a warm-up of one step"),
        (lambda opt: optim.OneCycleLR(opt, 1.0, total_steps=10), dict(last_epoch=50),
         "last_epoch 50 is past total_steps 10"),
    ],
)  # fmt: skip
def test_a_one_cycle_state_a_step_could_not_run_from_is_refused_changing_nothing(
    make, change, message
):
    opt = optim.SGD([Value(1.0)], lr=0.1, momentum=0.9)
    schedule = make(opt)
    schedule.step()
    before, groups = schedule.state_dict(), opt.state_dict()["param_groups"]
    with pytest.raises(ValueError, match=f"OneCycleLR.load_state_dict: {message}"):
        schedule.load_state_dict({**before, **change})
    assert schedule.state_dict() == before and opt.state_dict()["param_groups"] == groups
    schedule.step()  # and it goes on
    assert schedule.last_epoch == 2


def test_a_sequence_refuses_what_torch_refuses_and_what_it_could_not_restart():
    """torch refuses no schedules, a ReduceLROnPlateau, another optimizer's schedule and a
    count of milestones other than one less; ours too, and schedules whose restart at a
    milestone torch gives by no closed form (a OneCycleLR, warm restarts, a sequence), and
    milestones out of order, which torch's bisection reads wrongly."""
    params = [Value(0.0)]
    opt, other = optim.SGD(params, lr=0.3), optim.SGD([Value(1.0)], lr=0.3)
    step = optim.StepLR(opt, 3)
    refused = [
        ([], [], ValueError, "schedulers is empty"),
        ([step, optim.ReduceLROnPlateau(opt)], [2], TypeError, r"schedulers\[1\] is a ReduceLR"),
        ([step, optim.OneCycleLR(opt, 1.0, total_steps=9)], [2], TypeError, "OneCycleLR"),
        ([step, optim.CosineAnnealingWarmRestarts(opt, 2)], [2], TypeError, "WarmRestarts"),
        ([step, optim.StepLR(other, 3)], [2], ValueError, "another optimizer's rates"),
        ([step, optim.ExponentialLR(opt, 0.9)], [], ValueError, "milestones"),
        ([step, optim.ExponentialLR(opt, 0.9)], [2, 3], ValueError, "milestones"),
        (
            [step, optim.ExponentialLR(opt, 0.9), optim.StepLR(opt, 2)],
            [5, 2],
            ValueError,
            "increasing order",
        ),
        ([step, optim.ExponentialLR(opt, 0.9)], [1.5], TypeError, "milestones"),
    ]
    for schedulers, milestones, error, message in refused:
        with pytest.raises(error, match=message):
            optim.SequentialLR(opt, schedulers, milestones)
    inner = optim.SequentialLR(opt, [step], [])
    with pytest.raises(TypeError, match="SequentialLR; a sequence takes"):
        optim.SequentialLR(opt, [inner], [])
    with pytest.raises(TypeError, match="schedulers must be a list"):
        optim.SequentialLR(opt, step, [])
    # torch goes on from where such a schedule is, and gives other rates than a new one's
    stepped = optim.ExponentialLR(opt, 0.9)
    stepped.step()
    fresh = optim.StepLR(opt, 2)
    for schedulers in ([stepped, optim.StepLR(opt, 2)], [fresh, optim.StepLR(opt, 2), fresh]):
        with pytest.raises(ValueError, match="stepped, is in another sequence or is listed twice"):
            optim.SequentialLR(opt, schedulers, [3] * (len(schedulers) - 1))
    made = [optim.StepLR(opt, 2), optim.ExponentialLR(opt, 0.9)]
    optim.SequentialLR(opt, made, [3])
    with pytest.raises(ValueError, match="listed twice"):  # a notebook cell run again
        optim.SequentialLR(opt, made, [3])
    early = optim.StepLR(opt, 2)
    opt.add_param_group({"params": [Value(2.0)], "lr": 0.1})
    with pytest.raises(ValueError, match="made for 1 param groups, the optimizer has 2"):
        optim.SequentialLR(opt, [early], [])


def test_a_sequence_refuses_a_bad_state_and_changes_nothing():
    opt = optim.SGD([Value(0.0)], lr=0.3)
    sequence = SCHEDULES["sequential"](optim, opt)
    for _ in range(7):
        opt.step()
        sequence.step()
    before, lrs = copy.deepcopy(sequence.state_dict()), sequence.get_last_lr()
    inner_lrs = [scheduler.get_last_lr() for scheduler in sequence.schedulers]
    bad_cosine = copy.deepcopy(before)
    bad_cosine["schedulers"][1]["T_max"] = 0
    for bad in ({"last_epoch": 3}, dict(before, last_epoch=-1), dict(before, milestones=[9, 2]),
                dict(before, schedulers=before["schedulers"][:1]), bad_cosine):  # fmt: skip
        with pytest.raises(ValueError, match="load_state_dict"):
            sequence.load_state_dict(bad)
        assert sequence.state_dict() == before and sequence.get_last_lr() == lrs
        assert opt.param_groups[0]["lr"] == lrs[0]
        assert [scheduler.get_last_lr() for scheduler in sequence.schedulers] == inner_lrs
    with pytest.raises(ValueError, match=r"SequentialLR.load_state_dict: schedulers\[1\]: .*T_max"):
        sequence.load_state_dict(bad_cosine)


def test_a_refused_step_leaves_the_sequence_where_it_was_and_its_state_plain_data():
    """A lambda giving a negative rate at its epoch 2 is refused; the sequence's epoch moved
    all the same, and every later milestone came a step early. numpy milestones stayed numpy
    integers in state_dict(), which json could not write."""
    opt = optim.SGD([Value(0.0)], lr=0.3)
    rates = {0: 1.0, 1: 0.5, 2: -1.0}
    lambdas = optim.LambdaLR(opt, lambda epoch: rates.get(epoch, 0.25))
    sequence = optim.SequentialLR(opt, [optim.StepLR(opt, 5), lambdas], [np.int64(2)])
    sequence.step()
    sequence.step()  # the milestone: the lambdas start
    sequence.step()
    with pytest.raises(ValueError, match=r"lr_lambda\(2\) -1\.0"):
        sequence.step()
    assert sequence.last_epoch == 3 and lambdas.last_epoch == 1
    assert json.loads(json.dumps(sequence.state_dict()))["milestones"] == [2]


@pytest.mark.parametrize("compile", [False, True])
def test_fit_runs_a_warm_up_then_a_decay_as_torchs_loop(compile):
    """A sequence in fit, compiled or not, sets each epoch's rate as torch's does in torch's
    own loop (it reads no model: compiled fit steps it without writing the Values back)."""
    import random

    from micrograd import nn

    X, y = nn.data.make_moons(30, noise=0.1, seed=3)
    model = nn.MLP(2, [4, 1], rng=random.Random(0))
    opt = optim.SGD(model.parameters(), lr=0.3)
    sequence = SCHEDULES["sequential"](optim, opt)
    assert sequence.reads_model is False
    nn.fit(model, X, y * 2 - 1, optimizer=opt, scheduler=sequence, epochs=12, compile=compile,
           progress=False)  # fmt: skip
    assert sequence.get_last_lr() == torch_lrs(SCHEDULES["sequential"], 12)[-1:]
    assert opt.param_groups[0]["lr"] == torch_lrs(SCHEDULES["sequential"], 12)[-1]


TWO_GROUP_SCHEDULES = {
    **{kind: SCHEDULES[kind] for kind in ("sequential", "sequential-3", "constant")},
    # a lambda per group, restarted at its milestone (it raised: 'list' is not callable)
    "sequential-lambdas": lambda m, opt: m.SequentialLR(
        opt,
        [m.ConstantLR(opt, 0.5, 2), m.LambdaLR(opt, [lambda e: 0.9**e, lambda e: 0.5**e])],
        milestones=[2],
    ),
}


@pytest.mark.parametrize("kind", TWO_GROUP_SCHEDULES)
def test_a_sequence_sets_each_groups_rate_as_torchs(kind):
    """Two param groups of different rates, 40 steps: every group's lr is torch's to the bit,
    each schedule restarting from each group's own initial lr."""
    ours = optim.SGD([{"params": [Value(1.0)], "lr": 0.1}, {"params": [Value(2.0)], "lr": 0.03}])
    tensors = [torch.zeros(1, requires_grad=True) for _ in range(2)]
    theirs = torch.optim.SGD(
        [{"params": [tensors[0]], "lr": 0.1}, {"params": [tensors[1]], "lr": 0.03}]
    )
    ours_schedule = TWO_GROUP_SCHEDULES[kind](optim, ours)
    theirs_schedule = TWO_GROUP_SCHEDULES[kind](torch.optim.lr_scheduler, theirs)
    for _ in range(40):
        assert [g["lr"] for g in ours.param_groups] == [g["lr"] for g in theirs.param_groups]
        ours.step()
        theirs.step()
        ours_schedule.step()
        theirs_schedule.step()
    assert ours_schedule.get_last_lr() == theirs_schedule.get_last_lr()
