"""nn.optim against torch.optim: 20 steps side by side from the same parameters and gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import micrograd
from micrograd import Value
from nn import optim

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
    assert ours == pytest.approx(torch_lrs(SCHEDULES[kind], 25), rel=1e-12)


def test_linear_schedule_is_karpathys_demo_schedule_to_the_bit():
    opt = optim.SGD([Value(0.0)], lr=1.0)
    scheduler = optim.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=100)
    for k in range(100):
        assert opt.param_groups[0]["lr"] == 1.0 - 0.9 * k / 100
        scheduler.step()


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
        (lambda s: s["state"][0].update(exp_avg="x"), "'exp_avg' of parameter 0"),
        (lambda s: s.pop("state"), "'state' and 'param_groups'"),
        (lambda s: s.update(state=[]), "'state' must be a dict"),
        (lambda s: s["state"].update({"first": {}}), "parameter 'first'"),
        (lambda s: s["param_groups"][0].update(params=3), "holds no list of parameters"),
        (lambda s: s["param_groups"][0].update(lr="0.1"), "has lr = '0.1'"),
        (lambda s: s["param_groups"][0].update(amsgrad=1), "has amsgrad = 1"),
        (lambda s: s["param_groups"][0].update(betas=[0.9]), r"has betas = \[0.9\]"),
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
