"""Data sets for classification, a train/test split and a mini-batch iterator.

Every toy generator returns ``(X, y)``: X a float64 array of shape (n_samples, 2) (or
n_features), y an int array of class labels 0, 1, ... Each is deterministic for a given
``seed`` and draws from ``numpy.random.RandomState(seed)``, the generator scikit-learn uses,
so ``make_moons`` and ``make_circles`` give scikit-learn's points for the same seed. They
need numpy only.

``load_digits`` returns real images: the 1,797 handwritten digits scikit-learn ships (8x8
pixels, no download), as ``[1][8][8]`` images a convolution reads. It needs scikit-learn.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Iterator

import numpy as np

__all__ = [
    "make_moons",
    "make_circles",
    "make_blobs",
    "make_spirals",
    "make_xor",
    "load_digits",
    "train_test_split",
    "batches",
]


def _generator(owner: str, seed) -> np.random.RandomState:
    if isinstance(seed, np.random.RandomState):
        return seed
    expected = "None, an integer from 0 to 2**32 - 1 or a np.random.RandomState"
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"{owner}: seed must be {expected}, got {seed!r}")
    if seed is not None and not 0 <= seed < 2**32:  # an integer, out of RandomState's range
        raise ValueError(f"{owner}: seed must be {expected}, got {seed!r}")
    return np.random.RandomState(seed)


def _count(name: str, n_samples: int, minimum: int = 1) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
        raise TypeError(f"{name}: n_samples must be an integer, got {n_samples!r}")
    if n_samples < minimum:
        raise ValueError(f"{name}: n_samples must be >= {minimum}, got {n_samples}")
    return int(n_samples)


def _integer(owner: str, name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _is_finite_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _non_negative(owner: str, name: str, value: object) -> float:
    if not _is_finite_number(value) or value < 0:
        raise ValueError(f"{owner}: {name} must be a non-negative finite number, got {value!r}")
    return float(value)


def _noise(owner: str, noise: object) -> float | None:
    if noise is None:
        return None
    if not _is_finite_number(noise) or noise < 0:
        raise ValueError(
            f"{owner}: noise must be a non-negative finite number or None, got {noise!r}"
        )
    return float(noise)


def _flag(owner: str, name: str, value: object) -> bool:
    """A yes-or-no argument: True or False (numpy's too, or 1 or 0), else a TypeError; any
    other value would read as yes or no by its truth ("no" as yes)."""
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, numbers.Integral) and value in (0, 1)
    ):
        return bool(value)
    raise TypeError(f"{owner}: {name} must be True or False, got {reprlib.repr(value)}")


def _finish(X, y, generator, shuffle: bool, noise: float | None, owner: str):
    """Shuffle, then add Gaussian noise: scikit-learn's order of draws."""
    if _flag(owner, "shuffle", shuffle):
        order = np.arange(len(X))
        generator.shuffle(order)
        X, y = X[order], y[order]
    if noise is not None:
        X = X + generator.normal(scale=noise, size=X.shape)
    return X, y


def make_moons(n_samples: int = 100, noise: float | None = None, seed=None, shuffle: bool = True):
    """Two interleaving half circles: (cos t, sin t) and (1 - cos t, 1/2 - sin t), t in [0, pi]."""
    n_samples = _count("make_moons", n_samples, 2)
    noise = _noise("make_moons", noise)
    n_out, n_in = n_samples // 2, n_samples - n_samples // 2
    generator = _generator("make_moons", seed)
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.vstack(
        [
            np.append(np.cos(t_out), 1 - np.cos(t_in)),
            np.append(np.sin(t_out), 1 - np.sin(t_in) - 0.5),
        ]
    ).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    return _finish(X, y, generator, shuffle, noise, "make_moons")


def make_circles(
    n_samples: int = 100,
    noise: float | None = None,
    factor: float = 0.8,
    seed=None,
    shuffle: bool = True,
):
    """A unit circle (class 0) around a circle of radius factor (class 1)."""
    n_samples = _count("make_circles", n_samples, 2)
    noise = _noise("make_circles", noise)
    if not _is_finite_number(factor) or not 0 <= factor < 1:
        raise ValueError(f"make_circles: factor must be a number in [0, 1), got {factor!r}")
    n_out, n_in = n_samples // 2, n_samples - n_samples // 2
    generator = _generator("make_circles", seed)
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack(
        [
            np.append(np.cos(t_out), np.cos(t_in) * factor),
            np.append(np.sin(t_out), np.sin(t_in) * factor),
        ]
    ).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    return _finish(X, y, generator, shuffle, noise, "make_circles")


def make_blobs(
    n_samples: int = 100,
    centers: int = 3,
    cluster_std: float = 1.0,
    n_features: int = 2,
    box: tuple[float, float] = (-10.0, 10.0),
    seed=None,
    shuffle: bool = True,
):
    """Gaussian clusters: centers drawn uniformly in box, points center + N(0, cluster_std**2).

    centers is a count (drawn in box, n_features wide) or a (k, n_features) array of centers
    (then its width is the data's, whatever n_features says).
    """
    n_samples = _count("make_blobs", n_samples)
    n_features = _integer("make_blobs", "n_features", n_features, 1)
    cluster_std = _non_negative("make_blobs", "cluster_std", cluster_std)
    low, high = _box(box)
    centers = _centers(centers)
    generator = _generator("make_blobs", seed)
    if isinstance(centers, int):
        centers = generator.uniform(low, high, size=(centers, n_features))
    k = len(centers)
    sizes = [n_samples // k + (1 if i < n_samples % k else 0) for i in range(k)]
    X = np.vstack(
        [
            generator.normal(c, cluster_std, size=(n, centers.shape[1]))
            for c, n in zip(centers, sizes)
        ]
    )
    y = np.repeat(np.arange(k, dtype=np.intp), sizes)
    return _finish(X, y, generator, shuffle, None, "make_blobs")


def _centers(centers: object) -> int | np.ndarray:
    """A count of centers, or the centers as a (k, n_features) array of finite numbers."""
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool) and centers >= 1:
        return int(centers)
    array = None
    if not isinstance(centers, (numbers.Number, str)):  # 0, 2.5 or "3": a count that is not one
        try:
            array = np.asarray(centers, dtype=np.float64)
        except (TypeError, ValueError):  # ragged rows, or entries that are not numbers
            pass
    if array is not None and array.ndim == 2 and min(array.shape) >= 1:
        if np.isfinite(array).all():
            return array
    raise ValueError(
        "make_blobs: centers must be an integer >= 1 or an array of k >= 1 rows of "
        f"n_features >= 1 finite numbers, got {reprlib.repr(centers)}"
    )


def _box(box: object) -> tuple[float, float]:
    try:
        low, high = box
    except (TypeError, ValueError):
        low = high = None
    if not (
        _is_finite_number(low)
        and _is_finite_number(high)
        and math.isfinite(high - low)
        and low <= high
    ):
        raise ValueError(
            "make_blobs: box must be two finite numbers (low, high), low <= high, whose "
            f"difference is finite too, got {box!r}"
        )
    return float(low), float(high)


def make_spirals(
    n_samples: int = 150,
    n_classes: int = 3,
    noise: float = 0.2,
    turns: float = 1.0,
    seed=None,
    shuffle: bool = True,
):
    """k interleaved spiral arms: r = t, angle = 2 pi (turns * t + c / k) + noise, t in [0, 1]."""
    n_classes = _integer("make_spirals", "n_classes", n_classes, 2)
    n_samples = _count("make_spirals", n_samples, n_classes)
    noise = _noise("make_spirals", noise) or 0.0  # None: no noise, as the other generators
    if not _is_finite_number(turns):
        raise ValueError(f"make_spirals: turns must be a finite number, got {turns!r}")
    generator = _generator("make_spirals", seed)
    sizes = [
        n_samples // n_classes + (1 if c < n_samples % n_classes else 0) for c in range(n_classes)
    ]
    points = []
    for c, n in enumerate(sizes):
        radius = np.linspace(0.0, 1.0, n)
        angle = 2 * np.pi * (turns * radius + c / n_classes) + generator.normal(scale=noise, size=n)
        points.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
    X = np.vstack(points)
    y = np.repeat(np.arange(n_classes, dtype=np.intp), sizes)
    return _finish(X, y, generator, shuffle, None, "make_spirals")


def make_xor(n_samples: int = 4, noise: float = 0.0, seed=None, shuffle: bool = False):
    """The corners of the unit square, labelled x0 XOR x1, cycled to n_samples, plus noise."""
    n_samples = _count("make_xor", n_samples)
    noise = _noise("make_xor", noise)
    generator = _generator("make_xor", seed)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    X = corners[np.arange(n_samples) % 4]
    y = (X[:, 0] != X[:, 1]).astype(np.intp)
    return _finish(X, y, generator, shuffle, noise if noise else None, "make_xor")


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's handwritten digits: X of shape (1797, 1, 8, 8), one channel of 8x8 pixels
    per image scaled from 0..16 to [0, 1], and y the digits 0-9 they show (about 180 each).

    The images come with scikit-learn (a copy of the UCI test set of optical digits, written
    by 13 of the 43 people who wrote the whole collection), so nothing is downloaded. For an
    MLP, flatten them: ``X.reshape(len(X), -1)`` gives rows of 64 pixels.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ImportError(
            "load_digits needs scikit-learn, which ships the digits: "
            "pip install scikit-learn (or pip install 'micrograd[demo]')"
        ) from None
    digits = sklearn_digits()
    X = np.asarray(digits.images, dtype=np.float64)[:, None, :, :] / 16.0
    return X, np.asarray(digits.target, dtype=np.intp)


def train_test_split(X, y, test_size: float = 0.2, seed=0, stratify: bool = True):
    """(X_train, X_test, y_train, y_test): the samples split at random, deterministically for
    a seed, test_size of them (a fraction in (0, 1), rounded up, or a count) held out.

    stratify (the default) holds out each class in proportion: each class's count in the test
    set is its exact share, n_test * class size / n, rounded down or up (the samples left
    after rounding down go to the largest remainders, the larger class first on a tie; among
    tied classes of one sample, labels that occur once, which go to the test set is drawn at
    random).
    Within each side the samples come in a random order.
    """
    X, y = _arrays("train_test_split", X, y)
    if X.ndim == 0 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(
            "train_test_split: X and y must hold one row and one label per sample, got "
            f"shapes {X.shape} and {y.shape}"
        )
    n = len(y)
    n_test = _test_count(test_size, n)
    generator = _generator("train_test_split", seed)
    if _flag("train_test_split", "stratify", stratify):
        if y.dtype.kind in "fc" and np.isnan(y).any():  # y == nan never holds: dropped
            raise ValueError(
                f"train_test_split: y holds nan (sample {int(np.flatnonzero(np.isnan(y))[0])}),"
                " which no class equals; give it a label, or pass stratify=False"
            )
        test = _stratified_test(y, n_test, generator)
    else:
        test = generator.permutation(n)[:n_test]
    is_test = np.zeros(n, dtype=bool)
    is_test[test] = True
    train, test = np.flatnonzero(~is_test), np.flatnonzero(is_test)
    generator.shuffle(train)
    generator.shuffle(test)
    return X[train], X[test], y[train], y[test]


def _test_count(test_size: object, n: int) -> int:
    """How many of n samples test_size holds out: at least one, and at least one left."""
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        count = int(test_size)
    elif _is_finite_number(test_size) and 0 < test_size < 1:
        count = math.ceil(test_size * n)
    else:
        raise ValueError(
            "train_test_split: test_size must be a fraction in (0, 1) or a count of "
            f"samples, got {test_size!r}"
        )
    if not 1 <= count <= n - 1:
        raise ValueError(
            f"train_test_split: test_size {test_size!r} holds out {count} of {n} samples; "
            "each side needs at least one"
        )
    return count


def _stratified_test(y: np.ndarray, n_test: int, generator) -> np.ndarray:
    """The positions of n_test samples, each class in its share (see train_test_split)."""
    try:
        classes, counts = np.unique(y, return_counts=True)
    except TypeError:  # None, or numbers and text mixed: labels that do not sort
        kinds = sorted({type(label).__name__ for label in y.tolist()})
        raise TypeError(
            f"train_test_split: stratify needs labels of one kind that sort, got labels of "
            f"types {', '.join(kinds)}; give every sample such a label, or pass stratify=False"
        ) from None
    exact = counts * n_test / len(y)
    share = np.floor(exact).astype(np.intp)
    # the samples left over: to the largest remainders, on a tie the larger (then first) class
    key = [(share[k] - exact[k], -counts[k]) for k in range(len(classes))]
    order = sorted(range(len(classes)), key=lambda k: (key[k], k))
    left = n_test - int(share.sum())
    if (
        0 < left < len(order)
        and key[order[left - 1]] == key[order[left]]
        and counts[order[left]] == 1
    ):
        # classes of one sample tied at the cut (all of them, for labels that are all
        # different): which go to the test set is drawn, not the lowest labels
        tied = [k for k in order if key[k] == key[order[left]]]
        start = order.index(tied[0])
        order[start : start + len(tied)] = generator.permutation(tied).tolist()
    share[order[:left]] += 1
    return np.concatenate(
        [
            generator.permutation(np.flatnonzero(y == label))[:size]
            for label, size in zip(classes, share)
        ]
    )


def _arrays(owner: str, X, y) -> tuple[np.ndarray, np.ndarray]:
    """X and y as numpy arrays, or a ValueError naming owner: rows of different lengths were
    numpy's own 'setting an array element with a sequence'."""
    arrays = []
    for name, data in (("X", X), ("y", y)):
        try:
            arrays.append(np.asarray(data))
        except ValueError:
            raise ValueError(
                f"{owner}: {name} must be rectangular, one row per sample of the same shape, "
                f"got rows of different lengths"
            ) from None
    return arrays[0], arrays[1]


def batches(
    X, y, batch_size: int | None = None, shuffle: bool = False, seed=None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(X[i:i+batch_size], y[i:i+batch_size]) over the data, in a seeded random order if
    shuffle. Every argument is checked at the call, not at the first batch."""
    X, y = _arrays("batches", X, y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(
            f"batches: X and y must hold a row and a label per sample, got shapes {X.shape} "
            f"and {y.shape}"
        )
    if len(X) != len(y):
        raise ValueError(f"batches: X has {len(X)} samples but y has {len(y)}")
    if len(X) == 0:
        raise ValueError("batches: X and y hold no samples")
    size = len(X) if batch_size is None else batch_size
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise TypeError(f"batches: batch_size must be a positive integer, got {batch_size!r}")
    if size < 1:
        raise ValueError(f"batches: batch_size must be a positive integer, got {batch_size!r}")
    generator = _generator("batches", seed)
    return _batches(X, y, int(size), generator if _flag("batches", "shuffle", shuffle) else None)


def _batches(X: np.ndarray, y: np.ndarray, size: int, generator) -> Iterator:
    if generator is None:  # slices: views of the data, no copy
        for start in range(0, len(X), size):
            yield X[start : start + size], y[start : start + size]
        return
    order = generator.permutation(len(X))
    for start in range(0, len(X), size):
        chosen = order[start : start + size]
        yield X[chosen], y[chosen]
