"""Running a plan over a batch: one numpy call per step, applying the ops' own rules.

``V`` holds the per-sample numbers, one row per input, per constant read as a row and per op
result, one column per sample. ``S`` holds what every sample shares: the parameters and the
constants. A step reads rows of V and entries of S (broadcast over the samples) and writes
its results to a block of rows. Backward walks the steps in reverse with ``G`` (the
gradients of V's rows) and ``GS`` (of S's entries: a parameter's gradient is the sum, over
the samples, of what reaches it). This is the only place besides the eager engine's walk
that applies the ops' rules, and it checks, as the walk does, one gradient per input.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from .arraymath import ARRAY, BIG
from .kernels import _NEGATIVE_ZERO, Kernel, _bits, _has_negative_zero, kernel_of
from .ops import EXP, LOG, STOP_GRADIENT, SUB, RuleError

__all__ = [
    "LinearStep", "LogSoftmaxStep", "OpStep", "RowSet", "Runner", "StaticSet", "SumStep",
    "rows_index",
]  # fmt: skip


def rows_index(rows):
    """An index for rows of a 2-D array (or entries of a 1-D one): a slice (a view, no copy)
    when they are evenly spaced, else an integer array."""
    if len(rows) == 0:
        return np.array(rows, dtype=np.intp)
    rows = [int(row) for row in rows]
    first, count = rows[0], len(rows)
    step = rows[1] - first if count > 1 else 1
    if step != 0 and all(row == first + k * step for k, row in enumerate(rows)):
        stop = first + count * step
        return slice(first, stop if stop >= 0 else None, step)
    return np.array(rows)


class RowSet:
    """A list of rows of V, read and added into the cheapest way: a slice (a view) when
    evenly spaced; that slice tiled when the list repeats it (every neuron of a layer reads
    the same inputs); else integer indexing. Gradients of repeated rows (an image's pixel in
    every window of a convolution) are added in rounds, each round taking every row at most
    once, so that plain indexed adds do it; a row read many times goes by reduceat.

    ``wanted``, one per entry, may say which entries' gradients matter: the others (data, a
    convolution's zero padding) are left out of the repeated rows' adds.

    With ``blocks`` (an OpStep's input), rows that run in equal blocks evenly spaced (max
    pooling's windows, each channel's part of them) are read as a view of shape (blocks,
    block size, batch), not gathered: ``shape`` is then (blocks, block size), the shape the
    step computes in (see OpStep)."""

    def __init__(
        self, rows: list[int], wanted: list[bool] | None = None, blocks: bool = False
    ) -> None:
        self.rows = list(rows)
        self.count = len(rows)
        period = next((k for k in range(1, len(rows)) if rows[k] == rows[0]), len(rows))
        self.tiles = len(rows) // period if rows == rows[:period] * (len(rows) // period) else 1
        self.period = period if self.tiles > 1 else len(rows)
        self.index = rows_index(rows[: self.period])
        if self.tiles > 1 and not isinstance(self.index, slice):
            self.tiles, self.period, self.index = 1, len(rows), np.array(rows)
        self.repeated = self.tiles == 1 and len(set(rows)) < len(rows)
        self.sole_reader = False  # set by the layout: write gradients, do not add them
        # (first row, blocks, the rows from one block's start to the next's, block size)
        self.blocks = _blocks(self.rows) if blocks and self.tiles == 1 else None
        self.shape = None if self.blocks is None else (self.blocks[1], self.blocks[3])
        if self.repeated:
            self._plan_repeated_adds(wanted)

    def _plan_repeated_adds(self, wanted: list[bool] | None) -> None:
        """rounds: (entries, their rows) with no row twice in a round; many: what is left to
        reduceat, the entries of rows read more than ROUNDS times (entries, starts, rows)."""
        seen: dict[int, int] = {}
        rounds: list[list[int]] = [[] for _ in range(ROUNDS)]
        many: list[int] = []
        for entry, row in enumerate(self.rows):
            if wanted is not None and not wanted[entry]:
                continue
            k = seen[row] = seen.get(row, -1) + 1
            (rounds[k] if k < ROUNDS else many).append(entry)
        heavy = {row for row, k in seen.items() if k >= ROUNDS}
        for entries in rounds:  # a heavy row's every entry goes to reduceat, in order
            many.extend(e for e in entries if self.rows[e] in heavy)
            entries[:] = [e for e in entries if self.rows[e] not in heavy]
        # a round's entries in the order of their rows: no row repeats within a round, so
        # the order changes no sum, and rows that run evenly (a convolution's inner pixels,
        # all read in each of its first rounds) are added to as a slice of G, not gathered
        # and scattered back
        self.rounds = []
        for entries in rounds:
            entries.sort(key=lambda e: self.rows[e])
            if entries:
                rows = [self.rows[e] for e in entries]
                self.rounds.append((np.array(entries), rows_index(rows)))
        self.many = None
        if many:
            order = np.array(sorted(many, key=lambda e: (self.rows[e], e)))
            ordered = np.array(self.rows)[order]
            starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
            self.many = (order, starts, ordered[starts])

    def gather(self, V: np.ndarray, S: np.ndarray | None = None, full: bool = False):
        """The rows of V, (count, batch); one repeated row may stay (1, batch) unless full,
        and rows in blocks are a view (*shape, batch) unless full."""
        if self.blocks is not None and not full:
            return _block_view(V, self.blocks)
        if self.tiles == 1 or (self.period == 1 and not full):
            return V[self.index]
        tiled = np.broadcast_to(V[self.index], (self.tiles, self.period, V.shape[1]))
        return tiled.reshape(self.count, V.shape[1])

    @property
    def consecutive(self) -> bool:
        """Whether the rows run one by one, each once and in order (a view of V's rows)."""
        return self.tiles == 1 and isinstance(self.index, slice) and self.index.step in (1, None)

    def rows_to_write(self, G: np.ndarray) -> np.ndarray | None:
        """G's rows as a view to write the gradient into, when add would only copy it there
        (rows no other step reads, evenly spaced or in blocks), else None."""
        if self.sole_reader and self.blocks is not None:
            return _block_view(G, self.blocks)
        if self.sole_reader and self.tiles == 1 and isinstance(self.index, slice):
            return G[self.index]
        return None

    def add(self, G: np.ndarray, GS: np.ndarray, local: np.ndarray) -> None:
        """G[rows] += local, (count, batch), or (*shape, batch) for rows in blocks, summing
        over repeated rows (or G[rows] = local, for rows no other step reads, whose gradient
        is all here)."""
        if self.blocks is not None and local.ndim == 3:
            view = _block_view(G, self.blocks)
            if self.sole_reader:
                view[...] = local
            else:
                view += local
            return
        if self.sole_reader:
            G[self.index] = local
        elif self.tiles > 1:
            G[self.index] += local.reshape(self.tiles, self.period, -1).sum(axis=0)
        elif self.repeated:
            for entries, rows in self.rounds:  # no row twice: an indexed add adds each once
                G[rows] += local[entries]
            if self.many is not None:
                order, starts, rows = self.many
                G[rows] += np.add.reduceat(local[order], starts, axis=0)
        else:
            G[self.index] += local


# A row read more than this many times by one step has its gradients summed by reduceat, in
# one call but slowly (along rows it was most of a convolution's backward): see RowSet.
ROUNDS = 16


def _blocks(rows: list[int]) -> tuple[int, int, int, int] | None:
    """(first, blocks, stride, size) when rows are blocks of size >= 2 consecutive rows,
    each block's start stride rows after the last's (stride > size), two blocks at least,
    and no evenly spaced run (a slice reads those): else None."""
    size = next((k for k in range(1, len(rows)) if rows[k] != rows[k - 1] + 1), len(rows))
    if size < 2 or len(rows) % size or len(rows) == size:
        return None
    first, stride, count = rows[0], rows[size] - rows[0], len(rows) // size
    if stride <= size:
        return None
    expected = [first + b * stride + k for b in range(count) for k in range(size)]
    return (first, count, stride, size) if rows == expected else None


def _block_view(A: np.ndarray, blocks: tuple[int, int, int, int]) -> np.ndarray:
    """The rows of A (rows, batch) in blocks (see _blocks), as a view (blocks, size, batch)."""
    first, count, stride, size = blocks
    stop = first + count * stride
    if stop <= len(A):  # a run of whole strides, reshaped, then each stride's first rows
        return A[first:stop].reshape(count, stride, A.shape[1])[:, :size]
    rows, columns = A.strides
    return np.lib.stride_tricks.as_strided(
        A[first:], (count, size, A.shape[1]), (stride * rows, rows, columns), writeable=True
    )


class StaticSet:
    """A list of entries of S (parameters and constants), read as a column (count, 1) that
    broadcasts over the samples; their gradients are summed over the samples."""

    def __init__(self, positions: list[int]) -> None:
        self.positions = list(positions)
        self.count = len(positions)
        self.index = rows_index(self.positions)
        self.unique = len(set(self.positions)) == self.count

    def gather(self, V: np.ndarray, S: np.ndarray, full: bool = False) -> np.ndarray:
        return S[self.index][:, None]

    def values(self, S: np.ndarray) -> np.ndarray:
        return S[self.index]

    def rows_to_write(self, G: np.ndarray) -> None:
        return None  # parameters' gradients are sums over the samples: always added

    def add(self, G: np.ndarray, GS: np.ndarray, local: np.ndarray) -> None:
        self.add_totals(GS, local.reshape(self.count, -1).sum(axis=1))

    def of_rows(self, rows: list[int], R: int) -> StaticSet:
        """The entries of these rows, the positions being R rows of equal length, r-major."""
        k = self.count // R
        return StaticSet([p for r in rows for p in self.positions[r * k : (r + 1) * k]])

    def add_totals(self, GS: np.ndarray, totals: np.ndarray) -> None:
        """GS[positions] += totals, summing over repeated positions."""
        if self.unique:
            GS[self.index] += totals
        else:
            np.add.at(GS, self.index, totals)


def _rule_failed(op, which: str, error: Exception) -> TypeError:
    return TypeError(
        f"micrograd.compile: op {op.name!r}: its {which} rule failed on arrays "
        f"({type(error).__name__}: {error}). Compiled, a rule runs once on whole arrays: "
        "write it with F's functions (F.exp, F.where(F.plain(a) < 0, ...)), as the rows of "
        "micrograd.ops are, not with math's functions or Python's if"
    )


def _broadcast(op, local, shape: tuple) -> np.ndarray:
    """A gradient a rule gave as a number or a broadcast, at the shape of the step's rows."""
    try:
        return np.broadcast_to(local, shape)
    except ValueError:
        raise ValueError(
            f"micrograd.compile: the derivative of op {op.name!r} returned a gradient of shape "
            f"{np.shape(local)} for arrays of shape {shape}; a rule on arrays returns one "
            "number per sample (or one number for all), as F's functions give them"
        ) from None


def _wrong_count(op, local_grads, inputs: int) -> TypeError:
    return TypeError(
        f"the derivative of op {op.name!r} returned {len(local_grads)} gradients for "
        f"{inputs} inputs; a rule returns exactly one per input"
    )


@dataclass
class OpStep:
    """count instructions of one op, as one call of its rules on arrays: V[out] = op(*sources)
    (by the op's kernel, in fewer passes, where micrograd.kernels has one). A source whose
    rows run in blocks (RowSet.shape) is read as a view where the kernel runs: the step then
    computes in that shape, (blocks, block size, batch), every other array reshaped to it.
    On fewer numbers the rule runs on the blocks gathered, (count, batch), as on any rows:
    numpy is faster on a small contiguous array than on a strided view (a batch of one, 2x)."""

    op: object
    out: slice
    count: int
    sources: list  # RowSet or StaticSet, one per input (one per term for a sum)
    accumulate: list[bool]  # per input: does its gradient matter?
    needed: bool  # does any output's gradient matter?
    instructions: list = field(default_factory=list, repr=False)  # what it runs, for listing
    # out is its input's rows, which it overwrites (Kernel.in_place): the runner needs no
    # more than out to do so; the layout reads it to zero those rows' gradients
    in_place: bool = False
    kernel: Kernel | None = field(init=False, repr=False)
    shape: tuple | None = field(init=False, repr=False)  # (blocks, size), see RowSet

    def __post_init__(self) -> None:
        self.kernel = kernel_of(self.op)
        self._blocked = [getattr(source, "shape", None) is not None for source in self.sources]
        shapes = {source.shape for source, blocked in zip(self.sources, self._blocked) if blocked}
        if len(shapes) > 1:
            raise ValueError(f"OpStep: sources in blocks of different shapes: {shapes}")
        self.shape = shapes.pop() if shapes else None

    def _gather(self, V: np.ndarray, S: np.ndarray, views: bool) -> list:
        """The sources' numbers; those in blocks as views (*shape, batch) if views."""
        return [
            source.gather(V, S, full=blocked and not views)
            for source, blocked in zip(self.sources, self._blocked)
        ]

    def _in_shape(self, arrays: list) -> list:
        """arrays (count, batch), (1, batch) or (count, 1) to broadcast, and block views (or
        None), all in the step's shape (*shape, batch)."""
        return [
            x if x is None or x.ndim == 3
            else x.reshape(1, 1, x.shape[1]) if x.shape[0] == 1
            else x.reshape(*self.shape, x.shape[1])
            for x in arrays
        ]  # fmt: skip

    def _kernel(self, batch: int) -> Kernel | None:
        """The op's kernel, on enough numbers (KERNEL_NUMBERS); else its rule, which gives
        the same bits."""
        return self.kernel if self.count * batch >= KERNEL_NUMBERS else None

    def forward(self, V: np.ndarray, S: np.ndarray, inputs: list, backward: bool):
        """Writes the step's rows of V. Returns what backward reads: the kernel's mask (see
        Kernel) if backward follows, the step's gradient matters and a kernel with a mask
        runs (relu's, first_max's), else None (backward then runs the op's rule)."""
        kernel = self._kernel(V.shape[1])
        views = self.shape is not None and kernel is not None
        values, out = self._gather(V, S, views), V[self.out]
        if views:
            *values, out = self._in_shape([*values, out])
        if kernel is None:
            try:
                out[...] = self.op.forward(ARRAY, *values)
            except RuleError:  # says what the rule returned: as it is
                raise
            except (TypeError, ValueError) as error:
                raise _rule_failed(self.op, "forward", error) from error
            return None
        kernel.forward(out, *values)
        # made now, while out and the inputs are in cache, and kept for backward
        return kernel.mask(out, *values) if backward and self.needed and kernel.mask else None

    def backward(self, V, S, G, GS, mask) -> None:
        if not self.needed:
            return
        g = G[self.out]
        if mask is not None:  # the kernel's select: it needs neither out nor the inputs
            into = [
                source.rows_to_write(G) if wanted else None
                for source, wanted in zip(self.sources, self.accumulate)
            ]
            if self.shape is not None:  # mask has the step's shape (forward ran in it)
                g, *into = self._in_shape([g, *into])
            local_grads = self.kernel.select(g, mask, into)  # a mask: its kernel ran
        else:
            into = [None] * len(self.sources)
            inputs, out = self._gather(V, S, False), V[self.out]
            try:
                local_grads = self.op.derivative(ARRAY, g, out, *inputs)
            except RuleError:  # says what the rule returned: as it is
                raise
            except (TypeError, ValueError) as error:
                raise _rule_failed(self.op, "derivative", error) from error
        if len(local_grads) != len(self.sources):
            raise _wrong_count(self.op, local_grads, len(self.sources))
        shape = g.shape
        for local, source, wanted, written, blocked in zip(
            local_grads, self.sources, self.accumulate, into, self._blocked
        ):
            if wanted and written is None:
                if getattr(local, "shape", None) != shape:  # a rule may give a broadcast or a
                    local = _broadcast(self.op, local, shape)  # number
                if len(shape) == 3 and not blocked:  # the step ran in blocks, these rows not
                    local = local.reshape(self.count, shape[-1])
                source.add(G, GS, local)


# A kernel saves passes over memory, and the branches of the rule's np.where, but makes more
# numpy calls than the rule (its checks for nan and -0.0). On the moons' 16 x 100 relus the
# rule is the faster, and the epoch about 5% shorter; on a relu of 2,048 numbers whose mask
# changes from call to call (mini-batches of 32 of a 64-unit layer), the kernel takes 9 us
# and the rule 17.
KERNEL_NUMBERS = BIG


@dataclass
class SumStep:
    """count sums of the same number of terms: all of them gathered, term by term, into one
    array and summed over the terms, added in order, rounding as the chain of adds did (see
    _sum_in_order). A term is a row of V for each sum, or, at some places in the order, an
    entry of S (a parameter or a constant: the 0 Python's sum() starts from), written into
    the array beside the gathered rows."""

    out: slice
    count: int
    terms: int
    rows: RowSet | None  # the terms that are rows of V, count rows each, term-major
    needed: bool
    instructions: list = field(default_factory=list, repr=False)
    # the terms that are entries of S, count entries each, term-major, and where each kind
    # sits among the terms (positions of row terms, positions of static terms)
    statics: StaticSet | None = None
    places: tuple = ((), ())

    def forward(self, V: np.ndarray, S: np.ndarray, inputs: list, backward: bool):
        shape = (self.terms, self.count, V.shape[1])
        if self.statics is None:
            terms = self.rows.gather(V, full=True).reshape(shape)
        else:
            terms = np.empty(shape)
            row_places, static_places = self.places
            if self.rows is not None:
                terms[row_places] = self.rows.gather(V, full=True).reshape(-1, *shape[1:])
            terms[static_places] = self.statics.values(S).reshape(-1, self.count, 1)
        _sum_in_order(terms, out=V[self.out])

    def backward(self, V, S, G, GS, saved) -> None:
        if not self.needed:
            return
        rows, batch, g = self.rows, G.shape[1], G[self.out]  # every term gets the sum's
        if self.statics is not None:  # summed over the samples, once per static term
            totals = np.sum(g, axis=1)
            self.statics.add_totals(GS, np.tile(totals, len(self.places[1])))
        if rows is None:
            return
        n = rows.count // self.count  # the terms that are rows
        into = rows.rows_to_write(G)
        if into is not None:  # each term's rows, all of it
            into.reshape(n, self.count, batch)[...] = g
            return
        local = np.broadcast_to(g, (n, self.count, batch))
        rows.add(G, GS, local.reshape(n * self.count, batch))


def _sum_in_order(terms: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """terms summed along their first axis one after another, as a chain of adds does it.
    np.sum adds so where each term is several numbers (its loop runs along them, one term
    after another), starting from -0.0 here: from its default, +0.0, terms that are all
    -0.0 would sum to +0.0, where the chain, starting from the first term, gives -0.0; and
    -0.0 + t is t for every t. A term of one number each (one sum of a batch of one sample)
    np.sum adds pairwise, which rounds otherwise: there np.add.accumulate, which adds in
    order by definition, gives the last running sum."""
    if terms[0].size != 1:
        return np.sum(terms, axis=0, out=out, initial=-0.0)
    total = np.add.accumulate(terms.reshape(len(terms)))[-1]
    if out is None:
        return np.full(terms.shape[1:], total)
    out[...] = total
    return out


@dataclass
class LogSoftmaxStep:
    """log_softmax of the logits' rows (micrograd.plan.LogSoftmax), as one step: each op of
    the traced pattern applies its rule once to the whole (logits, batch) block, the shifts d
    and exps e live in the step's own arrays, not in V, and the rows add up as their steps
    would (the sum and the log's gradient over the rows in order). out holds the count
    outputs the trace reads, kept of them.

    The tree of maxima is one np.max over the rows. The pairing of a tree can only pick which
    nan, or which zero's sign, wins, and neither shows: a nan makes every output nan, and a
    zero's sign changes d_i = z_i - m only in the sign of a zero, whose exp is 1 either way,
    while l = log(sum e) is at least log 2 when two zeros tie for the max, so every output
    d_i - l and gradient is the tree's."""

    out: slice  # a row per output kept (all, unless the trace reads only some)
    count: int
    logits: RowSet
    kept: slice | np.ndarray  # which of the count outputs are rows of out
    needed: bool
    instructions: list = field(default_factory=list, repr=False)  # the pattern's, all
    slots: tuple = field(default=((), ()), repr=False)  # (logits, outputs), for listing

    @property
    def sources(self) -> list[RowSet]:
        return [self.logits]

    def forward(self, V: np.ndarray, S: np.ndarray, inputs: list, backward: bool):
        z = self.logits.gather(V, full=True)
        shift = STOP_GRADIENT.forward(ARRAY, z.max(axis=0))
        d = SUB.forward(ARRAY, z, shift)
        e = EXP.forward(ARRAY, d)
        total = _sum_in_order(e)  # row after row, as SUM's chain of adds
        log = LOG.forward(ARRAY, total)
        V[self.out] = SUB.forward(ARRAY, d[self.kept], log)
        return z, shift, d, e, total, log

    def backward(self, V, S, G, GS, saved) -> None:
        if not self.needed:
            return
        z, shift, d, e, total, log = saved
        to_kept, to_log = SUB.derivative(ARRAY, G[self.out], V[self.out], d[self.kept], log)
        (to_total,) = LOG.derivative(ARRAY, _sum_in_order(to_log), log, total)
        (to_d,) = EXP.derivative(ARRAY, to_total, e, d)  # every term gets the sum's gradient
        to_d[self.kept] += to_kept
        to_z, _ = SUB.derivative(ARRAY, to_d, d, z, shift)  # the shift's: stopped
        self.logits.add(G, GS, to_z)  # written, where this step alone reads the logits


@dataclass
class LinearStep:
    """A bank of R x C sums lifted into one matrix product: out[r, c] = bias[r] +
    sum_t W[r, t] * X[c, t], the weights W parameters shared by the C columns (C is 1 for a
    dense layer; the positions of an image for a convolution), X per-sample rows of V."""

    out: slice  # R * C rows, r-major
    shape: tuple[int, int, int]  # (R, C, T)
    weights: StaticSet  # R * T positions of S, r-major
    columns: RowSet  # C * T rows of V, t-major: gathered, they are X2 (T, C * batch) as is
    bias: StaticSet | None  # R * n positions of S, r-major (n bias terms per sum)
    grad_columns: bool  # do the columns' own gradients matter (are they not just data)?
    needed: bool = True  # does any output's gradient matter?
    instructions: list = field(default_factory=list, repr=False)  # the sums it computes
    terms: tuple = field(default=((), ()), repr=False)  # (weight slots, column slots)
    direct: tuple | None = None  # (argument, positions): columns read from the input itself
    # folded: the bias is W's last column (weights holds R * (T + 1) positions, each row's
    # T weights, then its bias) and X2 a last row of ones, so that the product adds it. A
    # dense layer's X2 is then a view: its inputs are a run of V's rows and the layout puts
    # a row of ones after them (ones_follow); a convolution's is gathered into an array
    # kept for the step, its ones written once
    folded: bool = False
    ones_follow: bool = False
    # the rows of W whose sums' gradient matters, if not all: backward runs over these
    # alone (where a second output reads the others, their zero gradient times an input
    # inf would give their weights nan, and the eager walk never visits them)
    reach: list[int] | None = None
    _kept: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rows = self.reach
        R = self.shape[0]
        self._reached = (  # (W's rows, their weights, their bias terms)
            (slice(None), self.weights, self.bias) if rows is None
            else (rows_index(rows), self.weights.of_rows(rows, R),
                  self.bias.of_rows(rows, R) if self.bias is not None else None)
        )  # fmt: skip

    def forward(self, V: np.ndarray, S: np.ndarray, inputs: list, backward: bool):
        R, C, T = self.shape
        batch = V.shape[1]
        if self.direct is not None:  # the columns are an argument's numbers: read it as it is
            argument, positions = self.direct
            X2 = inputs[argument][:, positions].T  # a transposed view: BLAS reads it so
        elif self.ones_follow:  # the columns' rows and the ones row after them
            X2 = V[self.columns.index.start : self.columns.index.stop + 1]
        elif self.folded:
            X2 = self._columns_and_ones(batch)
            # mode "clip" never clips (every row is in V); numpy's default would buffer out
            np.take(V, self.columns.index, axis=0, out=X2[:T].reshape(T * C, batch), mode="clip")
        else:
            X2 = self.columns.gather(V, full=True).reshape(T, C * batch)
        Y = V[self.out].reshape(R, C * batch)  # a view: the product is written in place
        np.matmul(self.weights.values(S).reshape(R, -1), X2, out=Y)
        if self.bias is not None:
            bias = self.bias.values(S)
            Y += (bias if self.bias.count == R else bias.reshape(R, -1).sum(axis=1))[:, None]
        return X2

    def sign_zeros(self, V: np.ndarray, S: np.ndarray, X2: np.ndarray) -> None:
        """After forward, -0.0 where a sum's terms and bias terms are all -0.0: the eager
        chain of adds gives -0.0 there, the product (BLAS's or numpy's) +0.0, and 1 / -0.0
        is -inf. The runner calls this only when a bias is -0.0 or a product has none: any
        other bias (+0.0, as layers start, or any number) makes the sum +0.0 too."""
        R, C, T = self.shape
        Y = V[self.out].reshape(R, C * V.shape[1])
        W = self.weights.values(S).reshape(R, -1)
        bias = (self.bias.values(S).reshape(R, -1) if self.bias is not None
                else W[:, T:] if self.folded else None)  # fmt: skip
        rows = None if bias is None else (_bits(bias) == _NEGATIVE_ZERO).all(axis=1)
        if rows is not None and not rows.any():
            return
        r, c = np.nonzero(Y == 0)
        if rows is not None:
            r, c = r[rows[r]], c[rows[r]]
        for start in range(0, len(r), ZERO_BLOCK):  # T numbers for each zero, in blocks
            rk, ck = r[start : start + ZERO_BLOCK], c[start : start + ZERO_BLOCK]
            terms = W[rk, :T] * X2[:T, ck].T
            negative = (_bits(terms) == _NEGATIVE_ZERO).all(axis=1)
            Y[rk[negative], ck[negative]] = -0.0

    def _columns_and_ones(self, batch: int) -> np.ndarray:
        """X2's array for this thread and batch size, (T + 1, C * batch), its last row ones."""

        def make() -> np.ndarray:
            R, C, T = self.shape
            columns = np.empty((T + 1, C * batch))
            columns[T] = 1.0
            return columns

        return _kept_for(self._kept, batch, make)

    def backward(self, V, S, G, GS, X2) -> None:
        if not self.needed:  # no gradient arrives: its rows in G were never written
            return
        R, C, T = self.shape
        batch = V.shape[1]
        rows, weights, bias = self._reached
        dY = G[self.out].reshape(R, C * batch)[rows]
        R = dY.shape[0]
        if self.ones_follow and dY.size >= BIG:  # the product with the ones row, as a
            # column of its own (see _bias_gradient); on few numbers one product is faster,
            # its fewer calls the cost (the moons' last layer, 1 x 100: 5.5 us against 8.7). BIG
            # is the kernels' threshold, not a measured crossover: it parts the moons' 1,600
            # numbers from the digits' 115,000
            totals = np.empty((R, T + 1))
            totals[:, :T] = _weight_gradient(dY, X2[:T])
            totals[:, T] = _bias_gradient(dY)
            weights.add_totals(GS, totals.ravel())
        else:
            weights.add_totals(GS, _weight_gradient(dY, X2).ravel())
        if bias is not None:  # each of a row's bias terms receives all of it
            totals = _bias_gradient(dY)
            bias.add_totals(GS, totals if bias.count == R else totals.repeat(bias.count // R))
        if self.grad_columns:
            W = weights.values(S).reshape(R, -1)[:, :T]
            into = self.columns.rows_to_write(G) if C == 1 else None
            if into is not None:
                np.matmul(W.T, dY, out=into)  # straight into the rows
                return
            self.columns.add(G, GS, (W.T @ dY).reshape(T * C, batch))


ZERO_BLOCK = 4096


def _bias_gradient(dY: np.ndarray) -> np.ndarray:
    """dY summed along its rows, as BLAS's product with ones: half the time of
    dY.sum(axis=1) on a layer's rows. A folded dense layer sums its bias so too, apart from
    its weights: OpenBLAS runs 64 x 1797 by 1797 x 65 a third slower than by 1797 x 64."""
    return dY @ np.ones(dY.shape[1])


def _weight_gradient(dY: np.ndarray, X2: np.ndarray) -> np.ndarray:
    """dY @ X2.T: summed over the samples in blocks of WEIGHT_BLOCK columns when the result
    is small and the batch long (a first convolution's few filters of few taps), where
    OpenBLAS runs the whole product 1.7 times slower than its blocks, which stay in cache."""
    columns = dY.shape[1]
    if dY.shape[0] * X2.shape[0] > 256 or columns < 2 * WEIGHT_BLOCK:
        return dY @ X2.T
    total = dY[:, :WEIGHT_BLOCK] @ X2[:, :WEIGHT_BLOCK].T
    for start in range(WEIGHT_BLOCK, columns, WEIGHT_BLOCK):
        total += dY[:, start : start + WEIGHT_BLOCK] @ X2[:, start : start + WEIGHT_BLOCK].T
    return total


WEIGHT_BLOCK = 4096


# A pass holds a (rows x samples) array of values and one of gradients; a big batch runs in
# chunks of samples so that the rows a pass uses of each array (Plan.rows_in_use) stay near
# this many numbers (4 MB). Smaller is faster up to a point: each step's temporaries (some
# rows of the chunk) then come from the heap, reused, rather than from fresh pages the
# kernel must fault in, and stay in cache; the digits CNN runs fastest at about 200 images a
# chunk (100 and 400 were slower). The digits MLPs' 1,797 samples stay one chunk: a chunk
# more costs every step's Python call. The rows of inputs a first dense layer reads from its
# argument itself do not count: on 784 inputs, counting them made chunks of 547 samples,
# and the epoch a quarter longer than with the 3,030 the rows in use allow.
CHUNK_NUMBERS = 1 << 19


def _kept_for(kept: dict, batch: int, make):
    """kept's arrays for this thread and batch size, made by make() the first time and reused
    after (a few sizes at most: the last chunk, a test set). A thread uses its own, and gets
    them from here even if another thread clears the dict meanwhile."""
    key = (threading.get_ident(), batch)
    arrays = kept.get(key)
    if arrays is None:
        if len(kept) > 8:
            kept.clear()
        arrays = kept[key] = make()
    return arrays


class Runner:
    """A plan (micrograd.plan.Plan) run over arrays: forward, then backward from a seed."""

    def __init__(self, plan) -> None:
        self.plan = plan
        self._buffers: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # batch -> (V, G)
        # where the parameters sit in S, as a slice when they are in order (they usually
        # are): writing and reading them is then a copy, not a gather
        self.parameters_at = rows_index(plan.parameter_positions)
        # does a product sum without bias terms? Then every pass looks for -0.0 sums (see
        # LinearStep.sign_zeros), else only a pass with a -0.0 in S
        self._unbiased = any(
            isinstance(step, LinearStep) and step.bias is None and not step.folded
            for step in plan.steps
        )

    def _arrays(self, batch: int) -> tuple[np.ndarray, np.ndarray]:
        """V and G for this many samples, made once per thread and reused: a fresh array of a
        few MB costs more in page faults than the pass that fills it. V's constant rows are
        written as it is made: no step writes them."""
        plan = self.plan

        def make() -> tuple[np.ndarray, np.ndarray]:
            V = np.empty((plan.n_rows, batch))
            V[plan.constant_rows] = plan.constant_row_values[:, None]
            return V, np.empty_like(V)

        return _kept_for(self._buffers, batch, make)

    def statics(self, parameters: np.ndarray) -> np.ndarray:
        """S: the parameters' values (in the program's order) and the constants, in place."""
        S = np.empty(self.plan.n_static)
        S[self.parameters_at] = parameters
        S[self.plan.constant_positions] = self.plan.constants
        return S

    def forward(self, arrays: list[np.ndarray], batch: int, S: np.ndarray, backward: bool):
        """(outputs (n_outputs, batch), what backward needs), for one chunk (see run). Every
        step's forward takes (V, S, the arguments, whether backward follows) and returns what
        its own backward reads."""
        plan = self.plan
        V = self._arrays(batch)[0]
        inputs = [array.reshape(batch, -1) for array in arrays]
        for argument, rows, positions in plan.input_rows:
            V[rows] = inputs[argument][:, positions].T
        # one look at all of S (a bias of -0.0 is rare, a -0.0 elsewhere in S rarer still)
        if self._unbiased or _has_negative_zero(S):  # a sum may be -0.0: each product's
            saved = []  # are looked at
            for step in plan.steps:
                saved.append(step.forward(V, S, inputs, backward))
                if isinstance(step, LinearStep):
                    step.sign_zeros(V, S, saved[-1])
        else:
            saved = [step.forward(V, S, inputs, backward) for step in plan.steps]
        return V[plan.output_rows], (V, S, saved)

    def backward(self, state, seed) -> np.ndarray:
        """GS: the gradient of sum_i seed * output_0[i] for every entry of S."""
        V, S, saved = state
        G = self._arrays(V.shape[1])[1]
        for rows in self.plan.zeroed_rows:
            G[rows] = 0.0
        G[self.plan.output_rows[0]] = seed
        GS = np.zeros(self.plan.n_static)
        for step, kept in zip(reversed(self.plan.steps), reversed(saved)):
            step.backward(V, S, G, GS, kept)
        return GS

    def chunk(self) -> int:
        """Samples per chunk, so that the rows a pass uses stay near CHUNK_NUMBERS numbers."""
        return max(1, CHUNK_NUMBERS // max(1, self.plan.rows_in_use))

    def run(self, arrays: list[np.ndarray], size: int, S: np.ndarray, seed):
        """(outputs (n_outputs, size), GS or None): the batch forward and, unless seed is
        None, backward, in chunks of bounded memory; the chunks' gradients are added in
        their order. (Threads over chunks were measured slower: numpy's BLAS already uses
        every core, and the steps' Python time runs one thread at a time.) The caller
        silences numpy's warnings (CompiledFunction._run): the numbers follow IEEE (inf,
        nan), as the float rules do."""
        piece = self.chunk()
        results = []
        for start in range(0, size, piece):
            stop = min(size, start + piece)
            chunk = [a[start:stop] for a in arrays]
            out, state = self.forward(chunk, stop - start, S, backward=seed is not None)
            results.append((out, self.backward(state, seed) if seed is not None else None))
        outputs = (
            results[0][0] if len(results) == 1 else np.concatenate([out for out, _ in results], 1)
        )
        if seed is None:
            return outputs, None
        GS = results[0][1]
        for _, more in results[1:]:  # inf + -inf is nan, as in the eager sum
            GS = GS + more
        return outputs, GS
