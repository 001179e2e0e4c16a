"""The graph as drawings and exports see it: nodes numbered by topological position, each
with a kind (root, parameter, input, constant, ...) and, for models, the module it belongs to."""

from __future__ import annotations

import html
import math
import reprlib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..backward import local_gradients, topological_order
from ..engine import Value
from ..ops import CONST, LEAF

CURRENT = "#dc2626"  # the node, edges or box of the current backward step
KINDS = ("root", "param", "input", "leaf", "const", "value")
"""Node kinds: the root; a leaf that is a parameter; a leaf that is not (when parameters are
known); a user leaf (when they are not); a constant lifted into the graph; any other Value."""


@dataclass(frozen=True)
class Graph:
    """A numbered view of root's graph: ``nodes[i]`` is the i-th node in topological order."""

    root: Value
    nodes: list[Value]
    index: dict[Value, int]
    kinds: list[str]
    param_names: dict[Value, str | None]
    params: object = None  # what the caller passed: a model can say how its parameters group

    def inputs(self, i: int) -> list[int]:
        """Indices of node i's inputs, in ``_prev`` order, repeats kept."""
        return [self.index[parent] for parent in self.nodes[i]._prev]


def index_graph(root: Value, params: object = None) -> Graph:
    """Number root's graph by topological position (never by id(), so ids are stable)."""
    if not isinstance(root, Value):
        raise TypeError(f"drawing: expected a Value as the root, got {root!r}")
    nodes = topological_order(root)
    index = {node: i for i, node in enumerate(nodes)}
    param_names = named_params(params)
    kinds = [_kind(node, root, param_names, params is not None) for node in nodes]
    return Graph(root, nodes, index, kinds, param_names, params)


def named_params(params: object) -> dict[Value, str | None]:
    """params as {Value: dotted name or None}: from a model's named_parameters() or
    parameters(), a {name: Value} mapping, or an iterable of Values."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        pairs = [(value, name) for name, value in params.named_parameters()]
    elif hasattr(params, "parameters"):
        pairs = [(value, None) for value in params.parameters()]
    elif isinstance(params, Mapping):
        pairs = [(value, name) for name, value in params.items()]
    elif isinstance(params, Iterable):
        pairs = [(value, None) for value in params]
    else:
        raise TypeError(
            f"drawing: params must be a model, a {{name: Value}} mapping or Values, got {params!r}"
        )
    for value, name in pairs:
        if not isinstance(value, Value):
            raise TypeError(f"drawing: params must hold Values, got {value!r}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"drawing: a parameter's name must be a str, got {name!r}")
    return dict(pairs)


def _kind(node: Value, root: Value, param_names: dict, params_known: bool) -> str:
    if node is root:
        return "root"
    if node._op is CONST:
        return "const"
    if node._op is LEAF:
        if not params_known:
            return "leaf"
        return "param" if node in param_names else "input"
    return "value"


def number(x: object) -> float:
    """The float in x: a grad may be a Value after backward(create_graph=True), or a number
    a user set (a numpy one: its .data is a buffer, not the number); an int past float's
    range is an infinity, as it would print."""
    value = x.data if isinstance(x, Value) else x
    try:
        return float(value)
    except OverflowError:  # 10**400
        return math.inf if value > 0 else -math.inf
    except (TypeError, ValueError):
        raise TypeError(
            f"drawing: a .data or .grad must be a number to be drawn, got {reprlib.repr(value)}"
        ) from None


def fmt(x: object) -> str:
    """x to 4 significant digits: 2.000, -0.6667, 1.000e-05, nan, inf."""
    text = f"{number(x):#.4g}"
    return text[:-1] if text.endswith(".") else text


def printable(text: object) -> str:
    """text as a drawing can show it: str() of anything, with control characters, lone
    surrogates and noncharacters written as escapes (\\x00, \\ufffe), which Graphviz, XML and
    UTF-8 files cannot hold."""
    text = text if isinstance(text, str) else str(text)
    return "".join(f"\\u{ord(c):04x}" if _noncharacter(c) else repr(c)[1:-1]
                   if unicodedata.category(c) in ("Cc", "Cs") else c for c in text)  # fmt: skip


def html_text(text: object) -> str:
    """text inside a Graphviz HTML label, as it reads: printable, escaped for HTML, and each
    backslash doubled, since Graphviz reads a backslash there as one of its own escapes
    (C:\\Name drew as C:v1ame, \\N being the node's name), even written as &#92;."""
    return html.escape(printable(text)).replace("\\", "\\\\")


def _noncharacter(c: str) -> bool:
    """U+FDD0 to U+FDEF and the last two of each plane (U+FFFE): XML, so SVG, refuses them."""
    code = ord(c)
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def grad_text(grad: object) -> str:
    """A gradient as drawn: 4 significant digits, or ? when it is not known yet (None)."""
    return "?" if grad is None else fmt(grad)


def op_name(node: Value) -> str:
    """'leaf', 'const', or the op's name in micrograd.ops.OPS ('mul', 'tanh', ...)."""
    if node._op is LEAF:
        return "leaf"
    if node._op is CONST:
        return "const"
    return node._op.name


def local_grads(node: Value, grad: float) -> tuple[float, ...]:
    """What node hands each of its inputs in backward: d out/d input * grad (chain rule)."""
    if not node._prev:
        return ()
    return local_gradients(node, number(grad))


def _json_float(x: object) -> float | str | None:
    if x is None:  # a .grad set to None: drawn as ?, not known
        return None
    value = number(x)
    return value if math.isfinite(value) else str(value)  # strict JSON has no nan/inf


def to_json(root: Value, params: object = None) -> dict:
    """The graph as ``{"root", "nodes", "edges"}``, ready for ``json.dumps``.

    A node is ``{"id", "label", "data", "grad", "op", "kind"}`` (``id`` is the position in
    topological order; ``op`` is ``"leaf"``, ``"const"`` or a name from ``micrograd.ops.OPS``);
    an edge ``{"source", "target", "slot"}`` says node ``source`` is input number ``slot``
    of ``target`` (``a + a`` gives two edges). nan and inf are written as strings.
    """
    graph = index_graph(root, params)
    nodes = []
    for i, node in enumerate(graph.nodes):
        entry = {
            "id": i,
            "label": node.label,
            "data": _json_float(node.data),
            "grad": _json_float(node.grad),
            "op": op_name(node),
            "kind": graph.kinds[i],
        }
        name = graph.param_names.get(node)
        if name:
            entry["param"] = name
        nodes.append(entry)
    edges = [
        {"source": source, "target": target, "slot": slot}
        for target in range(len(graph.nodes))
        for slot, source in enumerate(graph.inputs(target))
    ]
    return {"root": len(graph.nodes) - 1, "nodes": nodes, "edges": edges}
