"""The stepper in a real headless Chromium (the system browser, driven by Playwright): the page
save_backward_html writes, and micrograd.step_through(y) in a notebook executed by nbclient
and rendered to HTML by nbconvert. Frames step in backward()'s order, the last shows
backward()'s gradients, the current node and its inputs stay in view in a narrow window, no
edge label lies on a node, nothing is fetched, and without a script the last frame shows."""

from __future__ import annotations

import math
import os
import re
import shutil

import nbformat
import pytest

import micrograd
from micrograd.draw import save_backward_html

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no system browser at {CHROMIUM}"),
    pytest.mark.xdist_group("browser"),
]
NEEDS_DOT = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STEPPER = ".micrograd-stepper"
LECTURE = """\
x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")
x1w1 = x1 * w1; x1w1.label = "x1*w1"
x2w2 = x2 * w2; x2w2.label = "x2*w2"
x1w1x2w2 = x1w1 + x2w2; x1w1x2w2.label = "x1*w1 + x2*w2"
n = x1w1x2w2 + b; n.label = "n"
o = n.tanh(); o.label = "o"
"""


def graph():
    """A repeated input, a constant, a fan-out and a unary op."""
    a, b, c = micrograd.Value(0.7, label="a"), micrograd.Value(-1.3, label="b"), 2.0
    h = (a * b + a * a).tanh()
    out = h * c + (h / 2.0).exp() - a
    out.label = "out"
    return out


def lecture_neuron():
    scope = {"Value": micrograd.Value}
    exec(LECTURE, scope)
    return scope["o"]


def engine_order(root) -> list[int]:
    order = micrograd.topological_order(root)
    return [i for i in reversed(range(len(order))) if order[i]._prev]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def shown_grads(stepper) -> dict[int, str]:
    """node index -> the text after 'grad ' in the stepper's drawing."""
    found = stepper.locator(".mg-view svg g.node").evaluate_all(
        """nodes => Object.fromEntries(nodes.flatMap(g => {
             const m = g.id.match(/-v(\\d+)$/);
             const t = [...g.querySelectorAll('text')].map(x => x.textContent)
                       .find(x => x.startsWith('grad '));
             return m && t ? [[Number(m[1]), t.slice(5)]] : [];
           }))"""
    )
    return {int(i): text for i, text in found.items()}


def current_node(stepper) -> int:
    ids = stepper.locator(".mg-view g.current").evaluate_all("gs => gs.map(g => g.id)")
    assert len(ids) == 1
    return int(ids[0].rsplit("-v", 1)[1])


def boxes(stepper, names) -> tuple[dict, dict[str, dict]]:
    """The stepper's view and the drawn boxes of the elements named v{i} (nodes) or o{i}
    (their ops), as page rectangles."""
    return stepper.evaluate(
        """(root, names) => {
             const box = e => { const r = e.getBoundingClientRect();
                                return {left: r.left, right: r.right, top: r.top,
                                        bottom: r.bottom}; };
             const view = root.querySelector('.mg-view');
             const inner = box(view);  // less its scroll bars
             inner.right = inner.left + view.clientWidth;
             inner.bottom = inner.top + view.clientHeight;
             return [inner, Object.fromEntries(names.map(n =>
               [n, box(root.querySelector(`.mg-view [id$="-${n}"]`))]))];
           }""",
        list(names),
    )


def inside(box: dict, view: dict) -> bool:
    return (
        box["left"] >= view["left"] - 1
        and box["right"] <= view["right"] + 1
        and box["top"] >= view["top"] - 1
        and box["bottom"] <= view["bottom"] + 1
    )


def fits(rects: list[dict], view: dict) -> bool:
    """Whether the rectangles' bounding box is no bigger than the view."""
    width = max(r["right"] for r in rects) - min(r["left"] for r in rects)
    height = max(r["bottom"] for r in rects) - min(r["top"] for r in rects)
    return width <= view["right"] - view["left"] and height <= view["bottom"] - view["top"]


def visible(stepper, indices) -> bool:
    """Whether the nodes #i (their drawn boxes) all lie inside the stepper's view."""
    view, found = boxes(stepper, [f"v{i}" for i in indices])
    return all(inside(box, view) for box in found.values())


