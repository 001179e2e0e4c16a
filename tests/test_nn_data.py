"""nn.data: scikit-learn's points for the same seed, determinism, shapes, and the batch iterator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nn import data

REFERENCE = json.loads((Path(__file__).parent / "data" / "karpathy_reference.json").read_text())


@pytest.mark.parametrize("seed", [0, 1337])
@pytest.mark.parametrize("n_samples", [100, 7])
@pytest.mark.parametrize("noise", [None, 0.1])
@pytest.mark.parametrize("shuffle", [True, False])
def test_make_moons_and_circles_equal_sklearn(seed, n_samples, noise, shuffle):
    datasets = pytest.importorskip("sklearn.datasets")
    for ours, theirs in [
        (data.make_moons, datasets.make_moons),
        (data.make_circles, datasets.make_circles),
    ]:
        X, y = ours(n_samples, noise=noise, seed=seed, shuffle=shuffle)
        X_ref, y_ref = theirs(n_samples, noise=noise, random_state=seed, shuffle=shuffle)
        np.testing.assert_array_equal(X, X_ref)
        np.testing.assert_array_equal(y, y_ref)


def test_make_moons_equals_committed_reference():
    """The demo's moons (sklearn, seed 1337, noise 0.1), committed in tests/data."""
    X, y = data.make_moons(100, noise=0.1, seed=1337)
    np.testing.assert_array_equal(X, np.array(REFERENCE["moons_X"]))
    np.testing.assert_array_equal(y * 2 - 1, np.array(REFERENCE["moons_y"]))


@pytest.mark.parametrize(
    "make, n_classes",
    [
        (lambda seed: data.make_moons(60, noise=0.2, seed=seed), 2),
        (lambda seed: data.make_circles(60, noise=0.05, seed=seed), 2),
        (lambda seed: data.make_blobs(60, centers=4, seed=seed), 4),
        (lambda seed: data.make_spirals(60, n_classes=5, seed=seed), 5),
        (lambda seed: data.make_xor(60, noise=0.1, seed=seed), 2),
    ],
)
def test_generators_are_deterministic_and_well_formed(make, n_classes):
    X, y = make(3)
    X_again, y_again = make(3)
    X_other, _ = make(4)
    np.testing.assert_array_equal(X, X_again)
    np.testing.assert_array_equal(y, y_again)
    assert not np.array_equal(X, X_other)
    assert X.shape == (60, 2) and X.dtype == np.float64 and y.shape == (60,)
    assert sorted(set(y.tolist())) == list(range(n_classes))
    assert np.issubdtype(y.dtype, np.integer)


def test_make_xor_is_the_truth_table():
    X, y = data.make_xor()
    assert X.tolist() == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert y.tolist() == [0, 1, 1, 0]


def test_make_spirals_classes_are_balanced_and_spiral():
    X, y = data.make_spirals(90, n_classes=3, noise=0.0, seed=0)
    assert np.bincount(y).tolist() == [30, 30, 30]
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius.min() == 0.0 and radius.max() == pytest.approx(1.0)


def test_make_blobs_clusters_around_given_centers():
    centers = [[-5.0, 0.0], [5.0, 0.0]]
    X, y = data.make_blobs(400, centers=centers, cluster_std=0.5, seed=0)
    for label, center in enumerate(centers):
        np.testing.assert_allclose(X[y == label].mean(axis=0), center, atol=0.1)


def test_batches_cover_everything_once():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    chunks = list(data.batches(X, y, batch_size=4))
    assert [len(b) for b, _ in chunks] == [4, 4, 2]
    assert np.concatenate([t for _, t in chunks]).tolist() == list(range(10))
    shuffled = list(data.batches(X, y, batch_size=3, shuffle=True, seed=1))
    order = np.concatenate([t for _, t in shuffled])
    assert sorted(order.tolist()) == list(range(10)) and order.tolist() != list(range(10))
    assert all((xb[:, 0] == 2 * yb).all() for xb, yb in shuffled)  # rows stay paired
    again = np.concatenate([t for _, t in data.batches(X, y, 3, shuffle=True, seed=1)])
    assert again.tolist() == order.tolist()
    assert [len(b) for b, _ in data.batches(X, y)] == [10]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: list(data.batches([[1.0]], [1, 2])), "X has 1 samples but y has 2"),
        (lambda: list(data.batches([[1.0]], [1], batch_size=0)), "batch_size"),
        (lambda: data.make_moons(1), "n_samples must be >= 2"),
        (lambda: data.make_spirals(10, n_classes=1), "n_classes must be >= 2"),
        (lambda: data.make_circles(10, factor=1.5), "factor"),
    ],
)
def test_bad_arguments_are_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
