"""fit and accuracy: the demo to 1e-12, steps replayed by PyTorch, models that learn."""

from __future__ import annotations

import json
import math
import random
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F_torch
from micrograd.nn import optim
from sklearn.metrics import accuracy_score

import micrograd
from micrograd import Value, nn

REFERENCE = json.loads((Path(__file__).parent / "data" / "karpathy_reference.json").read_text())


def test_fit_reproduces_karpathy_demo():
    """demo.ipynb with nn's pieces: hinge loss, 1e-4 L2, SGD(lr=1.0), linear decay to 0.1."""
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1])
    X, y = nn.data.make_moons(100, noise=0.1, seed=1337)
    opt = optim.SGD(model.parameters(), lr=1.0)
    schedule = optim.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=100)
    steps = REFERENCE["steps"]
    history = nn.fit(
        model, X, y * 2 - 1, loss="hinge", optimizer=opt, scheduler=schedule,
        epochs=len(steps), l2=1e-4, shuffle=False, progress=False,
    )  # fmt: skip
    assert history["loss"] == pytest.approx([s["loss"] for s in steps], rel=1e-12)
    assert history["accuracy"] == [s["accuracy"] for s in steps]
    assert [p.data for p in model.parameters()] == pytest.approx(
        REFERENCE["final_parameters"], rel=1e-12, abs=1e-15
    )


@pytest.mark.parametrize("batch_size", [None, 2, 1])
def test_fit_steps_are_torchs_sgd_steps(batch_size):
    """Full-batch, mini-batch and per-sample SGD on MSE, replayed by PyTorch."""
    model = nn.MLP(3, [4, 1], activation="tanh", rng=random.Random(0))
    twin = nn.to_torch(model)
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(5, 3)), rng.normal(size=5)
    history = nn.fit(model, X, y, loss="mse", optimizer=optim.SGD(model.parameters(), lr=0.1),
                     epochs=2, batch_size=batch_size, shuffle=False, progress=False)  # fmt: skip
    torch_opt = torch.optim.SGD(twin.parameters(), lr=0.1)
    size = batch_size or len(X)
    for epoch in range(2):
        weighted = 0.0
        for start in range(0, len(X), size):
            xb, yb = torch.tensor(X[start : start + size]), torch.tensor(y[start : start + size])
            torch_opt.zero_grad()
            loss = torch.nn.functional.mse_loss(twin(xb).squeeze(1), yb)
            loss.backward()
            torch_opt.step()
            weighted += loss.item() * len(xb)
        assert history["loss"][epoch] == pytest.approx(weighted / len(X), rel=1e-12)
    theirs = nn.from_torch(twin).state_dict()
    for name, value in model.state_dict().items():
        assert value == pytest.approx(theirs[name], rel=1e-12, abs=1e-14), name


def _torch_epochs(model, X, y, optimizer, epochs: int, size: int, l2: float) -> list[float]:
    """PyTorch's epochs of cross-entropy + l2 * sum(p * p) over model.parameters(), batches in
    order: each epoch's mean loss."""
    history = []
    for _ in range(epochs):
        weighted = 0.0
        for start in range(0, len(X), size):
            xb, yb = torch.tensor(X[start : start + size]), torch.tensor(y[start : start + size])
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            loss = loss + l2 * sum((p * p).sum() for p in model.parameters())
            loss.backward()
            optimizer.step()
            weighted += loss.item() * len(xb)
        history.append(weighted / len(X))
    return history