def walk(stepper, root) -> list[int]:
    """Click Next to the end: the nodes processed, one per step."""
    seen = [current_node(stepper)]
    while not stepper.locator(".mg-next").is_disabled():
        stepper.locator(".mg-next").click()
        seen.append(current_node(stepper))
    return seen


@NEEDS_DOT
def test_page_walks_backward_in_engine_order(tmp_path, browser):
    out = graph()
    path = save_backward_html(out, tmp_path / "backward.html")
    reference = graph()
    reference.backward()
    order = micrograd.topological_order(reference)
    expected = engine_order(reference)

    requests = []
    page = browser.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    stepper = page.locator(STEPPER)
    assert stepper.locator(".mg-view svg").count() == 1
    assert stepper.locator(".mg-counter").inner_text() == f"1 / {len(expected)}"
    assert stepper.locator(".mg-prev").is_disabled() and current_node(stepper) == expected[0]
    first = stepper.locator(".mg-caption").inner_text()
    assert first.startswith("Step 1: out = ") and "out.grad = 1.000." in first
    assert stepper.locator(".mg-note").count() == 0  # the no-script note goes

    assert walk(stepper, out) == expected
    final = shown_grads(stepper)
    for i, node in enumerate(order):
        if node._op is not micrograd.ops.CONST:
            assert float(final[i]) == pytest.approx(node.grad, rel=1e-3, abs=1e-12)

    page.keyboard.press("ArrowLeft")
    assert current_node(stepper) == expected[-2]
    for chord in ("Alt+ArrowLeft", "Control+ArrowLeft", "Shift+Home", "Meta+Home"):
        page.keyboard.press(chord)  # the browser's (Back, a selection): they stepped too
        assert current_node(stepper) == expected[-2], chord
    page.keyboard.press("Home")
    assert current_node(stepper) == expected[0]
    stepper.locator(".mg-slider").fill("2")
    assert current_node(stepper) == expected[2]
    assert stepper.locator(".mg-counter").inner_text() == f"3 / {len(expected)}"
    assert stepper.get_attribute("data-step") == "2"
    assert requests == [path.as_uri()]
    assert not re.search(r"<script[^>]*\bsrc=|<link\b|<img\b|url\(|@import", path.read_text())


@NEEDS_DOT
@pytest.mark.parametrize("make", [graph, lecture_neuron], ids=["graph", "lecture"])
def test_a_narrow_window_keeps_the_node_and_its_inputs_in_view(tmp_path, browser, make):
    root = make()
    path = save_backward_html(root, tmp_path / "backward.html")
    order = micrograd.topological_order(root)
    page = browser.new_page(viewport={"width": 480, "height": 600})  # narrower than the graph
    page.goto(path.as_uri())
    stepper = page.locator(STEPPER)
    for zoom in ([], ["+", "+"]):  # fitted to the width (down to 60%), then zoomed in
        for label in zoom:
            stepper.locator("button", has_text=re.compile(rf"^\{label}$")).click()
        page.keyboard.press("Home")
        for _ in engine_order(root):
            i = current_node(stepper)
            inputs = [order.index(p) for p in order[i]._prev if p._op is not micrograd.ops.CONST]
            view, found = boxes(stepper, [f"v{i}", f"o{i}"] + [f"v{j}" for j in inputs])
            where = (zoom, stepper.get_attribute("data-step"))
            # first the op, then its output, then each input that fits beside those
            assert inside(found[f"o{i}"], view), where
            assert inside(found[f"v{i}"], view) or not fits([found[f"o{i}"], found[f"v{i}"]], view)
            for j in inputs:
                chosen = [found[f"o{i}"], found[f"v{i}"], found[f"v{j}"]]
                assert inside(found[f"v{j}"], view) or not fits(chosen, view), (where, j)
            page.keyboard.press("ArrowRight")
        assert stepper.get_attribute("data-step") == str(len(engine_order(root)) - 1)


@NEEDS_DOT
def test_a_1400_wide_window_shows_the_lecture_neuron_whole(tmp_path, browser):
    root = lecture_neuron()
    path = save_backward_html(root, tmp_path / "backward.html")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(path.as_uri())
    stepper = page.locator(STEPPER)
    everything = range(len(micrograd.topological_order(root)))
    for _ in engine_order(root):
        assert visible(stepper, everything), stepper.get_attribute("data-step")
        page.keyboard.press("ArrowRight")


