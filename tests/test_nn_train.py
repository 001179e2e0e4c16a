"""fit and accuracy: the demo to 1e-12, steps replayed by PyTorch, models that learn."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score

import nn
from nn import optim

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
    logits = rng.normal(size=(50, 4)).tolist()
    classes = rng.integers(0, 4, size=50).tolist()
    assert nn.accuracy(logits, classes) == accuracy_score(classes, np.argmax(logits, axis=1))
    probs = rng.uniform(size=50).tolist()
    bits = rng.integers(0, 2, size=50).tolist()
    expected = accuracy_score(bits, [int(p > 0.5) for p in probs])
    assert nn.accuracy(probs, bits, threshold=0.5) == expected


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


def test_fit_names_a_size_mismatch():
    X, y = nn.data.make_xor()
    with pytest.raises(ValueError, match="MLP expects 3 inputs, got 2"):
        nn.fit(nn.MLP(3, [2, 1]), X, y, progress=False)