def _assert_dense_is_torchs(layer: nn.Layer, linear: torch.nn.Linear) -> None:
    """Every weight's and bias's data and grad, against the torch layer's."""
    for k, neuron in enumerate(layer.neurons):
        for ours, data, grad in (
            (neuron.w, linear.weight[k], linear.weight.grad[k]),
            ([neuron.b], linear.bias[k : k + 1], linear.bias.grad[k : k + 1]),
        ):
            assert [p.data for p in ours] == pytest.approx(data.tolist(), rel=1e-12, abs=1e-15)
            assert [p.grad for p in ours] == pytest.approx(grad.tolist(), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("compile", [False, True])
def test_a_frozen_layer_is_penalized_and_gathers_its_gradients_as_in_torch(compile):
    """l2 covers every parameter of the model, those the optimizer leaves alone too, and their
    gradients build up from step to step (the optimizer's zero_grad never clears them), as
    in PyTorch. Compiled training penalized only the optimizer's parameters (its loss was 7%
    off) and left the others' grads where they were."""
    X, y = nn.data.make_spirals(40, n_classes=3, seed=4)
    model = nn.MLP(2, [6, 3], rng=random.Random(2))
    for p in model.parameters():
        p.grad = 0.5  # a gradient from before: added to, as torch's .grad is
    twin = nn.to_torch(model)
    first, last = twin[0], twin[-1]
    for p in first.parameters():
        p.grad = torch.full_like(p, 0.5)
    history = nn.fit(model, X, y, loss="cross_entropy", epochs=2, batch_size=16, l2=1e-2,
                     optimizer=optim.SGD(model.layers[1].parameters(), lr=0.1), shuffle=False,
                     progress=False, compile=compile)  # fmt: skip
    expected = _torch_epochs(twin, X, y, torch.optim.SGD(last.parameters(), lr=0.1), 2, 16, 1e-2)
    assert history["loss"] == pytest.approx(expected, rel=1e-12)
    _assert_dense_is_torchs(model.layers[0], first)
    _assert_dense_is_torchs(model.layers[1], last)


@pytest.mark.parametrize("compile", [False, True])
def test_a_layer_used_twice_trains_as_one_as_in_torch(compile):
    """Tied weights (one layer applied twice) are one set of parameters: model.parameters()
    gives each once, so an optimizer steps each once a step and l2 counts each once, as in
    PyTorch. They were listed twice: eager training stepped them twice a step, compiled
    training once."""
    layer = nn.Layer(2, 2, activation="tanh", rng=random.Random(0))
    model = nn.Sequential(layer, layer, nn.Layer(2, 3, activation="linear", rng=random.Random(1)))
    assert model.parameters() == layer.parameters() + model.layers[2].parameters()
    assert model.num_parameters() == 6 + 9
    twin = nn.to_torch(model)
    tied, head = twin[0], twin[-1]
    twin = torch.nn.Sequential(tied, torch.nn.Tanh(), tied, torch.nn.Tanh(), head)
    assert len(list(twin.parameters())) == 4  # torch, too, gives a tied weight once
    X, y = nn.data.make_spirals(30, n_classes=3, seed=4)
    history = nn.fit(model, X, y, loss="cross_entropy", epochs=2, batch_size=16, l2=1e-2,
                     optimizer=optim.Adam(model.parameters(), lr=0.05), shuffle=False,
                     progress=False, compile=compile)  # fmt: skip
    expected = _torch_epochs(twin, X, y, torch.optim.Adam(twin.parameters(), lr=0.05), 2, 16, 1e-2)
    assert history["loss"] == pytest.approx(expected, rel=1e-12)
    _assert_dense_is_torchs(layer, tied)
    _assert_dense_is_torchs(model.layers[2], head)


@pytest.mark.parametrize("compile", [False, True])
def test_an_empty_param_group_trains_as_in_torch(compile):
    """torch.optim takes a group of no parameters, and so do ours; compiled training failed
    on one with an IndexError."""
    X, y = nn.data.make_spirals(30, n_classes=3, seed=4)
    model = nn.MLP(2, [4, 3], rng=random.Random(2))
    twin = nn.to_torch(model)
    optimizer = optim.Adam([{"params": []}, {"params": model.parameters()}], lr=0.05)
    history = nn.fit(model, X, y, loss="cross_entropy", epochs=2, optimizer=optimizer,
                     shuffle=False, progress=False, compile=compile)  # fmt: skip
    theirs = torch.optim.Adam([{"params": []}, {"params": twin.parameters()}], lr=0.05)
    assert history["loss"] == pytest.approx(
        _torch_epochs(twin, X, y, theirs, 2, 30, 0.0), rel=1e-12
    )
    _assert_dense_is_torchs(model.layers[0], twin[0])
    _assert_dense_is_torchs(model.layers[1], twin[-1])


@pytest.mark.parametrize("compile", [False, True])
def test_a_scheduler_of_ones_own_reads_and_changes_parameters_as_in_torch(compile):
    """fit calls any scheduler's step() after each epoch; one of one's own may read and
    change the parameters (here it clips them). Compiled training kept them in arrays: it
    read the numbers from before fit, and its changes were lost."""
    X, y = nn.data.make_spirals(40, n_classes=3, seed=4)
    model = nn.MLP(2, [6, 3], rng=random.Random(2))
    twin = nn.to_torch(model)

    class Clip:
        seen: list[float] = []

        def step(self):
            self.seen.append(sum(abs(p.data) for p in model.parameters()))
            for p in model.parameters():
                p.data = min(max(p.data, -0.3), 0.3)

    history = nn.fit(model, X, y, loss="cross_entropy", epochs=3, batch_size=16, scheduler=Clip(),
                     optimizer=optim.Adam(model.parameters(), lr=0.05), shuffle=False,
                     progress=False, compile=compile)  # fmt: skip
    theirs = torch.optim.Adam(twin.parameters(), lr=0.05)
    expected, seen = [], []
    for _ in range(3):
        expected += _torch_epochs(twin, X, y, theirs, 1, 16, 0.0)
        with torch.no_grad():
            seen.append(sum(p.abs().sum().item() for p in twin.parameters()))
            for p in twin.parameters():
                p.clamp_(-0.3, 0.3)
    assert max(abs(p.data) for p in model.parameters()) == 0.3  # it clipped some
    assert history["loss"] == pytest.approx(expected, rel=1e-12)
    assert Clip.seen == pytest.approx(seen, rel=1e-12)
    _assert_dense_is_torchs(model.layers[0], twin[0])
    _assert_dense_is_torchs(model.layers[1], twin[-1])


@pytest.mark.parametrize("compile", [False, True])
def test_a_lambda_lr_reading_the_model_sees_each_epochs_numbers_as_in_torch(compile):
    # compiled, a LambdaLR ran without the write-back other schedulers get: its function
    # read the weights from before fit every epoch
    X, y = nn.data.make_spirals(40, n_classes=3, seed=4)
    model = nn.MLP(2, [6, 3], rng=random.Random(2))
    twin = nn.to_torch(model)
    first, seen, theirs_seen = model.parameters()[0], [], []
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    schedule = optim.LambdaLR(optimizer, lambda epoch: seen.append(first.data) or 1.0)
    nn.fit(model, X, y, loss="cross_entropy", epochs=3, optimizer=optimizer, scheduler=schedule,
           shuffle=False, progress=False, compile=compile)  # fmt: skip
    theirs = torch.optim.Adam(twin.parameters(), lr=0.05)
    weight = twin[0].weight

    def reading(epoch):
        theirs_seen.append(weight[0, 0].item())
        return 1.0

    their_schedule = torch.optim.lr_scheduler.LambdaLR(theirs, reading)
    for _ in range(3):
        _torch_epochs(twin, X, y, theirs, 1, len(X), 0.0)
        their_schedule.step()
    assert len(set(seen)) == 4  # the start, then each epoch's
    assert seen == pytest.approx(theirs_seen, rel=1e-12)


@pytest.mark.parametrize("compile", [False, True])
@pytest.mark.parametrize("validate", [False, True])
def test_fit_steps_a_plateau_schedule_with_the_epochs_loss_as_torchs_loop(compile, validate):
    # the lr a ReduceLROnPlateau leaves after each epoch, given the loss (val_loss with
    # validation data), against torch's scheduler given torch's own losses
    X, y = nn.data.make_spirals(60, n_classes=3, seed=4)
    X_val, y_val = X[40:], y[40:]
    X, y = X[:40], y[:40]
    model = nn.MLP(2, [6, 3], rng=random.Random(2))
    twin = nn.to_torch(model)
    optimizer = optim.SGD(model.parameters(), lr=5.0, momentum=0.9)
    schedule = optim.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
    lrs = []
    for _ in range(14):  # one epoch a call: the schedule's state carries over
        nn.fit(model, X, y, loss="cross_entropy", epochs=1, optimizer=optimizer,
               scheduler=schedule, shuffle=False, progress=False, compile=compile,
               validation_data=(X_val, y_val) if validate else None)  # fmt: skip
        lrs.append(optimizer.param_groups[0]["lr"])
    theirs = torch.optim.SGD(twin.parameters(), lr=5.0, momentum=0.9)
    their_schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, factor=0.5, patience=0)
    their_lrs = []
    for _ in range(14):
        loss = _torch_epochs(twin, X, y, theirs, 1, len(X), 0.0)[-1]
        if validate:
            with torch.no_grad():
                loss = F_torch.cross_entropy(twin(torch.tensor(X_val)), torch.tensor(y_val))
        their_schedule.step(float(loss))
        their_lrs.append(theirs.param_groups[0]["lr"])
    assert lrs == their_lrs
    assert len(set(their_lrs)) >= 2  # it reduced
    ours = model.state_dict()
    for name, value in nn.from_torch(twin).state_dict().items():
        assert ours[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_fit_refuses_a_plateau_schedule_that_would_watch_the_loss_rise():
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    schedule = optim.ReduceLROnPlateau(optimizer, mode="max")
    with pytest.raises(ValueError, match="fit: steps a ReduceLROnPlateau.*mode must be 'min'"):
        nn.fit(model, [[0.0, 1.0]], [1.0], loss="mse", optimizer=optimizer, scheduler=schedule,
               progress=False)  # fmt: skip
    assert schedule.last_epoch == 0


BATCH_SCHEDULES = {  # of module (nn.optim or torch's) and an optimizer
    "one-cycle": lambda m, opt: m.OneCycleLR(opt, max_lr=0.5, epochs=4, steps_per_epoch=4),
    "one-cycle-linear": lambda m, opt: m.OneCycleLR(
        opt, max_lr=[0.5], total_steps=20, anneal_strategy="linear", three_phase=True
    ),
    "lambda": lambda m, opt: m.LambdaLR(opt, lambda step: 0.9**step),  # compiled: written back
}


@pytest.mark.parametrize("compile_", [False, True])
@pytest.mark.parametrize("schedule", BATCH_SCHEDULES)
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_fit_steps_a_schedule_after_each_batch_as_torchs_loop(optimizer, schedule, compile_):
    # a OneCycleLR cycles the lr and the momentum (Adam's beta1) batch by batch, and the
    # compiled steps read both from the groups at each step
    X, y = nn.data.make_spirals(60, n_classes=3, seed=4)
    model = nn.MLP(2, [6, 3], rng=random.Random(2))
    twin = nn.to_torch(model)
    settings = {"SGD": dict(lr=0.1, momentum=0.9), "Adam": dict(lr=0.01)}[optimizer]
    ours = getattr(optim, optimizer)(model.parameters(), **settings)
    scheduler = BATCH_SCHEDULES[schedule](optim, ours)
    nn.fit(model, X, y, loss="cross_entropy", epochs=4, batch_size=16, optimizer=ours,
           scheduler=scheduler, scheduler_interval="batch", shuffle=False, progress=False,
           compile=compile_)  # fmt: skip
    theirs = getattr(torch.optim, optimizer)(twin.parameters(), **settings)
    their_scheduler = BATCH_SCHEDULES[schedule](torch.optim.lr_scheduler, theirs)
    lrs, steps = [], 0
    for _ in range(4):
        for start in range(0, len(X), 16):
            xb, yb = torch.tensor(X[start : start + 16]), torch.tensor(y[start : start + 16])
            theirs.zero_grad()
            torch.nn.functional.cross_entropy(twin(xb), yb).backward()
            theirs.step()
            their_scheduler.step()
            lrs.append(theirs.param_groups[0]["lr"])
            steps += 1
    assert scheduler.last_epoch == steps == 16  # one step a batch
    if schedule == "lambda":  # (a OneCycleLR's last lr is one past its cycle: see optim's)
        assert ours.param_groups[0]["lr"] == lrs[-1]
    assert len(set(lrs)) > 10
    mine = model.state_dict()
    for name, value in nn.from_torch(twin).state_dict().items():
        assert mine[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


@pytest.mark.parametrize(
    "options, error, message",
    [
        (dict(scheduler_interval="step"), ValueError, "scheduler_interval must be 'epoch' or 'b"),
        (dict(scheduler_interval=1), TypeError, "scheduler_interval must be 'epoch' or 'batch'"),
        (dict(scheduler=None, scheduler_interval="batch"), ValueError, "without a scheduler"),
        (dict(scheduler="plateau", scheduler_interval="batch"), ValueError,
         "a ReduceLROnPlateau steps with an epoch's loss"),
        # 3 epochs of 4 batches: 12 steps, where the cycle has 10; or 3, once per epoch, after
        # 8 of its 10
        (dict(scheduler="cycle", scheduler_interval="batch"), ValueError,
         "will step the OneCycleLR 12 times, and its cycle has 10 steps left"),
        (dict(scheduler="cycle", stepped=8), ValueError,
         "will step the OneCycleLR 3 times, and its cycle has 2 steps left"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("compile_", [False, True])
def test_fit_refuses_a_schedule_it_cannot_step_as_asked_before_any_step(
    options, error, message, compile_
):
    X, y = nn.data.make_moons(20, seed=0)
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    options = dict(options)  # the table's, shared by both values of compile_
    kind, stepped = options.pop("scheduler", "cycle"), options.pop("stepped", 0)
    scheduler = {
        "cycle": lambda: optim.OneCycleLR(optimizer, max_lr=0.5, total_steps=10),
        "plateau": lambda: optim.ReduceLROnPlateau(optimizer),
        None: lambda: None,
    }[kind]()
    for _ in range(stepped):
        scheduler.step()
    before = (_numbers(model), [dict(group) for group in optimizer.param_groups])
    with pytest.raises(error, match=message):
        nn.fit(model, X, y * 2 - 1, epochs=3, batch_size=5, optimizer=optimizer,
               scheduler=scheduler, progress=False, compile=compile_, **options)  # fmt: skip
    assert (_numbers(model), [dict(group) for group in optimizer.param_groups]) == before


def test_moons_reach_full_training_accuracy():
    X, y = nn.data.make_moons(100, noise=0.1, seed=1337)
    model = nn.MLP(2, [16, 16, 1], rng=random.Random(1337))
    opt = optim.Adam(model.parameters(), lr=0.02)
    nn.fit(model, X, y * 2 - 1, loss="hinge", optimizer=opt, epochs=25, batch_size=20,
           progress=False)  # fmt: skip
    predictions = [int(model(row).data > 0) for row in X.tolist()]
    assert accuracy_score(y, predictions) == 1.0


def test_spirals_are_learned_with_softmax_cross_entropy():
    X, y = nn.data.make_spirals(90, n_classes=3, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 3], rng=random.Random(0))
    opt = optim.Adam(model.parameters(), lr=0.02)
    nn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=40, batch_size=10,
           progress=False)  # fmt: skip
    probs = [[p.data for p in nn.softmax(model(row))] for row in X.tolist()]
    assert accuracy_score(y, np.argmax(probs, axis=1)) > 0.95


def test_xor_needs_a_hidden_layer():
    """A 2-4-1 network learns XOR; a single neuron cannot (Minsky and Papert, 1969)."""
    X, y = nn.data.make_xor()
    net = nn.MLP(2, [4, 1], activation="tanh", rng=random.Random(0))
    nn.fit(net, X, y, loss="binary_cross_entropy_with_logits",
           optimizer=optim.Adam(net.parameters(), lr=0.1), epochs=150, progress=False)  # fmt: skip
    assert accuracy_score(y, [int(net(row).data > 0) for row in X.tolist()]) == 1.0
    neuron = nn.Neuron(2, nonlin=False, rng=random.Random(0))
    history = nn.fit(neuron, X, y, loss="binary_cross_entropy_with_logits",
                     optimizer=optim.Adam(neuron.parameters(), lr=0.1), epochs=150,
                     progress=False)  # fmt: skip
    # the convex logistic loss on XOR is smallest at w = b = 0: log 2, no lower
    assert min(history["loss"]) >= math.log(2) - 1e-9
    assert accuracy_score(y, [int(neuron(row).data > 0) for row in X.tolist()]) <= 0.75


def test_accuracy_agrees_with_sklearn():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=50).tolist()
    labels = rng.choice([-1, 1], size=50).tolist()
    expected = accuracy_score(labels, [1 if s > 0 else -1 for s in scores])
    assert nn.accuracy(scores, labels) == expected
    assert nn.accuracy(np.array(scores), np.array(labels)) == expected  # numpy's numbers too
    logits = rng.normal(size=(50, 4)).tolist()
    classes = rng.integers(0, 4, size=50).tolist()
    assert nn.accuracy(logits, classes) == accuracy_score(classes, np.argmax(logits, axis=1))
    probs = rng.uniform(size=50).tolist()
    bits = rng.integers(0, 2, size=50).tolist()
    expected = accuracy_score(bits, [int(p > 0.5) for p in probs])
    assert nn.accuracy(probs, bits, threshold=0.5) == expected


@pytest.mark.parametrize(
    "outputs, targets, error, message",
    [
        ([[1.0, 2.0], [3.0, 1.0]], [1.7, 0], ValueError, "class targets must be whole numbers"),
        ([0.5, -0.5], [2, 1], ValueError, "labels of one output must be -1/[+]1 or in"),
        ([[1.0, 2.0], [3.0, 1.0]], ["a", 0], TypeError, "targets must be numbers, got 'a'"),
        ([[1.0, 2.0], [1.0, 2.0, 3.0]], [0, 1], ValueError, "every sample needs as many outputs"),
        (0.5, [1], TypeError, "outputs must be one entry per sample"),
    ],
)
def test_accuracy_refuses_targets_it_would_misread(outputs, targets, error, message):
    # 1.7 counted as class 1, labels 1 and 2 both as positive; the rest were numpy's errors
    with pytest.raises(error, match=f"^accuracy: {message}"):
        nn.accuracy(outputs, targets)


def test_accuracy_reads_bool_and_soft_labels_by_their_side_as_fit_does():
    probs = [0.9, 0.3, 0.6, 0.2]
    assert nn.accuracy(probs, np.array([True, False, False, False]), threshold=0.5) == (
        accuracy_score([1, 0, 0, 0], [1, 0, 1, 0])
    )
    soft = [0.8, 0.2, 0.3, 0.6]  # soft labels: 0.2 counted as positive before, by > 0
    assert nn.accuracy(probs, soft, threshold=0.5) == accuracy_score([1, 0, 0, 1], [1, 0, 1, 0])
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]])
    model = nn.MLP(2, [3, 1], output_activation="sigmoid", rng=random.Random(0))
    still = optim.SGD(model.parameters(), lr=0.0)  # the outputs stay those of the epoch
    history = nn.fit(model, X, np.array(soft), loss="binary_cross_entropy", epochs=1,
                     progress=False, shuffle=False, optimizer=still)  # fmt: skip
    outputs = [model(row.tolist()).data for row in X]
    expected = accuracy_score([t > 0.5 for t in soft], [o > 0.5 for o in outputs])
    assert history["accuracy"] == [expected]