@NEEDS_DOT
@pytest.mark.parametrize("make", [graph, lecture_neuron], ids=["graph", "lecture"])
def test_no_edge_label_lies_on_a_node(tmp_path, browser, make):
    path = save_backward_html(make(), tmp_path / "backward.html")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(path.as_uri())
    stepper = page.locator(STEPPER)
    overlaps = """root => {
        const boxes = s => [...root.querySelectorAll('.mg-view ' + s)]
          .map(e => e.getBoundingClientRect()).filter(r => r.width > 0);
        const nodes = boxes('g.node'), labels = boxes('g.edge text');
        const meet = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 &&
                               a.top < b.bottom - 1 && b.top < a.bottom - 1;
        return labels.length && labels.filter(l => nodes.some(n => meet(l, n))).length;
    }"""
    for _ in range(int(stepper.get_attribute("data-count"))):
        assert stepper.evaluate(overlaps) == 0, stepper.get_attribute("data-step")
        page.keyboard.press("ArrowRight")


@NEEDS_DOT
def test_without_scripts_the_last_step_shows_with_a_note(tmp_path, browser):
    out = graph()
    path = save_backward_html(out, tmp_path / "backward.html")
    page = browser.new_page(java_script_enabled=False)
    page.goto(path.as_uri())
    stepper = page.locator(STEPPER)
    assert stepper.locator(".mg-view svg").count() == 1
    assert current_node(stepper) == engine_order(out)[-1]
    assert stepper.locator(".mg-caption").inner_text().startswith(f"Step {len(engine_order(out))}:")
    assert "run the notebook" in stepper.locator(".mg-note").inner_text()
    assert not stepper.locator(".mg-data").is_visible()  # the frames' data is never shown
    assert stepper.locator("button").count() == 0


def test_without_graphviz_the_page_steps_through_tables(tmp_path, browser, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `dot` to be found
    out = graph()
    path = save_backward_html(out, tmp_path / "backward.html")
    page = browser.new_page()
    page.goto(path.as_uri())
    stepper = page.locator(STEPPER)
    assert "Graphviz" in stepper.locator(".mg-missing").inner_text()
    seen = []
    for _ in engine_order(out):
        row = stepper.locator(".mg-view tr.mg-current").get_attribute("id")
        seen.append(int(row.rsplit("-v", 1)[1]))
        page.keyboard.press("ArrowRight")
    assert seen == engine_order(out)
    reference = graph()
    reference.backward()
    cells = stepper.locator(".mg-view tr").evaluate_all(
        "rows => rows.slice(1).map(r => [...r.cells].map(c => c.textContent))"
    )
    for (index, _, _, _, grad), node in zip(cells, micrograd.topological_order(reference)):
        if node._op is not micrograd.ops.CONST:
            assert float(grad) == pytest.approx(node.grad, rel=1e-3, abs=1e-12), index


@NEEDS_DOT
def test_step_through_in_a_notebook_rendered_by_nbconvert(tmp_path, browser):
    import nbclient
    from nbconvert import HTMLExporter

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("import micrograd\nfrom micrograd import Value\n" + LECTURE),
        nbformat.v4.new_code_cell("micrograd.step_through(o)"),
        nbformat.v4.new_code_cell("y = (x1 * x1).exp(); y.label = 'y'\nmicrograd.step_through(y)"),
    ]
    nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    outputs = [cell.outputs[0] for cell in notebook.cells[1:]]
    pieces = [output["data"]["text/html"] for output in outputs]
    for piece in pieces:  # self-contained: nothing to fetch, and no stray markup
        assert not re.search(r"<script[^>]*\bsrc=|<link\b|<img\b|url\(|@import", piece)
        assert piece.startswith('<div class="micrograd-stepper"') and piece.endswith("</div>")
    assert "text/plain" in outputs[0]["data"]  # what a terminal shows

    body, _ = HTMLExporter().from_notebook_node(notebook)
    path = tmp_path / "notebook.html"
    path.write_text(body, encoding="utf-8")
    page = browser.new_page()
    fetched = []
    # the exporter's page asks for its own scripts (MathJax, require.js) from the web: no
    # network here, so those are refused and the stepper must work without them
    page.route(
        re.compile(r"^(?!file:)"), lambda route: (fetched.append(route.request.url), route.abort())
    )
    page.goto(path.as_uri())
    steppers = page.locator(STEPPER)
    assert steppers.count() == 2
    neuron, square = steppers.nth(0), steppers.nth(1)
    assert neuron.get_attribute("id") != square.get_attribute("id")
    o = lecture_neuron()
    assert "do/dn = 1 - o ** 2 = 0.5000" in neuron.locator(".mg-caption").inner_text()
    assert walk(neuron, o) == engine_order(o)
    o.backward()
    final = shown_grads(neuron)
    for i, node in enumerate(micrograd.topological_order(o)):
        assert float(final[i]) == pytest.approx(node.grad, rel=1e-3, abs=1e-12)
    # keys move only the stepper that has the focus: a notebook has keys of its own
    square.click()
    page.keyboard.press("ArrowRight")
    assert square.get_attribute("data-step") == "1"
    assert neuron.get_attribute("data-step") == str(len(engine_order(o)) - 1)
    assert all("micrograd" not in url for url in fetched)


