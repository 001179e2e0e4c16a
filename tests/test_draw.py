"""Drawings: structure of the DOT, styles, escaping, real rendering with `dot`, determinism,
the missing-`dot` error, JSON export, the model-sized views and the limit on what is rendered.
PyTorch float64 is the oracle for every gradient shown."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch

import micrograd
from micrograd.draw import (
    STYLES,
    DotNotFoundError,
    draw_dot,
    save_backward_html,
    save_svg,
    to_json,
)

NEEDS_DOT = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
WEIRD = '<b>"a|b"{c}</b> & d'
SVG = "{http://www.w3.org/2000/svg}"


def karpathy_graph(label_a: str = "a"):
    """L = (a*b + c) * f, trace_graph.ipynb's example: 6 Values made by the user or ops."""
    a, b = micrograd.Value(2.0, label=label_a), micrograd.Value(-3.0, label="b")
    c, f = micrograd.Value(10.0, label="c"), micrograd.Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    loss = d * f
    loss.label = "L"
    return loss, (a, b, c, f)


def torch_leaf_grads():
    a, b, c, f = (torch.tensor(x, requires_grad=True) for x in (2.0, -3.0, 10.0, -2.0))
    ((a * b + c) * f).backward()
    return [t.grad.item() for t in (a, b, c, f)]


def values(dot) -> list[str]:
    return re.findall(r"^\s*(v\d+) \[", dot.source, re.M)


def ops(dot) -> list[str]:
    return re.findall(r"^\s*(o\d+) \[", dot.source, re.M)


def edges(dot) -> list[tuple[str, str]]:
    return re.findall(r"^\s*(\w+) -> (\w+)", dot.source, re.M)


def node_line(dot, name: str) -> str:
    return re.search(rf"^\s*{name} \[.*$", dot.source, re.M).group(0)


def test_known_graph_counts():
    loss, _ = karpathy_graph()
    dot = draw_dot(loss)
    assert len(values(dot)) == 7  # a, b, c, f, e, d, L
    assert len(ops(dot)) == 3
    assert len(edges(dot)) == 3 * 2 + 3  # two inputs per op, one output per op


@pytest.mark.parametrize("make", [lambda a: a + a, lambda a: a * a])
def test_repeated_input_draws_two_edges(make):
    a = micrograd.Value(3.0, label="a")
    dot = draw_dot(make(a))
    assert values(dot) == ["v0", "v1"] and ops(dot) == ["o1"]
    assert edges(dot).count(("v0", "o1")) == 2
    assert edges(dot).count(("o1", "v1")) == 1


def test_labels_data_and_grads_in_dot_match_torch():
    loss, leaves = karpathy_graph()
    loss.backward()
    dot = draw_dot(loss)
    for leaf, expected in zip(leaves, torch_leaf_grads()):
        line = node_line(dot, f"v{micrograd.topological_order(loss).index(leaf)}")
        assert f"<B>{leaf.label}</B>" in line
        shown_data = float(re.search(r"data (\S+?)<", line).group(1))
        shown_grad = float(re.search(r"grad (\S+?)<", line).group(1))
        assert shown_data == pytest.approx(leaf.data, rel=1e-3)
        assert shown_grad == pytest.approx(expected, rel=1e-3)


def edge_amounts(source: str, tail: str = r"v\d+") -> list[float]:
    """The gradient each input edge from tail is labelled with (the last number of its
    label: a / b's edges name their input first)."""
    labels = re.findall(rf"^\s*{tail} -> o\d+ \[label=<(.*)>\]$", source, re.M)
    return [float(re.findall(r">(-?[\d.e+-]+)</FONT>", label)[-1]) for label in labels]