@pytest.mark.parametrize(
    "case", ["plain", "ties", "signed zeros", "nan", "nan and a tie", "classes outside"]
)
def test_accuracy_over_classes_is_the_first_largest_scores(case):
    """accuracy reads whole columns, not argmax's rows of a few scores; where that could
    differ from the first largest (ties, +0.0 against -0.0, nan, labels that are no column)
    it must still count as sklearn does over np.argmax, which picks the first."""
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(300, 10))
    classes = rng.integers(0, 10, size=300)
    if case == "ties":  # a few rows whose largest score appears twice, the label on either
        for row in range(0, 300, 7):
            first, second = sorted(rng.choice(10, size=2, replace=False))
            logits[row, first] = logits[row, second] = logits[row].max() + 1.0
            classes[row] = (first, second)[row % 2]
    elif case == "signed zeros":
        logits[:40] = -1.0
        logits[:40, 3], logits[:40, 5], classes[:40] = -0.0, 0.0, 5
    elif case == "nan":
        logits[5, 2], classes[5] = np.nan, 2
    elif case == "nan and a tie":  # no match in one row, two in another: found by review
        logits[5, 2], classes[5] = np.nan, 0
        logits[6, 3] = logits[6, 7] = logits[6].max() + 1.0
        classes[6] = 7
    elif case == "classes outside":
        classes[0], classes[1] = 10, -1
    expected = accuracy_score(classes, np.argmax(logits, axis=1))
    assert nn.accuracy(logits.tolist(), classes.tolist()) == expected
    assert nn.accuracy(logits, classes) == expected  # arrays as they are
    # as fit calls it: the compiled steps' outputs, a view of a transposed array
    columns = np.ascontiguousarray(np.vstack([np.zeros(300), logits.T])).T[:, 1:]
    assert nn.train._correct(columns, classes.astype(float), 0.0) == round(expected * 300)


