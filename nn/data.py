"""Toy data sets for classification, and a mini-batch iterator. numpy only.

Every generator returns ``(X, y)``: X a float64 array of shape (n_samples, 2) (or
n_features), y an int array of class labels 0, 1, ... Each is deterministic for a given
``seed`` and draws from ``numpy.random.RandomState(seed)``, the generator scikit-learn uses,
so ``make_moons`` and ``make_circles`` give scikit-learn's points for the same seed.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Iterator

import numpy as np

__all__ = ["make_moons", "make_circles", "make_blobs", "make_spirals", "make_xor", "batches"]


def _generator(seed) -> np.random.RandomState:
    if isinstance(seed, np.random.RandomState):
        return seed
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


def _finish(X, y, generator, shuffle: bool, noise: float | None):
    """Shuffle, then add Gaussian noise: scikit-learn's order of draws."""
    if shuffle:
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
    generator = _generator(seed)
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.vstack(
        [
            np.append(np.cos(t_out), 1 - np.cos(t_in)),
            np.append(np.sin(t_out), 1 - np.sin(t_in) - 0.5),
        ]
    ).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    return _finish(X, y, generator, shuffle, noise)


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
    generator = _generator(seed)
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack(
        [
            np.append(np.cos(t_out), np.cos(t_in) * factor),
            np.append(np.sin(t_out), np.sin(t_in) * factor),
        ]
    ).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    return _finish(X, y, generator, shuffle, noise)


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
    generator = _generator(seed)
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
    return _finish(X, y, generator, shuffle, None)


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
    if not (_is_finite_number(low) and _is_finite_number(high) and low <= high):
        raise ValueError(
            f"make_blobs: box must be two finite numbers (low, high), low <= high, got {box!r}"
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
    generator = _generator(seed)
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
    return _finish(X, y, generator, shuffle, None)


def make_xor(n_samples: int = 4, noise: float = 0.0, seed=None, shuffle: bool = False):
    """The corners of the unit square, labelled x0 XOR x1, cycled to n_samples, plus noise."""
    n_samples = _count("make_xor", n_samples)
    noise = _noise("make_xor", noise)
    generator = _generator(seed)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    X = corners[np.arange(n_samples) % 4]
    y = (X[:, 0] != X[:, 1]).astype(np.intp)
    return _finish(X, y, generator, shuffle, noise if noise else None)


def batches(
    X, y, batch_size: int | None = None, shuffle: bool = False, seed=None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(X[i:i+batch_size], y[i:i+batch_size]) over the data, in a seeded random order if shuffle."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"batches: X has {len(X)} samples but y has {len(y)}")
    size = len(X) if batch_size is None else batch_size
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"batches: batch_size must be a positive integer, got {batch_size!r}")
    if not shuffle:  # slices: views of the data, no copy
        for start in range(0, len(X), size):
            yield X[start : start + size], y[start : start + size]
        return
    order = _generator(seed).permutation(len(X))
    for start in range(0, len(X), size):
        chosen = order[start : start + size]
        yield X[chosen], y[chosen]
