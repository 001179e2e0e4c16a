"""Convolution and pooling, on images given as nested lists ``[channels][height][width]``.

An image is numbers or Values (a numpy array of that shape works too), and every module here
returns one: ``Conv2d`` a feature map per filter, the pools a smaller map per channel.
``Flatten`` turns the last map into the flat list a ``Layer`` reads. The conventions are
``torch.nn``'s: the names and argument order, the weight layout ``(out, in, kh, kw)``, the
output size ``(size + 2 * padding - kernel) // stride + 1``, and PyTorch's initialisation.

A convolution is a neuron per output position that shares its weights with every other
position: ``out[r][y][x] = b[r] + sum_{c,i,j} w[r][c][i][j] * in[c][y*s + i][x*s + j]``,
written here exactly so, in scalars. micrograd.compile recognises the shared weights and runs
each convolution as one matrix product over all positions and samples.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from micrograd import Value

from .checks import _check_init, _check_rng, _check_size
from .init import initial_bias
from .module import Module

__all__ = ["AvgPool2d", "Conv2d", "Flatten", "MaxPool2d"]


def _pair(owner: str, name: str, value: Any, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints (PyTorch takes both), each at least minimum."""
    values = list(value) if isinstance(value, (list, tuple)) else [value, value]
    if len(values) != 2:
        raise ValueError(f"{owner}: {name} must be an integer or a pair of them, got {value!r}")
    height, width = (_check_size(f"{owner}: {name}", v, minimum) for v in values)
    return height, width


def _is_number(x: object) -> bool:
    return isinstance(x, Value) or (isinstance(x, numbers.Real) and not isinstance(x, bool))


def _listed(x: Any) -> Any:
    """A numpy array as nested lists (a 0-d one as its number); anything else as it is."""
    if hasattr(x, "tolist") and not isinstance(x, Value):  # a 0-d array: its number
        return x.tolist()
    return x


def as_image(owner: str, x: Any, channels: int | None = None) -> list[list[list]]:
    """x as an image [channels][height][width] of numbers or Values, or a ValueError naming
    owner and what is wrong: the nesting, a ragged row, the number of channels."""
    x = _listed(x)
    if not isinstance(x, (list, tuple)) or not x:
        raise ValueError(f"{owner}: expected an image [channels][height][width], got {_what(x)}")
    planes = []
    for c, plane in enumerate(x):
        plane = _listed(plane)  # [image] of a 2-D array, say
        if not isinstance(plane, (list, tuple)) or not plane:
            raise ValueError(
                f"{owner}: expected an image [channels][height][width]; channel {c} is "
                f"{_what(plane)}, not a list of rows"
            )
        plane = [_listed(row) for row in plane]
        rows = [list(row) if isinstance(row, (list, tuple)) else None for row in plane]
        if all(_is_number(row) for row in plane):
            raise ValueError(
                f"{owner}: expected an image [channels][height][width]; channel {c} is a list "
                "of numbers, not of rows: is the channel dimension missing ([image])?"
            )
        if any(row is None for row in rows):
            raise ValueError(f"{owner}: channel {c} holds a row that is not a list of numbers")
        planes.append(rows)
    height, width = len(planes[0]), len(planes[0][0])
    for c, rows in enumerate(planes):
        lengths = [len(row) for row in rows]
        short = next((r for r, n in enumerate(lengths) if n != width), None)
        if len(rows) != height or short is not None:
            where = (
                f"channel {c} has {len(rows)} rows" if len(rows) != height
                else f"row {short} of channel {c} has {lengths[short]} numbers"
            )  # fmt: skip
            raise ValueError(
                f"{owner}: ragged image: its first row is {width} numbers and its first "
                f"channel {height} rows, but {where}"
            )
        if not all(_is_number(v) for row in rows for v in row):
            if any(isinstance(v, (list, tuple)) for row in rows for v in row):
                raise ValueError(
                    f"{owner}: expected one image [channels][height][width]; this nests one "
                    "level deeper: a batch of images? (a module takes one image at a time)"
                )
            bad = next(v for row in rows for v in row if not _is_number(v))
            raise ValueError(f"{owner}: channel {c} holds {_what(bad)}, not a number")
    if width == 0:
        raise ValueError(f"{owner}: the image is {len(planes)}x{height}x0")
    if channels is not None and len(planes) != channels:
        raise ValueError(
            f"{owner}: expected {channels} channels, got an image of {len(planes)} "
            f"({len(planes)}x{height}x{width})"
        )
    return planes


def _what(x: object) -> str:
    return f"an empty {type(x).__name__}" if isinstance(x, (list, tuple)) else repr(x)[:60]