def test_edge_grads_sum_to_each_input_grad():
    a = micrograd.Value(1.5, label="a")
    b = micrograd.Value(-0.5, label="b")
    out = (a * b + a * a).tanh()
    out.backward()
    dot = draw_dot(out, edge_grads=True)
    assert len(edge_amounts(dot.source)) == 7  # every input edge: 2 per *, 2 into +, 1 into tanh
    ta, tb = (torch.tensor(x, requires_grad=True) for x in (1.5, -0.5))
    torch.tanh(ta * tb + ta * ta).backward()
    index = micrograd.topological_order(out).index(a)
    into_from_a = edge_amounts(dot.source, f"v{index}")
    assert len(into_from_a) == 3  # a*b once, a*a twice: the chain rule's sum
    assert sum(into_from_a) == pytest.approx(ta.grad.item(), rel=1e-3)


def test_styles_by_kind():
    w = micrograd.Value(0.5, label="w")
    x = micrograd.Value(2.0, label="x")
    out = (w * x + 1.0).relu()
    dot = draw_dot(out, params=[w], legend=True)
    order = micrograd.topological_order(out)
    product = next(node for node in order if node._op is micrograd.ops.OPS["mul"])
    expected = {w: "param", x: "input", out: "root", product: "value"}
    const = next(node for node in order if node._op is micrograd.ops.CONST)
    expected[const] = "const"
    for node, kind in expected.items():
        line = node_line(dot, f"v{order.index(node)}")
        fill, border, style, width, legend = STYLES[kind]
        assert f"class={kind}" in line
        assert f'BGCOLOR="{fill}"' in line and f'COLOR="{border}"' in line
        assert f'STYLE="{style}"' in line and f'BORDER="{width}"' in line
        assert f"legend_{kind} [" in dot.source and legend in dot.source
    assert "legend_leaf [" not in dot.source  # only kinds present in the drawing
    no_params = draw_dot(out)  # without params, user leaves are plain leaves
    assert "class=leaf" in node_line(no_params, f"v{order.index(w)}")


def test_label_is_escaped_in_dot():
    loss, _ = karpathy_graph(label_a=WEIRD)
    assert "&lt;b&gt;&quot;a|b&quot;{c}&lt;/b&gt; &amp; d" in draw_dot(loss).source


@NEEDS_DOT
def test_svg_parses_and_shows_every_label_literally(tmp_path):
    loss, _ = karpathy_graph(label_a=WEIRD)
    loss.backward()
    path = save_svg(loss, tmp_path / "graph.svg", edge_grads=True, legend=True)
    tree = ET.parse(path)
    texts = [t.text for t in tree.iter(f"{SVG}text")]
    for label in (WEIRD, "b", "c", "f", "e", "d", "L"):
        assert label in texts
    node_ids = {g.get("id") for g in tree.iter(f"{SVG}g")}
    assert {f"v{i}" for i in range(7)} <= node_ids and {"o4", "o5", "o6"} <= node_ids


@NEEDS_DOT
def test_output_is_byte_identical_across_processes():
    """Two runs under different hash seeds: no id() or set order can leak into the output."""
    script = (
        "import sys; sys.path.insert(0, 'tests'); from test_draw import karpathy_graph\n"
        "from micrograd.draw import draw_dot\n"
        "loss, _ = karpathy_graph(); loss.backward()\n"
        "dot = draw_dot(loss, edge_grads=True, legend=True)\n"
        "sys.stdout.write(dot.source + dot.pipe(format='svg', encoding='utf-8'))\n"
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": _path()},
        ).stdout
        for seed in ("1", "2")
    ]
    assert outputs[0] == outputs[1] and "<svg" in outputs[0]


def _path() -> str:
    import os

    return os.environ["PATH"]


def test_missing_dot_explains_how_to_install(monkeypatch, tmp_path):
    loss, _ = karpathy_graph()
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `dot` anywhere
    dot = draw_dot(loss)
    assert "digraph" in dot.source  # the source needs no Graphviz
    calls = [
        lambda: dot.pipe(format="svg"),
        lambda: dot.render(tmp_path / "g"),
        lambda: dot._repr_mimebundle_(),  # what Jupyter calls to show it inline
        lambda: save_svg(loss, tmp_path / "g.svg"),
    ]
    for call in calls:
        with pytest.raises(DotNotFoundError, match="apt-get install graphviz"):
            call()


