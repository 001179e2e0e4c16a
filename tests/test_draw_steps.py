"""backward_steps: one frame per node backward() processes, in its order, ending with its
gradients (PyTorch float64 checks the leaves; backward() checks every frame's); draw_step's
highlighting; and huge graphs: refused before any frame is built, frames in linear memory."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tracemalloc

import pytest
import torch

import micrograd
from micrograd.draw import backward_steps, draw_step, save_backward_html
from micrograd.viz import steps

NEEDS_DOT = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")

POINT = (0.7, -1.3, 2.0)


def graph(x: float, y: float, z: float):
    """A graph with a repeated input, a constant, a fan-out and a unary op."""
    a, b, c = (micrograd.Value(v, label=name) for v, name in zip((x, y, z), "abc"))
    h = (a * b + a * a).tanh()
    out = h * c + (h / 2.0).exp() - a
    out.label = "out"
    return out, (a, b, c)


def torch_graph_grads(x: float, y: float, z: float) -> list[float]:
    a, b, c = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, y, z))
    h = torch.tanh(a * b + a * a)
    (h * c + torch.exp(h / 2.0) - a).backward()
    return [t.grad.item() for t in (a, b, c)]


def test_frames_follow_backward_order_and_end_with_its_grads():
    out, leaves = graph(*POINT)
    order = micrograd.topological_order(out)
    frames = list(backward_steps(out))
    expected = [i for i in reversed(range(len(order))) if order[i]._prev]
    assert [frame.index for frame in frames] == expected
    assert [frame.step for frame in frames] == list(range(len(expected)))
    assert all(frame.node is order[frame.index] for frame in frames)
    assert all(node.grad == 0.0 for node in order)  # frames never touch .grad

    fresh, fresh_leaves = graph(*POINT)
    fresh.backward()
    fresh_order = micrograd.topological_order(fresh)
    final = frames[-1].grads
    assert sorted(final) == list(range(len(order)))
    for i, node in enumerate(fresh_order):
        assert final[i] == pytest.approx(node.grad, rel=1e-15, abs=1e-300)
    for leaf, expected_grad in zip(leaves, torch_graph_grads(*POINT)):
        assert final[order.index(leaf)] == pytest.approx(expected_grad, rel=1e-12)


def test_each_frame_sends_its_grad_along_every_input_edge():
    out, (a, _, _) = graph(*POINT)
    order = micrograd.topological_order(out)
    frames = list(backward_steps(out))
    assert frames[0].index == len(order) - 1 and frames[0].grad == 1.0
    for frame in frames:
        inputs = [order.index(p) for p in frame.node._prev]
        assert [(e.source, e.target, e.slot) for e in frame.edges] == [
            (j, frame.index, slot) for slot, j in enumerate(inputs)
        ]
    square = next(f for f in frames if f.node._prev == (a, a))  # a * a: two edges from a
    assert len(square.edges) == 2 and square.edges[0].amount == square.edges[1].amount


def test_frames_stop_where_the_gradient_stops():
    a, b = micrograd.Value(0.7, label="a"), micrograd.Value(-1.3, label="b")
    behind = (a * b).exp()
    out = a * behind.stop_gradient() + b
    order = micrograd.topological_order(out)
    frames = list(backward_steps(out))
    stop = next(f for f in frames if f.node._op is micrograd.ops.STOP_GRADIENT)
    assert [(e.source, e.amount) for e in stop.edges] == [(order.index(behind), 0.0)]
    assert behind not in [f.node for f in frames] and len(frames) == 3  # +, *, the stop
    assert steps.step_count(steps.index_graph(out)) == len(frames)
    final = frames[-1].grads
    assert order.index(behind._prev[0]) not in final  # a * b: no frame reaches it
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.7, -1.3))
    (ta * torch.exp(ta * tb).detach() + tb).backward()
    assert final[order.index(a)] == pytest.approx(ta.grad.item(), rel=1e-15)
    assert final[order.index(b)] == pytest.approx(tb.grad.item(), rel=1e-15)


EDGE = re.compile(r"^\s*v(\d+) -> o(\d+) \[label=<(.*)>(.*)\]$", re.M)


def edge_labels(source: str) -> list[tuple[int, int, str, str, bool]]:
    """(input, op, the amount's text, its colour, drawn red) for every input edge."""
    found = []
    for tail, head, label, rest in EDGE.findall(source):
        color, amount = re.findall(r'<FONT COLOR="([^"]+)">(?:<B>)?([^<]+)', label)[-1]
        found.append((int(tail), int(head), amount, color, 'color="#dc2626"' in rest))
    return found


def test_draw_step_highlights_current_node_and_sent_edges():
    out, _ = graph(*POINT)
    frames = list(backward_steps(out))
    frame = frames[2]
    source = draw_step(frame).source
    current = re.search(rf"^\s*v{frame.index} \[.*$", source, re.M).group(0)
    assert 'class="value current"' in current or 'class="root current"' in current
    assert source.count("current") == 1
    edges = edge_labels(source)
    red = [(tail, head) for tail, head, _, _, is_red in edges if is_red]
    assert red == [(e.source, frame.index) for e in frame.edges]
    unknown = [i for i in range(len(frame.graph.nodes)) if i not in frame.grads]
    assert unknown and source.count("grad ?") == len(
        [i for i in unknown if frame.graph.kinds[i] != "const"]
    )


def test_every_frame_labels_every_edge_so_the_layout_stays_still():
    out, _ = graph(*POINT)
    frames = list(backward_steps(out))
    step_of = {f.index: f.step for f in frames}  # an op's edges are sent at its node's step
    amounts = {(e.source, e.target, e.slot): e.amount for f in frames for e in f.edges}
    for frame in frames:
        edges = edge_labels(draw_step(frame).source)
        assert len(edges) == len(amounts)  # every input edge, in every frame
        for _, head, _, color, _ in edges:
            sent = step_of[head]
            expected = "#dc2626" if sent == frame.step else "#374151"
            assert color == (expected if sent <= frame.step else "#ffffff00"), (frame.step, head)
        shown = sorted(float(amount) for _, _, amount, _, _ in edges)
        assert shown == pytest.approx(sorted(amounts.values()), rel=1e-3)


def test_html_refuses_a_leaf_and_too_many_frames(tmp_path):
    with pytest.raises(ValueError, match="leaf"):
        save_backward_html(micrograd.Value(1.0), tmp_path / "x.html")
    out, _ = graph(*POINT)
    with pytest.raises(ValueError, match="max_frames"):
        save_backward_html(out, tmp_path / "x.html", max_frames=2)


def page_data(text: str) -> dict:
    """The frames and final gradients a stepper keeps as JSON inside its page."""
    found = re.search(r'<script type="application/json" class="mg-data">(.*?)</script>', text, re.S)
    return json.loads(found.group(1))


@NEEDS_DOT
def test_html_is_byte_identical_across_runs(tmp_path):
    first = save_backward_html(graph(*POINT)[0], tmp_path / "one.html").read_bytes()
    second = save_backward_html(graph(*POINT)[0], tmp_path / "two.html").read_bytes()
    assert first == second
    frames = page_data(first.decode())["frames"]
    assert len(frames) == len(list(backward_steps(graph(*POINT)[0])))
    assert all(frame["view"].startswith("<svg") for frame in frames)


def test_top_level_names_load_lazily():
    code = (
        "import sys, micrograd, micrograd.draw as draw\n"
        "assert 'graphviz' not in sys.modules\n"
        "for name in ('draw_dot', 'draw_step', 'save_svg', 'backward_steps',\n"
        "             'save_backward_html', 'to_json'):\n"
        "    assert getattr(micrograd, name) is getattr(draw, name), name\n"
        "assert 'graphviz' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_captions_write_symbols_between_inputs_and_names_as_calls():
    a, b = micrograd.Value(0.5, label="a"), micrograd.Value(-2.0, label="b")
    unnamed = micrograd.Value(0.5)
    shapes = {
        a * b: r"^Step 1: #2 = a \* b, and #2\.grad = 1\.000\.",
        a.leaky_relu(b): r"^Step 1: #2 = leaky_relu\(a, b\), and",
        a.maximum(b): r"^Step 1: #2 = maximum\(a, b\), and",
        a.log1p(): r"^Step 1: #1 = log1p\(a\), and",
        unnamed * a: r"^Step 1: #2 = #\d \* a, and",  # unlabelled: called by its number
        (a * b).tanh(): r"^Step 2: #2 = a \* b, and",
    }
    for root, shape in shapes.items():
        last = list(backward_steps(root))[-1]
        assert re.search(shape, steps.caption(last)), steps.caption(last)


def repeated_input(x: float = 0.8):
    """a * a + a: a gets 1 from the sum at step 0, then 2a from the square at step 1."""
    a = micrograd.Value(x, label="a")
    return a * a + a, a


def chain(steps: int):
    """x through tanh `steps` times: backward takes one step per tanh."""
    x = micrograd.Value(0.5, label="x")
    for _ in range(steps):
        x = x.tanh()
    return x


@pytest.mark.parametrize("make", [lambda: repeated_input()[0], lambda: graph(*POINT)[0]])
def test_every_frame_grads_are_what_backward_knows_after_that_step(make):
    root = make()
    frames = list(backward_steps(root))  # all of the walk first: no frame may see later steps
    order = micrograd.topological_order(root)
    inputs = [[order.index(p) for p in node._prev] for node in order]
    consumers = [{c for c in range(len(order)) if j in inputs[c]} for j in range(len(order))]
    fresh = make()
    fresh.backward()
    expected = [node.grad for node in micrograd.topological_order(fresh)]
    for k, frame in enumerate(frames):
        done = {f.index for f in frames[: k + 1]}
        grads = frame.grads
        assert sorted(grads) == sorted({len(order) - 1} | {j for c in done for j in inputs[c]})
        complete = [j for j in grads if consumers[j] <= done]  # every contribution sent
        assert frame.index in complete  # its consumers all came before it
        for j in complete:
            assert grads[j] == pytest.approx(expected[j], rel=1e-15, abs=1e-300), (k, j)
        assert frame.grad == pytest.approx(expected[frame.index], rel=1e-15, abs=1e-300)
    assert sorted(frames[-1].grads) == list(range(len(order)))


def test_frame_grads_of_a_repeated_input_step_by_step():
    root, a = repeated_input(0.8)
    frames = list(backward_steps(root))
    index = micrograd.topological_order(root).index(a)
    assert len(frames) == 2
    assert frames[0].grads[index] == 1.0  # from the sum only, even read after the walk
    assert frames[1].grads[index] == pytest.approx(2 * 0.8 + 1.0, rel=1e-15)
    frames[0].grads.clear()  # each read is a new dict: changing it changes no frame
    assert frames[0].grads[index] == 1.0


def test_html_refuses_too_many_steps_before_building_any_frame(tmp_path, monkeypatch):
    root = chain(20_000)

    def build_nothing(*args, **kwargs):
        raise AssertionError("counting the steps built a frame")

    monkeypatch.setattr(steps, "Frame", build_nothing)
    monkeypatch.setattr(steps, "walk_aside", build_nothing)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"20000 steps is more than max_frames=10;"):
            save_backward_html(root, tmp_path / "big.html", max_frames=10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000 * 1_000  # numbering the nodes, well under 1 kB each; no frames
    assert not (tmp_path / "big.html").exists()


def frames_memory(steps: int) -> int:
    """Bytes allocated and still held by the list of backward_steps' frames."""
    root = chain(steps)
    tracemalloc.start()
    try:
        frames = list(backward_steps(root))
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(frames) == steps
    return held


def test_frames_memory_grows_linearly_with_the_steps():
    small, large = frames_memory(2_000), frames_memory(4_000)
    assert large < 2.5 * small  # a copy of all gradients in every frame makes it 4 times
    assert large < 4_000 * 2_000  # under 2 kB a step: each frame holds only what it sent


@NEEDS_DOT
def test_html_keeps_a_running_total_instead_of_asking_each_frame(tmp_path, monkeypatch):
    def replay(frame):
        raise AssertionError("the page asked a frame for all its grads")

    monkeypatch.setattr(steps.Frame, "grads", property(replay))
    text = save_backward_html(graph(*POINT)[0], tmp_path / "page.html").read_text()
    final = page_data(text)["final_grads"]
    fresh, _ = graph(*POINT)
    fresh.backward()
    expected = [node.grad for node in micrograd.topological_order(fresh)]
    assert sorted(int(i) for i in final) == list(range(len(expected)))
    for i, grad in final.items():
        assert grad == pytest.approx(expected[int(i)], rel=1e-15, abs=1e-300)


def test_html_and_draw_step_keep_draw_dots_node_limit(tmp_path):
    out, _ = graph(*POINT)
    first = next(iter(backward_steps(out)))
    with pytest.raises(ValueError, match=r"drawing: \d+ nodes .*more than max_nodes=5"):
        draw_step(first, max_nodes=5).pipe(format="svg")
    with pytest.raises(ValueError, match="more than max_nodes=5"):
        save_backward_html(out, tmp_path / "x.html", max_nodes=5)
    assert not (tmp_path / "x.html").exists()


def test_the_pages_data_is_strict_json_without_a_less_than(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # tables: no Graphviz needed
    x = micrograd.Value(0.0, label="<!--<script>")
    out = x.sqrt() * 2.0  # x.grad is inf: JSON.parse refused the page's Infinity
    text = save_backward_html(out, tmp_path / "page.html").read_text()
    raw = re.search(r'class="mg-data">(.*?)</script>', text, re.S).group(1)
    assert "<" not in raw  # "<!--<script" made the parser read the script as data

    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    data = json.loads(raw, parse_constant=refuse)
    out.backward()
    order = micrograd.topological_order(out)
    final = {int(i): g for i, g in data["final_grads"].items()}
    assert final[order.index(x)] == "inf" == str(x.grad)


def test_a_caption_gives_a_labels_value_even_when_the_label_reads_as_a_number():
    x, three = micrograd.Value(2.0, label="x"), micrograd.Value(3.0, label="inf")
    (frame,) = list(backward_steps(x * three))
    assert "dd/dx" not in steps.caption(frame)
    assert "/dx = inf = 3.000" in steps.caption(frame)  # was "= inf": the label as a number


def test_a_stepper_of_too_many_nodes_over_its_frames_is_refused_before_any_layout(tmp_path):
    y = x = micrograd.Value(1.0)
    for _ in range(399):  # 399 frames of 1,198 nodes: 7 minutes of Graphviz
        y = y * 1.001
    with pytest.raises(ValueError, match="more than 100,000 nodes for Graphviz to lay out"):
        save_backward_html(y, tmp_path / "page.html")
    assert not (tmp_path / "page.html").exists()
    assert x.grad == 0.0


@NEEDS_DOT
@pytest.mark.parametrize(
    "name, doc, label",
    [("\\", None, "a"), ("mul2", "see C:\\", "a"), ("m3", "<a < b>", "a"),
     ("<!--<script>", None, "a"), ("m5", None, "\ufffe"), ("m6", None, "x\uffff\ufdd0")],
)  # fmt: skip
def test_op_names_docs_and_labels_of_any_text_give_well_formed_svg(name, doc, label):
    import xml.etree.ElementTree as ElementTree

    op = micrograd.Op(name, 2, lambda F, a, b: a * b, lambda F, g, o, a, b: (g * b, g * a), doc)
    out = op(micrograd.Value(2.0, label=label), micrograd.Value(3.0))
    svg = micrograd.draw_dot(out).pipe(format="svg").decode()  # a DOT syntax error before
    ElementTree.fromstring(svg)


@pytest.mark.parametrize("save", ["page", "svg"])
def test_a_failed_save_of_a_drawing_keeps_the_old_file(tmp_path, monkeypatch, save):
    if save == "svg" and shutil.which("dot") is None:
        pytest.skip("Graphviz `dot` not installed")
    out, _ = graph(*POINT)
    path = tmp_path / ("old.html" if save == "page" else "old.svg")
    path.write_text("the old drawing")

    def crash(*args):
        raise KeyboardInterrupt  # Ctrl-C while the new file was being written

    monkeypatch.setattr(os, "replace", crash)
    writer = save_backward_html if save == "page" else micrograd.draw.save_svg
    with pytest.raises(KeyboardInterrupt):
        writer(out, path)  # path.write_text had emptied the old file first
    assert path.read_text() == "the old drawing"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_the_step_through_shows_the_lectures_overwriting_bug_as_backward_gives_it(tmp_path):
    """Closures that set their inputs' grads instead of adding: backward() gives a.grad 3
    (the 1 that d's add handed is lost), and so must the last frame; the frames added the
    closures' shares and showed 4, a correct gradient the engine never produced. The caption
    says what the closure did. His loop over _backward is the oracle, with torch's 4 beside."""
    from micrograd import Value, topological_order

    def mul(x, y):
        out = Value(x.data * y.data, (x, y), "*")

        def _backward():
            x.grad = y.data * out.grad  # = where the fix has +=
            y.grad = x.data * out.grad

        out._backward = _backward
        return out

    def graph():
        a, b = Value(2.0, label="a"), Value(3.0, label="b")
        return a, b, mul(a, b) + a

    a, b, d = graph()
    frames = list(backward_steps(d))
    last = frames[-1].grads
    index = frames[-1].graph.index
    his_a, his_b, his_d = graph()
    his_d.grad = 1.0
    for node in reversed(topological_order(his_d)):  # the lecture's own loop
        node._backward()
    assert last[index[a]] == his_a.grad == 3.0 and last[index[b]] == his_b.grad == 2.0
    ta = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (ta * 3.0 + ta).backward()
    assert ta.grad.item() == 4.0  # what the closure should have given
    text = steps.caption(frames[-1])
    assert "a.grad += 1.000 × 3.000 = 3.000, but its _backward closure left a.grad = 3.000" in text
    assert "the 1.000 it held is lost (adding gives 4.000)" in text
    assert "(by its _backward closure)" in text
    assert a.grad == 0.0 and b.grad == 0.0  # the frames changed no .grad
    page = save_backward_html(d, tmp_path / "page.html").read_text()
    assert "it sets instead of adding" in page


def test_frames_too_many_nodes_in_all_are_refused_after_the_first_is_built(monkeypatch):
    # the first frame tells what every frame draws: 10,000 steps were all built, which took
    # minutes (each frame reads every edge), before the refusal
    x = micrograd.Value(1.0)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    drawn = []
    draw = steps._draw
    monkeypatch.setattr(steps, "_draw", lambda *a, **k: drawn.append(1) or draw(*a, **k))
    with pytest.raises(ValueError, match="10000 steps of .* nodes each are more than 100,000"):
        steps.step_through(y, max_frames=20_000, max_depth=3)
    assert len(drawn) == 1


def test_draw_step_of_a_value_says_it_draws_frames():
    with pytest.raises(TypeError, match="draw_step: expected a Frame, .* got Value; draw_dot"):
        draw_step(micrograd.Value(1.0) * 2.0)


@pytest.mark.parametrize("option", ["foo", "current", "refuse", "flow"])
def test_an_unknown_drawing_option_is_named_with_the_function_given_it(tmp_path, option):
    # save_svg said "build() got an unexpected keyword", and took build's own current= or
    # gave "multiple values for keyword argument"
    from micrograd.draw import save_svg

    root = micrograd.Value(2.0) * 3.0
    (frame,) = backward_steps(root)
    calls = {
        "save_svg": lambda: save_svg(root, tmp_path / "x.svg", **{option: 1}),
        "draw_step": lambda: draw_step(frame, **{option: 1}),
        "save_backward_html": lambda: save_backward_html(root, tmp_path / "x.html", **{option: 1}),
        "step_through": lambda: steps.step_through(root, **{option: 1}),
    }
    for caller, call in calls.items():
        with pytest.raises(TypeError, match=f"{caller}: unexpected option '{option}'; the drawing"):
            call()
    assert not list(tmp_path.iterdir())


def test_a_lecture_closure_that_adds_twice_into_one_input_is_not_called_a_setter():
    # it rounds (before + g) + g where the caption added before + (g + g): the exact compare
    # called a right closure's 0.9600000000000001 "sets instead of adding"
    from lecture_ops import lecture_plus

    from micrograd import Value

    a = Value(1.0, label="a")
    b = lecture_plus(a, a)
    c = a * 0.9 + b * 0.03
    frames = list(backward_steps(c))
    text = " ".join(steps.caption(frame) for frame in frames)
    assert "sets instead of adding" not in text
    ta = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    (ta * 0.9 + (ta + ta) * 0.03).backward()
    assert math.isclose(frames[-1].grads[frames[-1].graph.index[a]], ta.grad.item(), rel_tol=1e-15)


def _lecture_node(x, y, data, op, shares):
    """A node made the lecture's way; its closure adds shares(out) to x's and y's .grad."""
    out = micrograd.Value(data, (x, y), op)

    def _backward():
        first, second = shares(out)
        x.grad += first
        y.grad += second

    out._backward = _backward
    return out


def test_a_lecture_node_with_one_input_twice_says_what_it_hands_in_all():
    # the two shares land in one .grad: the caption said dsq/dx = 6 and then dsq/dx = 0,
    # where each share is 3 (torch's d(x*x)/dx is their sum)
    x = micrograd.Value(3.0, label="x")
    sq = _lecture_node(x, x, 9.0, "*", lambda out: (x.data * out.grad, x.data * out.grad))
    sq.label = "sq"
    (frame,) = steps.backward_steps(sq)
    tx = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    (tx * tx).backward()
    assert tx.grad.item() == 6.0
    text = steps.caption(frame)
    assert "dsq/dx, x being both inputs, = 6.000 in all (by its _backward closure)" in text
    assert "x.grad += 1.000 × 6.000 = 6.000." in text and "0.000" not in text


def test_the_lectures_a_plus_a_bug_is_named_in_its_caption():
    # self.grad = out.grad twice: a keeps one share, 1 where the chain rule gives 2; the
    # caption showed the 1 as a valid sum, 1 + 0
    a = micrograd.Value(3.0, label="a")
    b = micrograd.Value(6.0, (a, a), "+")

    def sets():
        a.grad = 1.0 * b.grad
        a.grad = 1.0 * b.grad

    b._backward, b.label = sets, "b"
    (frame,) = steps.backward_steps(b)
    text = steps.caption(frame)
    assert "but its _backward closure sets a.grad instead of adding to it, so a keeps only" in text
    b.backward()
    assert a.grad == 1.0  # what the caption says a keeps, as his engine leaves it
    assert text.endswith("the last of its two shares: 1.000.")


def test_a_negative_constant_in_a_caption_reads_as_the_number_it_is():
    # "y = -2.000 ** x" reads, as Python does, as -(2 ** x): -4 where y is 4
    x = micrograd.Value(2.0, label="x")
    y = (-2.0) ** x
    y.label = "y"
    (frame,) = steps.backward_steps(y)
    text = steps.caption(frame)
    formula = re.match(r"Step 1: y = (.*), and y\.grad", text).group(1)
    assert formula == "(-2.000) ** x"
    tx = torch.tensor(2.0, dtype=torch.float64)
    assert eval(formula, {"x": 2.0}) == (-2.0) ** tx.item() == y.data == 4.0
    assert "log(-2.000)" in text  # a function's argument needs no brackets
    q = micrograd.Value(2.0, label="q")
    z = q * -3.0
    z.label = "z"
    (frame,) = steps.backward_steps(z)
    assert steps.caption(frame).startswith("Step 1: z = q * (-3.000), and z.grad = 1.000.")


def _current_ids(view: str) -> list[str]:
    """The ids of what a frame's drawing outlines as the current step (class 'current')."""
    return re.findall(r'<g id="[^"]*-(\w+)" class="[^"]*\bcurrent\b', view)


@NEEDS_DOT
def test_a_stepper_of_collapsed_modules_outlines_the_box_its_step_is_in():
    """With collapse, every step's node sits inside a module's box: the box is outlined and
    the caption says which module it is. No frame outlined anything before. By hand: the
    output neuron's add and product are its two steps, then tanh, add and product in the
    hidden neuron."""
    import random

    from micrograd import nn

    model = nn.MLP(1, [1, 1], rng=random.Random(0))
    out = model([micrograd.Value(0.5, label="x")])
    frames = page_data(steps.step_through(out, model, group="neuron", collapse=True).html)
    modules = ["layers.1.neurons.0"] * 2 + ["layers.0.neurons.0"] * 3
    assert len(frames["frames"]) == len(modules)
    boxes = {"layers.0.neurons.0": "m0", "layers.1.neurons.0": "m1"}  # numbered by first node
    for frame, module in zip(frames["frames"], modules):
        assert _current_ids(frame["view"]) == [boxes[module]]
        assert frame["caption"].endswith(
            f" is inside {module}, drawn as one box, outlined in red.)"
        )
    assert 'class="node module"' in frames["frames"][0]["view"]  # the other box, not outlined


@NEEDS_DOT
def test_a_stepper_under_max_depth_says_which_steps_it_does_not_draw():
    """Steps deeper than max_depth have no node in the drawing: their captions say so, and
    nothing is outlined (the page outlined nothing and said nothing)."""
    x1, x2 = micrograd.Value(1.0, label="x1"), micrograd.Value(-2.0, label="x2")
    z = ((x1 * x2).tanh() * 3 + x1).exp()  # steps: exp, +, * 3, tanh, x1 * x2
    frames = page_data(steps.step_through(z, max_depth=1).html)["frames"]
    drawn = [bool(_current_ids(frame["view"])) for frame in frames]
    assert drawn == [True, True, False, False, False]  # the root and the + reading it
    for frame, shown in zip(frames, drawn):
        note = "is not drawn: it is more than max_depth=1 ops from the root.)"
        assert frame["caption"].endswith(note) != shown