def test_history_and_progress_bar(capsys):
    X, y = nn.data.make_xor(8)
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    history = nn.fit(model, X, y, loss="mse", epochs=3, batch_size=3, progress=False)
    assert len(history["loss"]) == len(history["accuracy"]) == 3
    assert capsys.readouterr().err == ""
    nn.fit(model, X, y, loss="mse", epochs=2, progress=True)
    shown = capsys.readouterr().err
    assert "loss=" in shown and "acc=" in shown and "2/2" in shown


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"loss": "nope"}, ValueError, "unknown loss 'nope'"),
        ({"epochs": -1}, ValueError, "epochs must be a non-negative integer"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
    ],
)
def test_fit_bad_arguments(kwargs, error, message):
    X, y = nn.data.make_xor()
    with pytest.raises(error, match=message):
        nn.fit(nn.MLP(2, [2, 1]), X, y, progress=False, **kwargs)


def _xor_model() -> nn.Module:
    return nn.MLP(2, [3, 1], rng=random.Random(0))


X_XOR = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
Y_XOR = [0.0, 1.0, 1.0, 0.0]


def _three_classes() -> nn.Module:
    return nn.MLP(2, [3], rng=random.Random(0))


CE = {"loss": "cross_entropy"}


@pytest.mark.parametrize(
    "model, X, y, kwargs, error, message",
    [
        # was "batches: batch_size must be a positive integer, got None", and with a
        # batch_size a ZeroDivisionError
        (_xor_model, [], [], {}, ValueError, "fit: X and y are empty"),
        (_xor_model, [], [], {"batch_size": 2}, ValueError, "fit: X and y are empty"),
        (_xor_model, [], [], {"epochs": 0}, ValueError, "fit: X and y are empty"),
        (_xor_model, X_XOR, Y_XOR[:3], {}, ValueError, "fit: X has 4 samples but y has 3"),
        (_xor_model, X_XOR, [], {}, ValueError, "fit: X has 4 samples but y has 0"),
        # was "MLP expects 3 inputs, got 2" from inside the first step, not naming fit or X
        (lambda: nn.MLP(3, [2, 1]), X_XOR, Y_XOR, {}, ValueError,
         "fit: X has rows of 2 values but MLP expects 3 inputs"),
        (lambda: nn.Neuron(1), X_XOR, Y_XOR, {}, ValueError,
         "fit: X has rows of 2 values but Neuron expects 1 inputs"),
        (lambda: nn.Sequential(nn.Layer(4, 2), nn.Layer(2, 1)), X_XOR, Y_XOR, {}, ValueError,
         "fit: X has rows of 2 values but Sequential expects 4 inputs"),
        # were numpy's messages, naming neither fit nor X
        (_xor_model, [[0.0, 1.0], [1.0]], [0, 1], {}, ValueError,
         "fit: X must be a rectangular array of numbers"),
        (_xor_model, [["a", "b"]], [0], {}, ValueError,
         "fit: X must be a rectangular array of numbers"),
        # was "float() argument must be a string or a real number, not 'list'"
        (_xor_model, X_XOR, [[0.0, 1.0]] * 4, {}, ValueError,
         "fit: y must be a 1-D array, one target per sample, got shape (4, 2)"),
        (_xor_model, X_XOR, 1.0, {}, ValueError,
         "fit: y must be a 1-D array, one target per sample, got shape ()"),
        (_xor_model, 1.0, Y_XOR, {}, ValueError,
         "fit: X must be a rectangular array of numbers, one row per sample, got 1.0"),
        # was "'int' object is not callable" from inside the first step
        (_xor_model, X_XOR, Y_XOR, {"loss": 3}, TypeError,
         "fit: loss must be a name in LOSSES or a callable, got 3"),
        # were "batches: ..." (naming batches, not fit), and batch_size=0 was accepted when
        # epochs=0
        (_xor_model, X_XOR, Y_XOR, {"batch_size": 0}, ValueError,
         "fit: batch_size must be a positive integer or None, got 0"),
        (_xor_model, X_XOR, Y_XOR, {"batch_size": 0, "epochs": 0}, ValueError,
         "fit: batch_size must be a positive integer or None, got 0"),
        (_xor_model, X_XOR, Y_XOR, {"batch_size": 2.0}, ValueError,
         "fit: batch_size must be a positive integer or None, got 2.0"),
        (_xor_model, X_XOR, Y_XOR, {"batch_size": True}, ValueError,
         "fit: batch_size must be a positive integer or None, got True"),
        (_xor_model, X_XOR, Y_XOR, {"batch_size": -1}, ValueError,
         "fit: batch_size must be a positive integer or None, got -1"),
        # l2: negative or not a number trained on (or failed in the first step)
        (_xor_model, X_XOR, Y_XOR, {"l2": -1e-4}, ValueError,
         "fit: l2 must be a non-negative finite number, got -0.0001"),
        (_xor_model, X_XOR, Y_XOR, {"l2": float("nan")}, ValueError,
         "fit: l2 must be a non-negative finite number, got nan"),
        (_xor_model, X_XOR, Y_XOR, {"l2": float("inf")}, ValueError,
         "fit: l2 must be a non-negative finite number, got inf"),
        (_xor_model, X_XOR, Y_XOR, {"l2": "1e-4"}, ValueError,
         "fit: l2 must be a non-negative finite number, got '1e-4'"),
        (_xor_model, X_XOR, Y_XOR, {"l2": None}, ValueError,
         "fit: l2 must be a non-negative finite number, got None"),
        (_xor_model, X_XOR, Y_XOR, {"epochs": 2.0}, ValueError,
         "fit: epochs must be a non-negative integer, got 2.0"),
        (_xor_model, X_XOR, Y_XOR, {"epochs": None}, ValueError,
         "fit: epochs must be a non-negative integer, got None"),
        # validation data is checked as the training data is, before any step
        (_xor_model, X_XOR, Y_XOR, {"validation_data": X_XOR}, ValueError,
         "fit: validation_data must be a pair (X_val, y_val)"),
        (_xor_model, X_XOR, Y_XOR, {"validation_data": (X_XOR, Y_XOR[:2])}, ValueError,
         "fit: validation_data: X has 4 samples but y has 2"),
        (_xor_model, X_XOR, Y_XOR, {"validation_data": ([[0.0, 1.0, 2.0]], [1])}, ValueError,
         "fit: validation_data: X has rows of 3 values but MLP expects 2 inputs"),
        (_xor_model, X_XOR, Y_XOR, {"validation_data": ([], [])}, ValueError,
         "fit: validation_data: X and y are empty"),
        # cross_entropy's classes: compiled training read -1 as the last class and 1.5 as
        # class 1, without a word; 3 was numpy's IndexError
        (_three_classes, X_XOR, [0, -1, 1, 2], CE, ValueError,
         "fit: y holds class -1 (sample 1); MLP gives 3 outputs, classes 0 to 2"),
        (_three_classes, X_XOR, [0, 1, 2, 3], CE, ValueError,
         "fit: y holds class 3 (sample 3); MLP gives 3 outputs, classes 0 to 2"),
        (_three_classes, X_XOR, [0.0, 1.5, 1.0, 2.0], CE, ValueError,
         "fit: y must hold class indices (integers) for cross_entropy, got an array of float64"),
        (_three_classes, X_XOR, [True, False, True, False], CE, ValueError,
         "fit: y must hold class indices (integers) for cross_entropy, got an array of bool"),
        (_three_classes, X_XOR, [0, 1, 2, 0], {**CE, "validation_data": (X_XOR, [0, 1, 2, 5])},
         ValueError, "fit: validation_data: y holds class 5 (sample 3); MLP gives 3 outputs"),
        (_three_classes, X_XOR, [0, 1, 2, 3], {"loss": nn.functional.cross_entropy}, ValueError,
         "fit: y holds class 3 (sample 3)"),
        # a loss of one output per sample on a model of three: was "Value * list" from
        # inside the loss
        (_three_classes, X_XOR, [1, -1, 1, -1], {"loss": "hinge"}, TypeError,
         "hinge_loss: each prediction must be one number (a Value), got [Value("),
        (_three_classes, X_XOR, Y_XOR, {"loss": "mse"}, TypeError,
         "mse_loss: each prediction must be one number (a Value), got [Value("),
    ],
)  # fmt: skip
@pytest.mark.parametrize("compile", [False, True])
def test_fit_rejects_bad_arguments_before_any_step(model, X, y, kwargs, error, message, compile):
    model = model()
    before = model.state_dict()
    kwargs = {"loss": "mse", **kwargs}
    with pytest.raises(error, match=f"^{re.escape(message)}"):
        nn.fit(model, X, y, progress=False, compile=compile, **kwargs)
    assert model.state_dict() == before