@pytest.mark.parametrize("graphviz", [True, False], ids=["graphviz", "tables"])
def test_a_page_with_nan_and_inf_gradients_and_a_label_that_opens_a_comment_steps(
    tmp_path, browser, monkeypatch, graphviz
):
    """JSON.parse refused the NaN and Infinity of the page's data (the page had no buttons),
    and a label "<!--<script" made the parser read the stepper's script as data."""
    if graphviz and shutil.which("dot") is None:
        pytest.skip("Graphviz `dot` not installed")
    if not graphviz:
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    x = micrograd.Value(0.0, label="<!--<script>")
    out = x.sqrt() * 2.0 + (x * micrograd.Value(math.inf)).relu()
    path = save_backward_html(out, tmp_path / "backward.html")
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    stepper = page.locator(STEPPER)
    steps = len(engine_order(out))
    assert stepper.locator(".mg-counter").inner_text() == f"1 / {steps}"
    for _ in range(steps - 1):
        stepper.locator(".mg-next").click()
    assert stepper.locator(".mg-counter").inner_text() == f"{steps} / {steps}"
    assert errors == []


def test_a_stepper_shown_twice_steps_in_each_place(tmp_path, browser):
    # display(s) in a second cell put a second element of the same id on the page: it never
    # got its buttons, and kept the note saying to run the notebook
    x = micrograd.Value(2.0, label="x")
    y = (x * 3.0).tanh()
    y.label = "y"
    shown = micrograd.step_through(y)
    page_path = tmp_path / "twice.html"
    page_path.write_text(
        f"<html><body>{shown._repr_html_()}<hr>{shown._repr_html_()}</body></html>"
    )
    page = browser.new_page()
    page.goto(page_path.as_uri())
    steppers = page.locator(STEPPER)
    assert steppers.count() == 2
    for k in range(2):
        stepper = steppers.nth(k)
        assert stepper.locator("button").count() > 0 and stepper.locator(".mg-note").count() == 0
        stepper.locator(".mg-next").click()
        assert stepper.locator(".mg-counter").inner_text().startswith("2 / ")


@NEEDS_DOT
def test_a_narrow_window_keeps_the_box_of_a_collapsed_step_in_view(tmp_path, browser):
    """With collapse, a step's node is inside a module's box, and the box is what is outlined:
    the view follows it as it follows a node (it stayed where the last drawn node was)."""
    import random

    from micrograd import nn

    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    out = model([micrograd.Value(0.5, label="x1"), micrograd.Value(-1.0, label="x2")])
    path = save_backward_html(out, tmp_path / "b.html", model, group="neuron", collapse=True)
    page = browser.new_page(viewport={"width": 300, "height": 600})  # narrower than the graph
    page.goto(path.as_uri())
    stepper = page.locator(STEPPER)
    stepper.locator("button", has_text=re.compile(r"^\+$")).click()  # zoomed in: it scrolls
    page.keyboard.press("Home")
    seen = set()
    for _ in engine_order(out):
        ids = stepper.locator(".mg-view g.current").evaluate_all("gs => gs.map(g => g.id)")
        assert len(ids) == 1 and re.search(r"-m\d+$", ids[0])  # one box outlined
        box = ids[0].rsplit("-", 1)[1]
        view, found = boxes(stepper, [box])
        assert inside(found[box], view), (box, stepper.get_attribute("data-step"))
        seen.add(box)
        page.keyboard.press("ArrowRight")
    assert len(seen) == 4  # every neuron's box had its turn
