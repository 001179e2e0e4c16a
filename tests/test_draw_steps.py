"""backward_steps: one frame per node backward() processes, in its order, ending with its
gradients (PyTorch float64 checks the leaves); and draw_step's highlighting."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
import torch

import micrograd
from micrograd.draw import backward_steps, draw_step, save_backward_html

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


def test_draw_step_highlights_current_node_and_sent_edges():
    out, _ = graph(*POINT)
    frames = list(backward_steps(out))
    frame = frames[2]
    source = draw_step(frame).source
    current = re.search(rf"^\s*v{frame.index} \[.*$", source, re.M).group(0)
    assert 'class="value current"' in current or 'class="root current"' in current
    assert source.count("current") == 1
    red_edges = re.findall(r"^\s*v(\d+) -> o(\d+) \[.*xlabel", source, re.M)
    assert red_edges == [(str(e.source), str(frame.index)) for e in frame.edges]
    unknown = [i for i in range(len(frame.graph.nodes)) if i not in frame.grads]
    assert unknown and source.count("grad ?") == len(
        [i for i in unknown if frame.graph.kinds[i] != "const"]
    )


def test_html_refuses_a_leaf_and_too_many_frames(tmp_path):
    with pytest.raises(ValueError, match="leaf"):
        save_backward_html(micrograd.Value(1.0), tmp_path / "x.html")
    out, _ = graph(*POINT)
    with pytest.raises(ValueError, match="max_frames"):
        save_backward_html(out, tmp_path / "x.html", max_frames=2)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
def test_html_is_byte_identical_across_runs(tmp_path):
    first = save_backward_html(graph(*POINT)[0], tmp_path / "one.html").read_bytes()
    second = save_backward_html(graph(*POINT)[0], tmp_path / "two.html").read_bytes()
    assert first == second and first.count(b'class="frame"') == len(
        list(backward_steps(graph(*POINT)[0]))
    )


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
    from micrograd.viz.steps import caption

    a, b = micrograd.Value(0.5, label="a"), micrograd.Value(-2.0, label="b")
    shapes = {
        a * b: r"= #\d+ \(a\) \* #\d+ \(b\) has grad",
        a.leaky_relu(b): r"= leaky_relu\(#\d+ \(a\), #\d+ \(b\)\) has grad",
        a.maximum(b): r"= maximum\(#\d+ \(a\), #\d+ \(b\)\) has grad",
        a.log1p(): r"= log1p\(#\d+ \(a\)\) has grad",
    }
    for root, shape in shapes.items():
        first = next(iter(backward_steps(root)))
        assert re.search(shape, caption(first)), caption(first)