@pytest.mark.parametrize(
    "kwargs",
    [
        {"epochs": np.int64(2)},  # was rejected: numpy integers are integers
        {"batch_size": np.int64(3)},
        {"batch_size": 10},  # larger than the data: one batch
        {"l2": 0},
        {"l2": np.float64(1e-3)},
    ],
)
def test_fit_accepts_edge_arguments(kwargs):
    history = nn.fit(_xor_model(), X_XOR, Y_XOR, loss="mse", progress=False,
                     **{"epochs": 2, **kwargs})  # fmt: skip
    assert len(history["loss"]) == 2 and all(math.isfinite(v) for v in history["loss"])


@pytest.mark.parametrize("compile", [False, True])
def test_validation_loss_and_accuracy_are_torchs_on_the_held_out_samples(compile):
    """After every epoch, the loss (penalty included) and accuracy of the samples fit does not
    train on, as PyTorch computes them for the parameters at that point."""
    X, y = nn.data.make_spirals(60, n_classes=3, seed=4)
    X_val, y_val = nn.data.make_spirals(30, n_classes=3, seed=5)
    model = nn.MLP(2, [8, 3], rng=random.Random(2))
    twin = nn.to_torch(model)
    history = nn.fit(model, X, y, loss="cross_entropy", epochs=3, batch_size=16, l2=1e-3,
                     optimizer=optim.Adam(model.parameters(), lr=0.05), seed=1,
                     validation_data=(X_val, y_val), progress=False, compile=compile)  # fmt: skip
    torch_opt = torch.optim.Adam(twin.parameters(), lr=0.05)
    order = np.random.RandomState(1)
    for epoch in range(3):
        for chosen in np.array_split(order.permutation(len(X)), range(16, len(X), 16)):
            torch_opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(twin(torch.tensor(X[chosen])),
                                                     torch.tensor(y[chosen]))  # fmt: skip
            loss = loss + 1e-3 * sum((p * p).sum() for p in twin.parameters())
            loss.backward()
            torch_opt.step()
        with torch.no_grad():
            scores = twin(torch.tensor(X_val))
            val_loss = torch.nn.functional.cross_entropy(scores, torch.tensor(y_val))
            val_loss += 1e-3 * sum((p * p).sum() for p in twin.parameters())
        assert history["val_loss"][epoch] == pytest.approx(val_loss.item(), rel=1e-12)
        right = accuracy_score(y_val, scores.argmax(dim=1).numpy())
        assert history["val_accuracy"][epoch] == right
    assert sorted(history) == ["accuracy", "loss", "val_accuracy", "val_loss"]


@pytest.mark.parametrize("compile", [False, True])
def test_fit_trains_a_cnn_on_images_and_validates_it(compile):
    """Samples of shape [channels][height][width] reach a convolution whole, eager or compiled,
    and both train the same numbers."""
    X, y = nn.data.load_digits()
    X_train, X_val, y_train, y_val = nn.data.train_test_split(X[:120], y[:120], seed=0)

    def train(compiled: bool) -> tuple[dict, nn.Module]:
        rng = random.Random(3)
        convolution = nn.Conv2d(1, 2, 3, rng=rng)
        dense = nn.Layer(18, 10, activation="linear", rng=rng)
        model = nn.Sequential(convolution, nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), dense)
        history = nn.fit(model, X_train, y_train, loss="cross_entropy", epochs=2, batch_size=32,
                         optimizer=optim.Adam(model.parameters(), lr=0.01), progress=False,
                         validation_data=(X_val, y_val), compile=compiled)  # fmt: skip
        return history, model

    history, model = train(compile)
    twin = nn.to_torch(model)
    with torch.no_grad():
        scores = twin(torch.tensor(X_val))
    loss = torch.nn.functional.cross_entropy(scores, torch.tensor(y_val)).item()
    assert history["val_loss"][-1] == pytest.approx(loss, rel=1e-12)
    assert history["val_accuracy"][-1] == accuracy_score(y_val, scores.argmax(dim=1).numpy())
    other, _ = train(not compile)
    for key in history:
        assert other[key] == pytest.approx(history[key], rel=1e-12), key


