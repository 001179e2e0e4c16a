"""save_backward_html opened in a real headless Chromium (the system browser, driven by
Playwright): the frames step in backward()'s order, the last shows backward()'s gradients,
and the page makes no network request."""

from __future__ import annotations

import os
import re
import shutil

import pytest

import micrograd
from micrograd.draw import save_backward_html

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no system browser at {CHROMIUM}"),
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed"),
    pytest.mark.xdist_group("browser"),
]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VISIBLE = ".frame:not([hidden])"


def graph():
    a, b, c = micrograd.Value(0.7, label="a"), micrograd.Value(-1.3, label="b"), 2.0
    h = (a * b + a * a).tanh()
    out = h * c + (h / 2.0).exp() - a
    out.label = "out"
    return out


def shown_grads(page) -> dict[str, str]:
    """node index -> the text after 'grad ' in the visible frame's drawing."""
    return page.eval_on_selector_all(
        f"{VISIBLE} g.node",
        """nodes => Object.fromEntries(nodes.flatMap(g => {
             const m = g.id.match(/-v(\\d+)$/);
             const t = [...g.querySelectorAll('text')].map(x => x.textContent)
                       .find(x => x.startsWith('grad '));
             return m && t ? [[Number(m[1]), t.slice(5)]] : [];
           }))""",
    )


def current_node(page) -> int:
    ids = page.eval_on_selector_all(f"{VISIBLE} g.current", "gs => gs.map(g => g.id)")
    assert len(ids) == 1
    return int(ids[0].rsplit("-v", 1)[1])


def test_page_walks_backward_in_engine_order(tmp_path):
    from playwright.sync_api import sync_playwright

    out = graph()
    path = save_backward_html(out, tmp_path / "backward.html")
    reference = graph()
    reference.backward()
    order = micrograd.topological_order(reference)
    engine_order = [i for i in reversed(range(len(order))) if order[i]._prev]

    requests = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.goto(path.as_uri())
            assert page.locator(VISIBLE).count() == 1
            assert page.inner_text("#counter") == f"1 / {len(engine_order)}"
            assert page.is_disabled("#prev") and current_node(page) == engine_order[0]
            assert "grad 1.000" in page.inner_text("#caption")  # the root starts with 1

            seen = [current_node(page)]
            for _ in engine_order[1:]:
                page.click("#next")
                seen.append(current_node(page))
            assert seen == engine_order
            assert page.is_disabled("#next")

            final = shown_grads(page)
            for i, node in enumerate(order):
                if node._op is not micrograd.ops.CONST:
                    assert float(final[str(i)]) == pytest.approx(node.grad, rel=1e-3, abs=1e-12)

            page.keyboard.press("ArrowLeft")
            assert current_node(page) == engine_order[-2]
            page.keyboard.press("Home")
            assert current_node(page) == engine_order[0]
            page.fill("#slider", "2")
            assert current_node(page) == engine_order[2]
            assert page.inner_text("#counter") == f"3 / {len(engine_order)}"
        finally:
            browser.close()
    assert requests == [path.as_uri()]
    text = path.read_text()
    assert not re.search(r"<script[^>]*\bsrc=|<link\b|<img\b|url\(|@import", text)


def test_the_node_being_processed_is_scrolled_into_view(tmp_path):
    from playwright.sync_api import sync_playwright

    path = save_backward_html(graph(), tmp_path / "backward.html")
    inside = f"""() => {{
        const frame = document.querySelector('{VISIBLE}').getBoundingClientRect();
        const node = document.querySelector('{VISIBLE} g.current').getBoundingClientRect();
        return node.left >= frame.left - 1 && node.right <= frame.right + 1;
    }}"""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(
                viewport={"width": 480, "height": 600}
            )  # narrower than the graph
            page.goto(path.as_uri())
            assert page.evaluate(inside)
            while not page.is_disabled("#next"):
                page.click("#next")
                assert page.evaluate(inside), page.inner_text("#counter")
        finally:
            browser.close()
