"""Write karpathy_reference.json: karpathy/micrograd 0.1.0's demo.ipynb loop, first steps.

Run from the repository root: ``python tests/data/make_karpathy_reference.py``. The release
is loaded from its downloaded wheel under the name ``karpathy_micrograd``, never installed
(see benchmarks/karpathy_release.py). Its demo, as in the notebook:

    np.random.seed(1337); random.seed(1337)
    X, y = make_moons(n_samples=100, noise=0.1); y = y*2 - 1
    model = MLP(2, [16, 16, 1])
    loss = mean((1 + -y_i*score_i).relu()) + 1e-4 * sum(p*p), SGD at lr = 1.0 - 0.9*k/100

Recorded: the moons points, the parameters after init, and for each of the first STEPS
steps the loss, the accuracy and the gradients of a few parameters, then the parameters
after the last step.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import make_moons

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for benchmarks
from benchmarks.karpathy_release import load  # noqa: E402

STEPS = 5
WATCHED = [0, 1, 2, 17, 48, 100, 200, 319, 320, 336]  # parameter indices whose grads are kept
OUT = Path(__file__).with_name("karpathy_reference.json")


def main() -> None:
    karpathy = load()
    Value, MLP = karpathy.engine.Value, karpathy.nn.MLP
    np.random.seed(1337)
    random.seed(1337)
    X, y = make_moons(n_samples=100, noise=0.1)
    y = y * 2 - 1
    model = MLP(2, [16, 16, 1])
    record = {
        "source": "karpathy/micrograd 0.1.0 (PyPI), demo.ipynb loop: make_karpathy_reference.py",
        "moons_X": X.tolist(),
        "moons_y": [int(v) for v in y],
        "init_parameters": [p.data for p in model.parameters()],
        "watched": WATCHED,
        "steps": [],
    }
    for k in range(STEPS):
        inputs = [list(map(Value, row)) for row in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        model.zero_grad()
        total_loss.backward()
        params = model.parameters()
        record["steps"].append(
            {
                "loss": float(total_loss.data),
                "accuracy": sum(accuracy) / len(accuracy),
                "grads": [float(params[i].grad) for i in WATCHED],
            }
        )
        learning_rate = 1.0 - 0.9 * k / 100
        for p in params:
            p.data -= learning_rate * p.grad
    record["final_parameters"] = [float(p.data) for p in model.parameters()]
    OUT.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