class _FirstThree(nn.Module):
    """Four logits made, three returned: its last layer says 4 classes, its outputs 3."""

    def __init__(self, rng) -> None:
        self.layers = [nn.Layer(2, 5, rng=rng), nn.Layer(5, 4, activation="linear", rng=rng)]

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __call__(self, x):
        return self.layers[1](self.layers[0](x))[:3]


@pytest.mark.parametrize("compile_", [False, True])
def test_cross_entropy_targets_wider_than_the_outputs_are_refused_compiled_or_not(compile_):
    X, y = nn.data.make_blobs(12, centers=3, seed=5)
    y[::4] = 3
    # refused before any step: fit reads its width from its output, not from layers[-1]
    with pytest.raises(ValueError, match="fit: y holds class 3 .* _FirstThree gives 3 outputs"):
        nn.fit(_FirstThree(random.Random(3)), X, y, loss="cross_entropy", epochs=1,
               progress=False, compile=compile_)  # fmt: skip


@pytest.mark.parametrize("compile_", [False, True])
@pytest.mark.parametrize(
    "option, message",
    [
        ({"seed": "a"}, "fit: seed must be None, an integer"),
        ({"optimizer": "sgd"}, "fit: optimizer must be an"),
        ({"scheduler": object()}, r"fit: scheduler must have a step\(\) method"),
        ({"shuffle": "no"}, "fit: shuffle must be True or False, got 'no'"),
        ({"progress": 2}, "fit: progress must be True or False, got 2"),
    ],
)
def test_options_of_the_wrong_type_are_refused_before_any_step(option, message, compile_):
    # they raised numpy's or Python's own errors, a scheduler's after the first epoch had
    # moved the model; "no" was taken for True
    X, y = nn.data.make_moons(20, seed=0)
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    before = _numbers(model)
    with pytest.raises(TypeError, match=message):
        nn.fit(model, X, y * 2 - 1, epochs=2, compile=compile_, **{"progress": False, **option})
    assert _numbers(model) == before
    with pytest.raises(TypeError, match="fit: compile must be True or False, got 'no'"):
        nn.fit(model, X, y * 2 - 1, epochs=2, compile="no", progress=False)


def test_eager_fit_takes_an_optimizer_of_ones_own_as_karpathys_users_write_one():
    X, y = nn.data.make_moons(20, seed=0)
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    twin = nn.MLP(2, [3, 1], rng=random.Random(0))

    class PlainSGD:  # zero_grad() and step(), and nothing of nn.optim
        def __init__(self, parameters, lr):
            self.parameters, self.lr = parameters, lr

        def zero_grad(self):
            for p in self.parameters:
                p.grad = 0.0

        def step(self):
            for p in self.parameters:
                p.data -= self.lr * p.grad

    ours = nn.fit(model, X, y * 2 - 1, epochs=3, progress=0, shuffle=1,
                  optimizer=PlainSGD(model.parameters(), 0.1))  # fmt: skip
    theirs = nn.fit(twin, X, y * 2 - 1, epochs=3, progress=False, shuffle=True,
                    optimizer=optim.SGD(twin.parameters(), lr=0.1))  # fmt: skip
    assert ours["loss"] == pytest.approx(theirs["loss"], rel=1e-12)
    with pytest.raises(TypeError, match="fit: optimizer must be an nn.optim optimizer"):
        nn.fit(model, X, y * 2 - 1, epochs=1, progress=False, compile=True,
               optimizer=PlainSGD(model.parameters(), 0.1))  # fmt: skip


def test_a_random_state_seeds_fits_shuffles_as_nn_data_takes_it():
    X, y = nn.data.make_moons(20, seed=0)
    runs = [
        nn.fit(nn.MLP(2, [3, 1], rng=random.Random(0)), X, y * 2 - 1, epochs=3, batch_size=5,
               progress=False, seed=seed)["loss"]
        for seed in (np.random.RandomState(7), 7, 8)
    ]  # fmt: skip
    assert runs[0] == runs[1] != runs[2]


def _numbers(model) -> list[float]:
    return [p.data for p in model.parameters()]


@pytest.mark.parametrize("compile_", [False, True])
@pytest.mark.parametrize(
    "loss, y, validation_y, message",
    [
        ("hinge", [1.0, 0.0, 1.0, 0.0], None, r"hinge_loss: targets must be -1 or \+1"),
        ("hinge", [1.0, -1.0, 1.0, -1.0], [0.0, 1.0], r"hinge_loss: targets must be -1 or \+1"),
        ("binary_cross_entropy", [1.0, 0.0, 2.0, 0.0], None, r"targets must be in \[0, 1\]"),
        ("binary_cross_entropy", [1.0, 0.0, 1.0, 0.0], [0.5, -0.5], "got -0.5"),
    ],
)
def test_targets_the_loss_refuses_are_refused_before_any_step_compiled_or_not(
    loss, y, validation_y, message, compile_
):
    # compiled, the traced target stands for every sample and its loss checked none of them:
    # hinge trained on 0/1 labels; eagerly, bad validation targets raised after a step
    model = nn.MLP(2, [3, 1], activation="sigmoid", rng=random.Random(2))
    before = _numbers(model)
    X = np.array([[0.5, -1.0], [1.0, 2.0], [-0.5, 0.3], [2.0, 1.0]])
    validation = None if validation_y is None else (X[:2], np.array(validation_y))
    with pytest.raises(ValueError, match=message):
        nn.fit(model, X, np.array(y), loss=loss, epochs=2, progress=False, compile=compile_,
               validation_data=validation)  # fmt: skip
    assert _numbers(model) == before
    if loss == "binary_cross_entropy" and validation_y is None:  # torch refuses them too
        with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
            torch.nn.functional.binary_cross_entropy(torch.full((4,), 0.5), torch.tensor(y))


@pytest.mark.parametrize("compile_", [False, True])
@pytest.mark.parametrize(
    "loss, y, shown",
    [
        ("mse", np.array([1.5, None, 0.0, 1.0], dtype=object), "None"),
        ("hinge", np.array(["1", "-1", "1", "-1"]), "'1'"),
        ("binary_cross_entropy_with_logits", np.array(["1", "0", "1", "0"]), "'1'"),
        ("mse", np.array([1 + 0j, 2, 0, 1]), r"\(1\+0j\)"),
        ("binary_cross_entropy", np.array([True, False, True, False]), "True"),
        ("mse", np.array([1.0, 0.0, 1.0, True], dtype=object), "True"),
    ],
)
def test_targets_that_are_no_numbers_are_refused_before_any_step_compiled_or_not(
    loss, y, shown, compile_
):
    # compiled, they were read as floats: None as nan (every parameter nan after one step),
    # "1" as 1.0, a complex as its real part, True as 1.0 where the loss refuses a bool
    model = nn.MLP(2, [3, 1], activation="sigmoid", rng=random.Random(2))
    before = _numbers(model)
    X = np.array([[0.5, -1.0], [1.0, 2.0], [-0.5, 0.3], [2.0, 1.0]])
    name = nn.train.LOSSES[loss].__name__
    with pytest.raises(TypeError, match=f"^{name}: targets must be numbers, got {shown}$"):
        nn.fit(model, X, y, loss=loss, epochs=2, progress=False, compile=compile_)
    assert _numbers(model) == before
    good = np.array([1.0, -1.0, 1.0, -1.0] if loss == "hinge" else [1.0, 0.0, 1.0, 0.0])
    with pytest.raises(TypeError, match=f"^{name}: targets must be numbers, got {shown}$"):
        nn.fit(model, X, good, loss=loss, epochs=2, progress=False, compile=compile_,
               validation_data=(X, y))  # fmt: skip
    assert _numbers(model) == before