@NEEDS_DOT
def test_displays_inline_as_svg_in_jupyter():
    loss, _ = karpathy_graph()
    bundle = draw_dot(loss)._repr_mimebundle_()
    ET.fromstring(bundle["image/svg+xml"].encode("utf-8"))


def test_engine_never_imports_graphviz():
    code = (
        "import sys, micrograd\n"
        "x = micrograd.Value(2.0); (x * x).tanh().backward()\n"
        "import micrograd.draw\n"
        "assert 'graphviz' not in sys.modules, 'graphviz imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bad_arguments_name_the_problem():
    loss, _ = karpathy_graph()
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(loss, rankdir="sideways")
    with pytest.raises(ValueError, match="collapse=True needs group"):
        draw_dot(loss, collapse=True)
    with pytest.raises(TypeError, match="expected a Value"):
        draw_dot(3.0)
    with pytest.raises(ValueError, match="max_depth"):
        draw_dot(loss, max_depth=-1)


def test_max_depth_keeps_nodes_near_the_root():
    loss, _ = karpathy_graph()
    dot = draw_dot(loss, max_depth=1)  # L, its inputs d and f; d's inputs are cut
    assert len(values(dot)) == 3
    assert ("x5", "o5") in edges(dot)  # the cut is marked where d's inputs would be


def test_to_json_structure():
    a = micrograd.Value(3.0, label="a")
    out = (a * a).log() * micrograd.Value(float("nan"), label="n")
    out.backward()
    exported = to_json(out, params={"a": a})
    text = json.dumps(exported, allow_nan=False)  # strict JSON for other tools
    loaded = json.loads(text)
    nodes = loaded["nodes"]
    assert [n["id"] for n in nodes] == list(range(len(nodes)))
    assert loaded["root"] == nodes[-1]["id"] and nodes[-1]["kind"] == "root"
    by_label = {n["label"]: n for n in nodes if n["label"]}
    assert by_label["a"]["op"] == "leaf" and by_label["a"]["kind"] == "param"
    assert by_label["a"]["param"] == "a" and by_label["n"]["data"] == "nan"
    mul = next(n for n in nodes if n["op"] == "mul" and n["data"] == 9.0)
    a_id = by_label["a"]["id"]
    into_mul = [(e["source"], e["slot"]) for e in loaded["edges"] if e["target"] == mul["id"]]
    assert into_mul == [(a_id, 0), (a_id, 1)]
    assert {n["op"] for n in nodes} == {"leaf", "mul", "log"}
    assert len(loaded["edges"]) == 2 + 1 + 2


def test_input_order_is_marked_where_it_matters():
    x, y = micrograd.Value(1.0, label="x"), micrograd.Value(2.0, label="y")
    diff = y - x
    ratio = diff / x
    product = x * y
    out = ratio + product
    order = micrograd.topological_order(out)
    v = {node: f"v{order.index(node)}" for node in (x, y, diff)}
    o = {node: f"o{order.index(node)}" for node in (diff, ratio, product)}
    dot = draw_dot(out)
    named = r'^\s*(v\d+) -> (o\d+) \[label=<<FONT COLOR="#6b7280">(\w+)</FONT>>\]'
    heads = re.findall(named, dot.source, re.M)
    assert sorted(heads) == sorted(
        [
            (v[y], o[diff], "a"),
            (v[x], o[diff], "b"),
            (v[diff], o[ratio], "a"),
            (v[x], o[ratio], "b"),
        ]
    )
    into_product = re.findall(rf"^.*-> {o[product]}.*$", dot.source, re.M)
    assert len(into_product) == 2 and "label" not in "".join(into_product)
    assert 'tooltip="a - b"' in node_line(dot, o[diff])


def test_value_grads_from_create_graph_and_unicode_labels():
    x = micrograd.Value(3.0, label="∂x — ünïcode")
    y = (x * x).exp() * 1e-3
    y.backward(create_graph=True)  # grads are Values now
    dot = draw_dot(y, edge_grads=True)
    expected = 1e-3 * 2 * 3.0 * torch.exp(torch.tensor(9.0, dtype=torch.float64)).item()
    line = node_line(dot, f"v{micrograd.topological_order(y).index(x)}")
    assert "∂x — ünïcode" in line
    assert float(re.search(r"grad (\S+?)<", line).group(1)) == pytest.approx(expected, rel=1e-3)
    assert to_json(y)["nodes"][micrograd.topological_order(y).index(x)]["grad"] == pytest.approx(
        expected, rel=1e-12
    )


def tanh_chain(ops: int):
    """x through tanh `ops` times: ops + 1 Value boxes and ops op nodes drawn."""
    x = micrograd.Value(0.5, label="x")
    for _ in range(ops):
        x = x.tanh()
    return x


def one_layer_model(width: int = 16, inputs: int = 40):
    """tanh neurons by hand, their parameters named as nn names them
    (``layers.0.neurons.k.w.j``), so grouping needs no nn; returns (sum of outputs, params)."""
    xs = [micrograd.Value(0.05 * j - 1.0, label=f"x{j}") for j in range(inputs)]
    params: dict[str, micrograd.Value] = {}
    outputs = []
    for k in range(width):
        weights = [micrograd.Value(0.01 * (k - j)) for j in range(inputs)]
        bias = micrograd.Value(0.1 * k)
        params |= {f"layers.0.neurons.{k}.w.{j}": w for j, w in enumerate(weights)}
        params[f"layers.0.neurons.{k}.b"] = bias
        outputs.append(sum((w * x for w, x in zip(weights, xs)), bias).tanh())
    return sum(outputs, micrograd.Value(0.0, label="zero")), params


def test_rendering_refuses_past_max_nodes_but_the_source_is_all_there(tmp_path):
    loss, _ = karpathy_graph()
    dot = draw_dot(loss, max_nodes=9)  # 7 Values and 3 ops: 10 nodes
    assert len(values(dot)) + len(ops(dot)) == 10
    renders = [
        lambda: dot.pipe(format="svg"),
        lambda: dot.render(tmp_path / "g"),
        lambda: dot._repr_mimebundle_(),  # Jupyter's inline SVG: refused, not minutes of layout
        lambda: dot.copy().pipe(format="svg"),
    ]
    for render in renders:
        with pytest.raises(ValueError, match=r"10 nodes .*more than max_nodes=9"):
            render()
    assert not list(tmp_path.iterdir())


@NEEDS_DOT
def test_drawings_at_max_nodes_or_without_a_limit_render():
    loss, _ = karpathy_graph()
    for limit in (10, None):
        ET.fromstring(draw_dot(loss, max_nodes=limit).pipe(format="svg"))


def test_save_svg_refuses_a_big_graph_and_says_how_to_draw_less(tmp_path, monkeypatch):
    root = tanh_chain(2_000)

    def no_drawing(*args, **kwargs):
        raise AssertionError("the drawing was begun before the count was checked")

    monkeypatch.setattr("micrograd.viz.dot.digraph", no_drawing)
    with pytest.raises(ValueError) as refused:
        save_svg(root, tmp_path / "big.svg")
    from micrograd.viz.render import MAX_NODES

    message = str(refused.value)
    assert f"4001 nodes (Values, ops and module boxes), more than max_nodes={MAX_NODES}" in message
    assert "max_depth=" in message and "collapse=True" in message
    assert not (tmp_path / "big.svg").exists()


@NEEDS_DOT
def test_save_svg_counts_only_what_max_depth_keeps(tmp_path):
    root = tanh_chain(2_000)
    tree = ET.parse(save_svg(root, tmp_path / "near.svg", max_depth=20))
    drawn = [g for g in tree.iter(f"{SVG}g") if "node" in g.get("class", "").split()]
    assert len(drawn) == 21 + 21 + 1  # Values #1980..#2000, their ops, the cut marker


@NEEDS_DOT
def test_a_model_over_the_limit_still_draws_collapsed(tmp_path):
    loss, params = one_layer_model()
    with pytest.raises(ValueError, match=r"(\d+) nodes") as refused:
        save_svg(loss, tmp_path / "raw.svg", params=params)
    from micrograd.viz.render import MAX_NODES

    raw = int(re.search(r"(\d+) nodes", str(refused.value)).group(1))
    assert raw == 2 * len(micrograd.topological_order(loss)) - len(params) - 40 - 1 > MAX_NODES
    path = save_svg(loss, tmp_path / "boxes.svg", params=params, group="neuron", collapse=True)
    texts = {t.text for t in ET.parse(path).iter(f"{SVG}text")}
    assert {f"layers.0.neurons.{k}" for k in range(16)} <= texts


@pytest.mark.parametrize("label", [5, "a\x00b", "tab\there", "\ud800", "<b>&"])
@NEEDS_DOT
def test_a_label_assigned_later_is_drawn_printable(label, tmp_path):
    """Value() refuses such labels, but .label is a plain attribute: a drawing must still
    show whatever it holds, escaped, instead of crashing in dot or in the file's encoding."""
    x = micrograd.Value(2.0)
    x.label = label
    y = x * 3.0
    path = save_svg(y, tmp_path / "y.svg")
    texts = " ".join(node.text or "" for node in ET.parse(path).iter() if node.tag.endswith("text"))
    shown = {5: "5", "a\x00b": "a\\x00b", "tab\there": "tab\\there", "\ud800": "\\ud800"}
    assert shown.get(label, label) in texts
    assert draw_dot(y).source.count("v0") >= 1


@NEEDS_DOT
def test_backslashes_in_labels_and_symbols_are_drawn_as_written(tmp_path):
    # Graphviz read them as its escapes: C:\Name drew as C:v1ame, \N as the node's name
    label = "C:\\Name \\N \\G \\E \\\\"
    a = micrograd.Value(2.0, label=label)
    out = a * 3.0
    lecture = micrograd.Value(out.data, (out,), "\\N")  # a lecture node's symbol
    tree = ET.parse(save_svg(lecture, tmp_path / "graph.svg"))
    texts = [t.text for t in tree.iter(f"{SVG}text")]
    assert label in texts and "\\N" in texts


def test_numbers_a_user_set_are_drawn_or_refused_by_name():
    # a numpy .grad: "could not convert string to float: <memory at ...>" (its .data is a
    # buffer); 10**400 a bare OverflowError; None made to_json raise
    x = micrograd.Value(2.0)
    y = x * 3.0
    y.backward()
    x.grad = np.float64(2.5)

    def drawn_grad():
        (leaf,) = [node for node in to_json(y)["nodes"] if node["kind"] == "leaf"]
        return leaf["grad"]

    assert drawn_grad() == 2.5 and "2.500" in draw_dot(y).source
    x.grad = 10**400
    assert drawn_grad() == "inf"
    x.grad = None
    assert drawn_grad() is None and "grad ?" in draw_dot(y).source
    x.grad = "abc"
    with pytest.raises(TypeError, match="drawing: a .data or .grad must be a number .* 'abc'"):
        draw_dot(y)


@pytest.mark.parametrize(
    "save, name, message",
    [
        (save_svg, "plot.png", r"save_svg: writes SVG .*'\.png'; give a path ending in \.svg"),
        (save_svg, "plot.pdf", r"ends in '\.pdf'"),
        (save_backward_html, "page.svg", r"save_backward_html: writes a web page, .*\.html"),
    ],
)
def test_a_save_refuses_a_file_name_of_another_format_writing_nothing(
    tmp_path, save, name, message
):
    # they wrote SVG text into plot.png, HTML into page.svg
    x = micrograd.Value(2.0, label="x")
    with pytest.raises(ValueError, match=message):
        save(x * x, tmp_path / name)
    assert list(tmp_path.iterdir()) == []
    right = {save_svg: "PLOT.SVG", save_backward_html: "page.htm"}[save]  # any case
    assert save(x * x, tmp_path / right).exists()


def horner(links: int):
    """A polynomial by Horner's rule, y = (...((x * x + 1) * x + 1)...): every link reads x."""
    x = micrograd.Value(0.5, label="x")
    y = x
    for _ in range(links):
        y = y * x + 1.0
    return y


def test_a_chain_reading_one_input_all_along_is_refused_before_minutes_of_layout(tmp_path):
    """Each edge from x to link k crosses the ranks of the links before it, and dot lays out
    a node for every rank crossed: 200 links (1,001 nodes, under max_nodes) took minutes.
    By hand: link k's product lies 4 (k - 1) ranks after the one x is on (a product and an
    add per link, each an op and a Value), so n links cross 2 n (n - 1) ranks."""
    from micrograd.viz.render import MAX_NODES, MAX_VIRTUAL_NODES

    assert draw_dot(horner(60)).virtual_nodes == 2 * 60 * 59
    # labelled edges take a rank of their own: every span doubles, so an edge s ranks long
    # crosses 2 s - 1: twice the above, plus one per input edge (4 a link) and op (2 a link)
    assert draw_dot(horner(60), edge_grads=True).virtual_nodes == 2 * (2 * 60 * 59) + 6 * 60
    root = horner(200)  # 2 * 200 * 199 = 79,600 ranks crossed
    dot = draw_dot(root)
    assert dot.drawn_nodes < MAX_NODES < dot.virtual_nodes and dot.virtual_nodes > MAX_VIRTUAL_NODES
    for render in (lambda: dot.pipe(format="svg"), lambda: save_svg(root, tmp_path / "h.svg")):
        with pytest.raises(ValueError, match=r"79,600 ranks .*max_depth=.*max_nodes=None"):
            render()
    assert not list(tmp_path.iterdir())
    labelled = draw_dot(horner(120), edge_grads=True)  # each crossing costs dot twice as much
    assert labelled.virtual_nodes == 2 * (2 * 120 * 119) + 6 * 120 < 2 * MAX_VIRTUAL_NODES
    with pytest.raises(ValueError, match=f"57,840 ranks .*more than {MAX_VIRTUAL_NODES // 2:,}"):
        labelled.pipe(format="svg")
    with pytest.raises(ValueError, match="ranks of the layout"):  # a stepper's frames too
        micrograd.step_through(horner(120), max_frames=400)
    assert draw_dot(root, max_nodes=None).virtual_nodes == 79_600  # no limit: it would render
    assert draw_dot(root, max_depth=30).virtual_nodes < MAX_VIRTUAL_NODES  # or draw less


@NEEDS_DOT
def test_a_long_sum_whose_terms_are_each_read_once_is_drawn():
    """A neuron of 230 inputs is a chain of 230 adds, each reading a product made for it: by
    hand, dot puts each product and its two leaves right before the add that reads it, and
    no edge crosses a rank. Ranking every op as early as possible had counted each product
    as read across the whole chain (52,670) and refused a drawing that takes a second."""
    import random

    from micrograd import nn

    neuron = nn.Neuron(230, rng=random.Random(0))
    y = neuron([micrograd.Value(float(i)) for i in range(230)])
    dot = draw_dot(y, params=neuron)
    assert dot.virtual_nodes == 0
    ET.fromstring(dot.pipe(format="svg"))
