"""nn.data: scikit-learn's points for the same seed, determinism, shapes, and the batch iterator."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from micrograd.nn import data

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
        (lambda: list(data.batches(5, 5)), r"batches: X and y must hold .* shapes \(\)"),
        (lambda: list(data.batches([], [])), "batches: X and y hold no samples"),
        (lambda: data.make_moons(1), "n_samples must be >= 2"),
        (lambda: data.make_spirals(10, n_classes=1), "n_classes must be an integer >= 2"),
        (lambda: data.make_circles(10, factor=1.5), "factor"),
    ],
)
def test_bad_arguments_are_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"batch_size": 0}, ValueError, "batches: batch_size must be a positive integer"),
        ({"batch_size": 2.0}, TypeError, "batches: batch_size must be a positive integer"),
        ({"seed": "junk"}, TypeError, "batches: seed must be None, an integer"),
    ],
)
def test_batches_refuses_bad_arguments_at_the_call(kwargs, error, message):
    # a generator function: nothing was checked until the first batch, and with shuffle
    # off the seed never
    with pytest.raises(error, match=message):
        data.batches([[1.0], [2.0]], [0, 1], **kwargs)


@pytest.mark.parametrize(
    "call, message",
    [
        # make_blobs: each was a numpy error naming neither the function nor the argument,
        # or (n_features=0, centers=True, box reversed) no error at all
        (lambda: data.make_blobs(centers=0), "make_blobs: centers must be an integer >= 1"),
        (lambda: data.make_blobs(centers=-2), "make_blobs: centers must be an integer >= 1"),
        (lambda: data.make_blobs(centers=True), "make_blobs: centers must be an integer >= 1"),
        (lambda: data.make_blobs(centers=2.5), "make_blobs: centers must be an integer >= 1"),
        (lambda: data.make_blobs(centers=[]), "make_blobs: centers must be an integer >= 1"),
        (lambda: data.make_blobs(centers=[[0.0, 1.0], [2.0]]), "make_blobs: centers must be"),
        (lambda: data.make_blobs(centers=[1.0, 2.0]), "make_blobs: centers must be"),
        (lambda: data.make_blobs(centers=[[]]), "make_blobs: centers must be"),
        (lambda: data.make_blobs(centers=[["a", "b"]]), "make_blobs: centers must be"),
        (lambda: data.make_blobs(centers=[[0.0, np.nan]]), "make_blobs: centers must be"),
        (lambda: data.make_blobs(n_features=0), "make_blobs: n_features must be an integer >= 1"),
        (lambda: data.make_blobs(n_features=1.5), "make_blobs: n_features must be an integer"),
        (lambda: data.make_blobs(cluster_std=-1.0), "make_blobs: cluster_std must be a non-neg"),
        (lambda: data.make_blobs(cluster_std=np.nan), "make_blobs: cluster_std must be a non-neg"),
        (lambda: data.make_blobs(cluster_std="1"), "make_blobs: cluster_std must be a non-neg"),
        (lambda: data.make_blobs(box=(10.0, -10.0)), "make_blobs: box must be"),
        (lambda: data.make_blobs(box=(0.0,)), "make_blobs: box must be"),
        (lambda: data.make_blobs(box=(0.0, np.inf)), "make_blobs: box must be"),
        (lambda: data.make_blobs(box=(-1e308, 1e308)), "make_blobs: box must be"),  # overflows
        # noise: each was numpy's "scale < 0" naming nothing
        (lambda: data.make_moons(noise=-0.1), "make_moons: noise must be a non-negative"),
        (lambda: data.make_circles(noise=-0.1), "make_circles: noise must be a non-negative"),
        (lambda: data.make_spirals(noise=-0.1), "make_spirals: noise must be a non-negative"),
        (lambda: data.make_xor(noise=-0.1), "make_xor: noise must be a non-negative"),
        (lambda: data.make_xor(noise="a"), "make_xor: noise must be a non-negative"),
        (lambda: data.make_moons(noise=np.inf), "make_moons: noise must be a non-negative"),
        # make_spirals: n_classes and turns of the wrong kind failed inside numpy
        (lambda: data.make_spirals(n_classes=2.5), "make_spirals: n_classes must be an integer"),
        (lambda: data.make_spirals(n_classes="3"), "make_spirals: n_classes must be an integer"),
        (lambda: data.make_spirals(n_classes=True), "make_spirals: n_classes must be an integer"),
        (lambda: data.make_spirals(turns="a"), "make_spirals: turns must be a finite number"),
        # make_circles: a factor that is not a number failed in a comparison
        (lambda: data.make_circles(factor="a"), "make_circles: factor must be"),
        (lambda: data.make_circles(factor=None), "make_circles: factor must be"),
    ],
)
def test_bad_generator_arguments_name_the_function_and_argument(call, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        call()


@pytest.mark.parametrize(
    "seed, error",
    [(1.5, TypeError), ("a", TypeError), (True, TypeError), (np.random.default_rng(0), TypeError),
     (-1, ValueError), (2**32, ValueError)],  # an integer out of range: the right kind
)  # fmt: skip
@pytest.mark.parametrize("make", [data.make_moons, data.make_blobs, data.make_xor])
def test_a_seed_that_is_not_one_names_the_function(make, seed, error):
    with pytest.raises(error, match=f"^{make.__name__}: seed must be None, an integer"):
        make(seed=seed)  # each was numpy's message ("Cannot cast scalar from dtype...")


@pytest.mark.parametrize(
    "call, n_classes",
    [
        (lambda: data.make_blobs(10, centers=1), 1),
        (lambda: data.make_blobs(10, centers=np.int64(2), n_features=1), 2),
        (lambda: data.make_blobs(10, centers=np.zeros((2, 3)), cluster_std=0), 2),
        (lambda: data.make_blobs(10, box=(-1, 1)), 3),
        (lambda: data.make_blobs(10, box=(2.0, 2.0)), 3),
        (lambda: data.make_moons(10, noise=0), 2),
        (lambda: data.make_circles(10, noise=0.0, factor=0), 2),
        (lambda: data.make_spirals(10, n_classes=np.int64(2), noise=0, turns=-1), 2),
        (lambda: data.make_spirals(10, noise=None), 3),
        (lambda: data.make_xor(10, noise=None), 2),
    ],
)
def test_edge_arguments_are_still_accepted(call, n_classes):
    X, y = call()
    assert len(X) == len(y) == 10 and np.isfinite(X).all()
    assert sorted(set(y.tolist())) == list(range(n_classes))


# --- the handwritten digits and the train/test split ---


def test_load_digits_is_sklearns_images_scaled_to_one_channel_of_0_to_1():
    from sklearn.datasets import load_digits

    X, y = data.load_digits()
    reference = load_digits()
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float64
    assert y.shape == (1797,) and set(y.tolist()) == set(range(10))
    assert X.min() == 0.0 and X.max() == 1.0
    # pixels are the counts 0..16 of scikit-learn's flat rows, divided by 16
    np.testing.assert_array_equal(X.reshape(1797, 64) * 16, reference.data)
    np.testing.assert_array_equal(y, reference.target)


def test_load_digits_without_sklearn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"load_digits needs scikit-learn.*pip install"):
        data.load_digits()


def _labels():
    """600 labels of 10 classes of different sizes (30 to 90), in a scrambled order."""
    sizes = [30 + 7 * k - (k % 3) for k in range(10)]
    y = np.repeat(np.arange(10), sizes)
    return np.random.RandomState(5).permutation(y)


@pytest.mark.parametrize("test_size", [0.2, 0.25, 0.5, 0.9, 137])
def test_a_stratified_split_holds_out_each_class_in_proportion(test_size):
    y = _labels()
    X = np.arange(len(y) * 2, dtype=np.float64).reshape(len(y), 2)  # row i is (2i, 2i + 1)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size, seed=3)
    n_test = test_size if isinstance(test_size, int) else int(np.ceil(test_size * len(y)))
    assert len(y_test) == n_test and len(y_train) == len(y) - n_test
    # a partition of the samples, every row still with its own label
    rows = np.concatenate([X_train[:, 0], X_test[:, 0]]).astype(int) // 2
    assert sorted(rows.tolist()) == list(range(len(y)))
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), y[rows])
    # each class's test count is its exact share rounded down or up
    counts, held = np.bincount(y, minlength=10), np.bincount(y_test, minlength=10)
    exact = counts * n_test / len(y)
    assert np.all(held >= np.floor(exact)) and np.all(held <= np.ceil(exact))


def test_the_split_is_the_same_for_a_seed_and_another_for_another_seed():
    y = _labels()
    X = np.arange(len(y), dtype=np.float64)[:, None]
    first = data.train_test_split(X, y, 0.2, seed=11)
    again = data.train_test_split(X, y, 0.2, seed=11)
    other = data.train_test_split(X, y, 0.2, seed=12)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert set(first[1][:, 0]) != set(other[1][:, 0])
    # both sides come shuffled, not in the order of the data
    assert not np.all(np.diff(first[0][:, 0]) > 0) and not np.all(np.diff(first[1][:, 0]) > 0)


@pytest.mark.parametrize(
    "y",
    [
        np.arange(10.0) * 1.5,  # regression targets: every label once
        np.array([0] * 10 + [1] * 10 + [2, 3, 4, 5, 6, 7]),  # classes of one sample besides
    ],
)
def test_which_classes_of_one_sample_are_held_out_is_drawn(y):
    # ties at the cut went to the lowest labels: the same test set for every seed, the
    # smallest targets (scikit-learn refuses classes of one sample)
    X = np.arange(len(y), dtype=np.float64)[:, None]
    singles = {label for label in y.tolist() if (y == label).sum() == 1}
    chosen = [
        frozenset(
            set(data.train_test_split(X, y, 3 if len(y) == 10 else 5, seed=seed)[3]) & singles
        )
        for seed in range(40)
    ]
    assert len(set(chosen)) > 5  # many different draws
    assert set().union(*chosen) == singles  # and every single one held out sometimes


def test_the_split_keeps_images_whole_and_unstratified_splits_too():
    X, y = data.load_digits()
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, seed=0)
    assert X_train.shape == (1437, 1, 8, 8) and X_test.shape == (360, 1, 8, 8)
    held = np.bincount(y_test, minlength=10)
    assert held.min() >= 34 and held.max() <= 37  # 20% of 174..183 each
    _, X_test, _, y_test = data.train_test_split(X, y, 0.3, seed=0, stratify=False)
    assert len(y_test) == int(np.ceil(0.3 * 1797))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: data.train_test_split([[1], [2]], [0, 1, 1]), "one row and one label"),
        (lambda: data.train_test_split([[1], [2]], [[0], [1]]), "one row and one label"),
        (lambda: data.train_test_split(np.ones((5, 1)), np.zeros(5), 0.0), "test_size"),
        (lambda: data.train_test_split(np.ones((5, 1)), np.zeros(5), 1.5), "test_size"),
        (lambda: data.train_test_split(np.ones((5, 1)), np.zeros(5), 5), "at least one"),
        (lambda: data.train_test_split(np.ones((5, 1)), np.zeros(5), 0), "at least one"),
        (lambda: data.train_test_split(np.ones((5, 1)), np.zeros(5), True), "test_size"),
        (lambda: data.train_test_split(np.ones((5, 1)), np.zeros(5), float("nan")), "test_size"),
        # held out 1 of 10 instead of 2: the nan class's share was dropped
        (lambda: data.train_test_split(np.ones((10, 1)), [np.nan] * 5 + [1.0] * 5),
         r"y holds nan \(sample 0\)"),
    ],
)  # fmt: skip
def test_bad_split_arguments_are_clear_errors(call, message):
    with pytest.raises(ValueError, match=f"train_test_split: .*{message}"):
        call()


@pytest.mark.parametrize(
    "call, message",
    [  # "no" is true: the data was shuffled, or stratified, silently
        (lambda: data.make_moons(10, shuffle="no"), "make_moons: shuffle must be True or False"),
        (lambda: data.make_xor(shuffle=None), "make_xor: shuffle must be True or False"),
        (lambda: list(data.batches([[1.0], [2.0]], [1, 2], shuffle="yes")),
         "batches: shuffle must be True or False"),
        (lambda: data.train_test_split(np.ones((10, 2)), np.arange(10) % 2, stratify="no"),
         "train_test_split: stratify must be True or False"),
        # numpy's "'<' not supported between instances of 'str' and 'int'" before
        (lambda: data.train_test_split(np.ones((10, 2)), np.array([1, "a"] * 5, dtype=object)),
         "train_test_split: stratify needs labels of one kind that sort, got labels of types "
         "int, str"),
        (lambda: data.train_test_split(np.ones((10, 2)), np.array([1, None] * 5, dtype=object)),
         "NoneType, int"),
    ],
)  # fmt: skip
def test_yes_or_no_arguments_and_unsortable_labels_are_type_errors(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_yes_or_no_arguments_take_numpys_bools_and_0_or_1():
    X, y = data.make_moons(10, shuffle=np.bool_(False))
    assert np.array_equal(X, data.make_moons(10, shuffle=0)[0])
    assert len(list(data.batches(X, y, 5, shuffle=1, seed=0))) == 2
    labels = np.array(["a", "b"] * 5, dtype=object)  # text of one kind sorts: it stratifies
    assert sorted(data.train_test_split(X, labels)[3].tolist()) == ["a", "b"]


def test_numpy_integers_0_and_1_are_yes_and_no_as_pythons():
    X, y = data.make_moons(10, shuffle=np.int64(0))
    assert np.array_equal(X, data.make_moons(10, shuffle=False)[0])
    with pytest.raises(TypeError, match=r"shuffle must be True or False, got np.int64\(2\)"):
        data.make_moons(10, shuffle=np.int64(2))


def test_ragged_rows_are_named_by_the_function_given_them():
    """numpy's own 'setting an array element with a sequence' reached the caller."""
    ragged = [[1.0], [2.0, 3.0], [4.0], [5.0, 6.0]]
    with pytest.raises(ValueError, match="train_test_split: X must be rectangular"):
        data.train_test_split(ragged, [0, 1, 0, 1], test_size=2)
    with pytest.raises(ValueError, match="batches: X must be rectangular"):
        data.batches(ragged, [0, 1, 0, 1])