@pytest.mark.parametrize("compile_", [False, True])
def test_cross_entropy_of_a_model_of_one_output_is_refused(compile_):
    # softmax over one output is 1 and the loss 0, whatever the weights: nothing would learn
    model = nn.MLP(2, [3, 1], rng=random.Random(2))
    X, y = np.array([[0.5, -1.0], [1.0, 2.0]]), np.array([0, 0])
    with pytest.raises(ValueError, match="fit: cross_entropy needs a model of one output per"):
        nn.fit(model, X, y, loss="cross_entropy", progress=False, compile=compile_)
    twin = nn.to_torch(model)
    loss = torch.nn.functional.cross_entropy(twin(torch.tensor(X)), torch.tensor(y))
    loss.backward()
    assert loss.item() == 0.0 and all((p.grad == 0).all() for p in twin.parameters())


@pytest.mark.parametrize("compile_", [False, True])
def test_probabilities_outside_0_1_are_refused_before_the_step_compiled_or_not(compile_):
    model = nn.MLP(2, [3, 1], rng=random.Random(2))  # a linear output: not a probability
    X = np.array([[5.0, -1.0], [1.0, 2.0]])
    before = _numbers(model)
    with pytest.raises(ValueError, match=r"probabilities must be in \[0, 1\]"):
        nn.fit(model, X, np.array([1.0, 0.0]), loss="binary_cross_entropy", epochs=1,
               progress=False, compile=compile_)  # fmt: skip
    assert _numbers(model) == before
    with pytest.raises(RuntimeError, match="input should be between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor([1.5]), torch.tensor([1.0]))


@pytest.mark.parametrize("compile_", [False, True])
def test_accuracies_are_python_floats_and_an_overflowing_loss_is_inf_without_a_warning(
    compile_,
):
    """Per-sample losses of about 1.7e308 each sum past the largest float: the mean is inf,
    as float arithmetic gives it, and no numpy warning escapes."""
    X, y = np.zeros((2, 2)), np.array([1.3e154, 1.3e154])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = nn.fit(nn.MLP(2, [1], rng=random.Random(0)), X, y, loss="mse", epochs=1,
                         progress=False, compile=compile_)  # fmt: skip
    assert history["loss"] == [math.inf]
    assert type(history["accuracy"][0]) is float
    assert type(nn.accuracy([0.5, -0.5], [1, -1])) is float


class HeadNet(nn.Module):
    """A module of one's own: hidden layers in a list named layers, a head of 3 beside
    them, its output a tuple."""

    def __init__(self):
        self.layers = [nn.Layer(2, 8, rng=random.Random(1)), nn.Layer(8, 8, rng=random.Random(2))]
        self.head = nn.Layer(8, 3, activation="linear", rng=random.Random(3))

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return tuple(self.head(x))


@pytest.mark.parametrize("compile", [False, True])
def test_fit_reads_a_module_of_ones_owns_width_from_its_output_and_takes_a_tuple(compile):
    # its width was read from layers[-1] (8): compiled fit refused 3 classes as "needs 3
    # of them, got 8"; a tuple output failed after the step (eager) or as "got list"
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = np.arange(30) % 3
    model = HeadNet()
    torch_layers = [nn.to_torch(layer) for layer in [*model.layers, model.head]]
    history = nn.fit(model, X, y, loss="cross_entropy", epochs=3, shuffle=False,
                     optimizer=nn.optim.SGD(model.parameters(), lr=0.1), progress=False,
                     compile=compile)  # fmt: skip
    twin = torch.nn.Sequential(*torch_layers)
    optimizer = torch.optim.SGD(twin.parameters(), lr=0.1)
    inputs, targets = torch.tensor(X), torch.tensor(y)
    theirs = []
    for _ in range(3):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(twin(inputs), targets)
        loss.backward()
        optimizer.step()
        theirs.append(loss.item())
    np.testing.assert_allclose(history["loss"], theirs, rtol=1e-12)


def test_fit_trains_inside_no_grad_as_anywhere_else():
    # inside no_grad (or a no_grad a Ctrl-C left behind) every eager step silently trained
    # nothing: a constant loss, parameters unchanged
    X = np.random.default_rng(1).normal(size=(12, 2))
    y = X[:, 0] - 2 * X[:, 1]
    model = nn.Layer(2, 1, activation="linear", rng=random.Random(0))
    twin = nn.to_torch(model)
    with micrograd.no_grad():
        history = nn.fit(model, X, y, loss="mse", epochs=3, shuffle=False, progress=False,
                         optimizer=nn.optim.SGD(model.parameters(), lr=0.1))  # fmt: skip
        assert not micrograd.is_grad_enabled()
    optimizer = torch.optim.SGD(twin.parameters(), lr=0.1)
    theirs = []
    for _ in range(3):
        optimizer.zero_grad()
        loss = ((twin(torch.tensor(X))[:, 0] - torch.tensor(y)) ** 2).mean()
        loss.backward()
        optimizer.step()
        theirs.append(loss.item())
    np.testing.assert_allclose(history["loss"], theirs, rtol=1e-12)


def test_a_seed_out_of_range_is_a_value_error_before_any_step():
    X, y = nn.data.make_moons(20, seed=0)
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    before = _numbers(model)
    with pytest.raises(ValueError, match=r"fit: seed must be None, an integer from 0 to 2\*\*32"):
        nn.fit(model, X, y * 2 - 1, epochs=2, seed=-1, progress=False)
    assert _numbers(model) == before


@pytest.mark.parametrize("compile_", [False, True])
def test_fit_refuses_a_scheduler_of_another_optimizer_before_any_step(compile_):
    # its lrs changed an optimizer that never trained: a StepLR to lr 0 while the loss fell
    X, y = nn.data.make_moons(20, seed=0)
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    other = optim.SGD(model.parameters(), lr=0.1)
    scheduler = optim.StepLR(other, 1, gamma=0.0)
    before = _numbers(model)
    with pytest.raises(ValueError, match="fit was given none, so it would train with a default"):
        nn.fit(model, X, y * 2 - 1, epochs=2, scheduler=scheduler, progress=False,
               compile=compile_)  # fmt: skip
    mine = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="schedules another optimizer than the one fit was giv"):
        nn.fit(model, X, y * 2 - 1, epochs=2, optimizer=mine, scheduler=scheduler,
               progress=False, compile=compile_)  # fmt: skip
    assert _numbers(model) == before and scheduler.last_epoch == 0