def _output_size(owner: str, size: tuple, kernel: tuple, stride: tuple, padding=(0, 0)):
    padded = (size[0] + 2 * padding[0], size[1] + 2 * padding[1])
    if kernel[0] > padded[0] or kernel[1] > padded[1]:
        raise ValueError(
            f"{owner}: the kernel {kernel[0]}x{kernel[1]} is larger than the "
            f"{'padded ' if any(padding) else ''}input {padded[0]}x{padded[1]}"
        )
    return tuple((p - k) // s + 1 for p, k, s in zip(padded, kernel, stride))


class Conv2d(Module):
    """out[r] = bias[r] + the sum over the channels c of weight[r][c] slid over in[c]
    (torch.nn.Conv2d)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        *,
        init: str | Callable = "pytorch",
        rng=None,
    ) -> None:
        self.in_channels = _check_size("Conv2d: in_channels", in_channels)
        self.out_channels = _check_size("Conv2d: out_channels", out_channels)
        self.kernel_size = _pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = _pair("Conv2d", "stride", stride, 1)
        self.padding = _pair("Conv2d", "padding", padding, 0)
        draw, rng = _check_init("Conv2d", init), _check_rng("Conv2d", rng)
        kh, kw = self.kernel_size
        fan_in, fan_out = self.in_channels * kh * kw, self.out_channels * kh * kw
        self.weight = [
            [[[Value(draw(fan_in, fan_out, rng)) for _ in range(kw)] for _ in range(kh)]
             for _ in range(self.in_channels)]
            for _ in range(self.out_channels)
        ]  # fmt: skip
        self.bias = [Value(initial_bias(draw, fan_in, fan_out, rng)) for _ in self.weight]

    def __call__(self, x) -> list[list[list[Value]]]:
        """One feature map per filter: [out_channels][out_height][out_width]."""
        image = as_image("Conv2d", x, self.in_channels)
        (ph, pw), (sh, sw), (kh, kw) = self.padding, self.stride, self.kernel_size
        size = (len(image[0]), len(image[0][0]))
        out_h, out_w = _output_size("Conv2d", size, self.kernel_size, self.stride, self.padding)
        width = size[1] + 2 * pw
        # padding is a plain 0.0: w * 0.0 keeps every position's sum of the same shape
        padded = [
            [[0.0] * width for _ in range(ph)]
            + [[0.0] * pw + row + [0.0] * pw for row in plane]
            + [[0.0] * width for _ in range(ph)]
            for plane in image
        ]
        taps = [(c, i, j) for c in range(self.in_channels) for i in range(kh) for j in range(kw)]
        maps = []
        for w_r, b_r in zip(self.weight, self.bias):
            weights = [w_r[c][i][j] for c, i, j in taps]
            maps.append([
                [sum([w * padded[c][y * sh + i][x * sw + j]
                      for w, (c, i, j) in zip(weights, taps)], b_r)  # b + w0*x0 + w1*x1 ...
                 for x in range(out_w)]
                for y in range(out_h)
            ])  # fmt: skip
        return maps

    def output_shape(self, *shape: int, **sizes: int) -> tuple[int, int, int]:
        """(channels, height, width) of the output for an input of shape (channels, height,
        width), as the pools' output_shape takes it (so a model's shapes chain), or of
        (height, width), given by position or by name."""
        if sizes and set(sizes) <= {"channels", "height", "width"} and not shape:
            shape = tuple(sizes[k] for k in ("channels", "height", "width") if k in sizes)
            sizes = {}
        if sizes:
            raise TypeError(f"Conv2d.output_shape: unexpected arguments {sorted(sizes)}")
        if len(shape) == 3:
            if shape[0] != self.in_channels:
                raise ValueError(
                    f"Conv2d.output_shape: an input of {shape[0]} channels, where this takes "
                    f"{self.in_channels}"
                )
            shape = shape[1:]
        if len(shape) != 2:
            raise TypeError(
                "Conv2d.output_shape: expected (channels, height, width) or (height, width), "
                f"got {shape!r}"
            )
        out = _output_size("Conv2d", shape, self.kernel_size, self.stride, self.padding)
        return (self.out_channels, *out)

    def config(self) -> dict:
        """The constructor arguments, for saving (see nn.serialize)."""
        return {
            "type": "Conv2d",
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": list(self.padding),
        }

    @classmethod
    def parameter_count(cls, config: dict) -> int | None:
        sizes = [config.get("in_channels"), config.get("out_channels")]
        kernel = config.get("kernel_size")
        kernel = kernel if isinstance(kernel, list) and len(kernel) == 2 else [kernel] * 2
        if not all(type(n) is int and n >= 1 for n in sizes + kernel):
            return None
        return sizes[1] * (sizes[0] * kernel[0] * kernel[1] + 1)

    def _units(self, name: str) -> dict[Value, str]:
        """A unit per filter: its weights and its bias."""
        units = {}
        for r, (w_r, b_r) in enumerate(zip(self.weight, self.bias)):
            unit = f"{name}.filters.{r}"
            units.update({w: unit for plane in w_r for row in plane for w in row})
            units[b_r] = unit
        return units

    def _summary(self) -> str:
        return (
            f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding})"
        )


class _Pool(Module):
    """What the two pools share: a kernel, a stride (the kernel's, by default), windows."""

    def __init__(
        self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
    ) -> None:
        name = type(self).__name__
        self.kernel_size = _pair(name, "kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _pair(name, "stride", stride, 1)

    def _image_and_size(self, x) -> tuple[list, int, int]:
        """(x as an image, the output's height and width), or the module's ValueError."""
        name = type(self).__name__
        image = as_image(name, x)
        size = (len(image[0]), len(image[0][0]))
        return image, *_output_size(name, size, self.kernel_size, self.stride)

    def _windows(self, x) -> list[list[list[list]]]:
        """Every window of every channel, [channel][y][x] -> its numbers, row by row."""
        image, out_h, out_w = self._image_and_size(x)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        return [
            [[[plane[y * sh + i][x * sw + j] for i in range(kh) for j in range(kw)]
              for x in range(out_w)] for y in range(out_h)]
            for plane in image
        ]  # fmt: skip

    def output_shape(self, channels: int, height: int, width: int) -> tuple[int, int, int]:
        """(channels, height, width) of the output for an input of this shape."""
        out = _output_size(type(self).__name__, (height, width), self.kernel_size, self.stride)
        return (channels, *out)

    def config(self) -> dict:
        """The constructor arguments, for saving (see nn.serialize)."""
        kernel, stride = list(self.kernel_size), list(self.stride)
        return {"type": type(self).__name__, "kernel_size": kernel, "stride": stride}

    @classmethod
    def from_fields(cls, fields: dict) -> Module:
        return cls(**fields)

    @classmethod
    def parameter_count(cls, config: dict) -> int | None:
        return 0

    def _summary(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride})"


def _lift(x) -> Value:
    return x if isinstance(x, Value) else Value(x)


class MaxPool2d(_Pool):
    """The largest number of each window (torch.nn.MaxPool2d): on a tie the first, in row
    by row order, takes all the gradient, as in PyTorch.

    A window's maximum is taken along each of its rows, then down the window: the first
    largest of the firsts of each row is the window's first largest, row by row. The rows'
    maxima are made for the whole image first (windows that overlap share them), every
    window's first row, then every second one, and so on. micrograd.compile then reads
    the numbers each level pairs as blocks of rows (the convolution before it is laid out
    for the first level, see micrograd.layout), not one by one."""

    def __call__(self, x) -> list[list[list[Value]]]:
        image, out_h, out_w = self._image_and_size(x)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        # by row modulo the stride (the place in a window, where windows do not overlap),
        # then down the image: for 2 x 2 windows the even rows, then the odd ones, so that
        # the second level's pairs are a block of each
        rows_read = sorted({y * sh + i for y in range(out_h) for i in range(kh)},
                           key=lambda r: (r % sh, r))  # fmt: skip
        maps = []
        for plane in image:
            across = {  # image row -> the maximum of its part of each window
                r: [_first_of_largest(plane[r][x * sw : x * sw + kw]) for x in range(out_w)]
                for r in rows_read
            }
            maps.append([
                [_first_of_largest([across[y * sh + i][x] for i in range(kh)])
                 for x in range(out_w)]
                for y in range(out_h)
            ])  # fmt: skip
        return maps


def _first_of_largest(window: list) -> Value:
    """first_max of the window, pair by pair, level by level: on a tie the earlier of a pair
    is kept at each level, so the first largest of the window is, as a left-to-right scan
    keeps it (and a log2(k*k) deep tree compiles into fewer steps than a chain)."""
    level = [_lift(v) for v in window]
    while len(level) > 1:
        pairs = [a.first_max(b) for a, b in zip(level[::2], level[1::2])]
        level = pairs + level[len(pairs) * 2 :]
    return level[0]


class AvgPool2d(_Pool):
    """The mean of each window (torch.nn.AvgPool2d): its sum, divided by its size."""

    def __call__(self, x) -> list[list[list[Value]]]:
        size = float(self.kernel_size[0] * self.kernel_size[1])
        return [[[_total(window) / size for window in row] for row in plane]
                for plane in self._windows(x)]  # fmt: skip


def _total(window: list) -> Value:
    total = _lift(window[0])
    for v in window[1:]:
        total = total + v
    return total


class Flatten(Module):
    """The numbers of an image (or of any nesting of lists) in one list, channel by channel
    and row by row (torch.nn.Flatten, whose default keeps the batch dimension)."""

    def __call__(self, x) -> list:
        flat, stack = [], [x]
        while stack:
            item = _listed(stack.pop())  # a numpy array, at any depth, as lists
            if isinstance(item, (list, tuple)):
                stack.extend(reversed(item))
            elif _is_number(item):
                flat.append(item)
            else:
                raise ValueError(f"Flatten: expected numbers in nested lists, got {item!r}")
        return flat

    def config(self) -> dict:
        """The constructor arguments, for saving (see nn.serialize)."""
        return {"type": "Flatten"}

    @classmethod
    def from_fields(cls, fields: dict) -> Module:
        return cls(**fields)

    @classmethod
    def parameter_count(cls, config: dict) -> int | None:
        return 0