@pytest.mark.parametrize("compile_", [False, True])
def test_fit_refuses_a_parameter_whose_grad_is_no_number_naming_it(compile_):
    # a frozen parameter's grad None, as torch's set_to_none leaves it: compiled training
    # made it nan, eager backward failed adding to it
    X, y = nn.data.make_moons(20, seed=0)
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    first = model.layers[0].neurons[0]
    first.w[1].grad = None
    before = _numbers(model)
    optimizer = optim.SGD(model.layers[1].parameters(), lr=0.1)  # the first layer frozen
    with pytest.raises(TypeError, match=r"fit: parameter layers\.0\.neurons\.0\.w\.1 has \.grad"):
        nn.fit(model, X, y * 2 - 1, epochs=1, optimizer=optimizer, progress=False,
               compile=compile_)  # fmt: skip
    assert _numbers(model) == before and first.w[1].grad is None


def test_fit_trains_a_model_with_only_call_and_parameters_as_karpathys_users_write_one():
    # the check of grads asked it for named_parameters(): an AttributeError
    class Tiny:
        def __init__(self):
            self.w, self.b = Value(0.3), Value(0.0)

        def __call__(self, x):
            return self.w * x[0] + self.b

        def parameters(self):
            return [self.w, self.b]

    X, y = [[1.0], [-1.0], [2.0]], [1.0, -1.0, 1.0]
    model = Tiny()
    history = nn.fit(model, X, y, "hinge", epochs=3, progress=False,
                     optimizer=optim.SGD(model.parameters(), lr=0.1))  # fmt: skip
    w = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    theirs = torch.optim.SGD([w, b], lr=0.1)
    tx, ty = torch.tensor(X, dtype=torch.float64)[:, 0], torch.tensor(y, dtype=torch.float64)
    losses = []
    for _ in range(3):
        theirs.zero_grad()
        loss = torch.relu(1 - ty * (w * tx + b)).mean()
        loss.backward()
        theirs.step()
        losses.append(loss.item())
    assert history["loss"] == pytest.approx(losses, rel=1e-12)
    assert (model.w.data, model.b.data) == pytest.approx((w.item(), b.item()), rel=1e-12)
    model.b.grad = None
    with pytest.raises(TypeError, match=r"fit: parameter 1 has \.grad None, not a number"):
        nn.fit(model, X, y, "hinge", epochs=1, progress=False)


def _accuracy_by_hand(model, X, y, threshold):
    outputs = np.array([model(list(x)).data for x in X])
    return float(np.mean((outputs > threshold) == (y > 0.5)))


@pytest.mark.parametrize("compile", [False, True])
def test_fit_reads_probabilities_and_01_regression_outputs_at_one_half(compile):
    """Given as a function, binary_cross_entropy's probabilities were read by > 0 (every
    sample positive: the share of positives, 0.5, reported where the model got 0.85); mse
    on 0/1 targets read outputs near 0, class 0's, as positive. The accuracy is the share
    of outputs on the targets' side of the middle of their two labels, counted by hand."""
    X, y = nn.data.make_moons(40, noise=0.1, seed=1)
    for loss in ("binary_cross_entropy", nn.binary_cross_entropy):
        model = nn.Sequential(nn.MLP(2, [8, 1], rng=random.Random(0)), nn.Sigmoid())
        history = nn.fit(model, X, y, loss=loss, epochs=30, progress=False, compile=compile,
                         optimizer=nn.optim.Adam(model.parameters(), lr=0.05),
                         validation_data=(X, y))  # after the last step, as by hand  # fmt: skip
        assert history["val_accuracy"][-1] == pytest.approx(_accuracy_by_hand(model, X, y, 0.5))
    model = nn.MLP(2, [8, 1], rng=random.Random(0))
    adam = nn.optim.Adam(model.parameters(), lr=0.02)
    targets = y.astype(float)
    history = nn.fit(model, X, targets, loss="mse", epochs=60, progress=False,
                     compile=compile, optimizer=adam, validation_data=(X, targets))  # fmt: skip
    assert history["val_accuracy"][-1] == pytest.approx(_accuracy_by_hand(model, X, y, 0.5))
    assert _accuracy_by_hand(model, X, y, 0.5) > _accuracy_by_hand(model, X, y, 0.0)


@pytest.mark.parametrize("compile", [False, True])
def test_a_schedulers_change_to_a_grad_stays_compiled_as_eagerly(compile):
    """fit's docstring lets a LambdaLR's function change the model: compiled, a grad it set
    was overwritten by the last step's when fit ended."""
    X, y = nn.data.make_moons(20, noise=0.1, seed=1)
    model = nn.MLP(2, [4, 1], rng=random.Random(0))
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)

    def schedule(epoch):
        model.parameters()[1].grad = 5.0
        return 1.0

    nn.fit(model, X, y * 2 - 1, optimizer=optimizer, epochs=2, compile=compile, progress=False,
           scheduler=nn.optim.LambdaLR(optimizer, schedule))  # fmt: skip
    assert model.parameters()[1].grad == 5.0


def test_fit_refuses_what_it_read_silently_or_let_another_library_refuse():
    """Complex X lost its imaginary part and text was parsed; -1/+1 labels for the BCE of
    logits trained toward a loss of -inf; a torch tensor that requires grad, a function as
    the model, and images for an MLP were torch's, Python's or the MLP's own errors."""
    X, y = nn.data.make_moons(20, noise=0.1, seed=1)
    model = nn.MLP(2, [4, 1], rng=random.Random(0))
    refused = [
        (ValueError, r"of complex128 \(real numbers only\)", X.astype(complex), y * 2 - 1, {}),
        (ValueError, r"array of <U\d+ \(real numbers only\)", X.astype(str), y * 2 - 1, {}),
        (ValueError, r"binary_cross_entropy_with_logits needs targets in \[0, 1\] \(y holds -1\.0",
         X, y * 2 - 1, {"loss": "binary_cross_entropy_with_logits"}),
        (ValueError, "fit: X cannot be read as numbers", torch.tensor(X, requires_grad=True),
         y * 2 - 1, {}),
        (ValueError, "fit: y cannot be read as numbers", X,
         torch.tensor(y * 2 - 1.0, requires_grad=True), {}),
    ]  # fmt: skip
    for error, message, X_given, y_given, kwargs in refused:
        with pytest.raises(error, match=message):
            nn.fit(model, X_given, y_given, epochs=1, progress=False, **kwargs)
    with pytest.raises(TypeError, match=r"fit: model must be a module with parameters\(\)"):
        nn.fit(lambda x: x, X, y * 2 - 1, epochs=1, progress=False)
    images, labels = nn.data.load_digits()
    with pytest.raises(ValueError, match=r"shape \(1, 8, 8\).*X\.reshape\(len\(X\), -1\)"):
        nn.fit(nn.MLP(64, [10]), images[:20], labels[:20], loss="cross_entropy", epochs=1,
               progress=False)  # fmt: skip


def test_a_dense_model_of_ones_own_that_flattens_images_itself_still_trains():
    """Images given to nn's own MLP are refused (it would read each as one input), but a
    subclass that flattens them in its own __call__ trains on them, as it did."""

    class FlatMLP(nn.MLP):
        def __call__(self, x):
            return super().__call__(np.ravel(np.asarray(x, dtype=object)).tolist())

    X, y = nn.data.make_moons(20, noise=0.1, seed=1)
    images = X.reshape(20, 1, 1, 2)
    flat = FlatMLP(2, [4, 1], rng=random.Random(0))
    plain = nn.MLP(2, [4, 1], rng=random.Random(0))
    from_images = nn.fit(flat, images, y * 2 - 1, epochs=3, progress=False)
    from_rows = nn.fit(plain, X, y * 2 - 1, epochs=3, progress=False)
    assert from_images["loss"] == from_rows["loss"]
