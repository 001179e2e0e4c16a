"""The stepper: backpropagation one step at a time, with Previous, Next, a slider and the
arrow keys, as one self-contained piece of HTML (inline SVG, CSS and JavaScript, nothing
fetched). ``micrograd.step_through(y)`` shows it inside Jupyter (JupyterLab, the classic
Notebook and VS Code run a trusted output's script); ``save_backward_html`` puts the same
piece in a page of its own.

Where no script runs (GitHub's notebook viewer, an untrusted notebook), the piece still
shows a static frame: the last step, with every gradient known, and a note saying why it
does not move. Frames are kept as data inside a ``<script type="application/json">``, which
such viewers drop, so they never pile up on the page.

Without Graphviz's ``dot`` each frame is a table of the nodes instead of a drawing, and the
stepper says so.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import secrets

from .graph import Graph, _json_float, fmt, grad_text, printable
from .render import DotNotFoundError, svg_texts

# A notebook's steppers need ids of their own on its page, even beside outputs an earlier
# kernel saved: this process's token, then a count.
_PROCESS = secrets.token_hex(4)
_instances = itertools.count()


def new_uid() -> str:
    """An id for one stepper in a notebook, unique on its page."""
    return f"micrograd-stepper-{_PROCESS}-{next(_instances)}"


def stepper_html(
    graph: Graph, frames: list, final: dict, dots: list, keys: str, notes: list[str]
) -> str:
    """The stepper for these frames: frames[k] drawn as dots[k] (Digraphs), its caption
    followed by notes[k] where it is drawn (what the drawing shows of its node), final the
    gradients after the last. keys: "page" listens to the arrow keys anywhere on the page,
    "self" only while the stepper has the focus (a notebook has keys of its own)."""
    from .steps import _receive, caption  # steps imports this module

    uid = "micrograd-stepper" if keys == "page" else new_uid()  # a page holds one: the same
    # bytes on every run
    try:
        views = [_svg(svg, uid) for svg in svg_texts(dots)]
        missing = ""
        captions = [caption(frame) + note for frame, note in zip(frames, notes)]
    except DotNotFoundError:  # a table of every node instead: nothing left out or boxed
        known: dict[int, float] = {len(graph.nodes) - 1: 1.0}
        views = []
        captions = [caption(frame) for frame in frames]
        for frame in frames:
            _receive(known, frame.edges)
            views.append(_table(graph, frame, known, uid))
        missing = (
            "Graphviz's <code>dot</code> program was not found, so each step is a table of "
            "the nodes instead of a drawing. Install Graphviz (e.g. <code>apt-get install "
            "graphviz</code>) to draw the graph."
        )
    data = {
        "keys": keys,
        "frames": [
            {
                "caption": text,
                "node": frame.index,
                "inputs": sorted({edge.source for edge in frame.edges}),
                "view": view,
            }
            for frame, view, text in zip(frames, views, captions)
        ],
        "final_grads": {str(i): _json_float(g) for i, g in final.items()},
    }
    # strict JSON (the page's JSON.parse has no NaN or Infinity: a nan gradient stopped the
    # page), and no "<" at all: "</" would end the script, and "<!--<script" would make the
    # parser read past its end
    payload = json.dumps(data, allow_nan=False).replace("<", "\\u003c")
    last = data["frames"][-1]
    return _TEMPLATE.format(
        uid=uid,
        style=_STYLE.replace("#ID", f"#{uid}"),
        missing=f'<p class="mg-missing">{missing}</p>' if missing else "",
        caption=html.escape(last["caption"]),
        view=last["view"],
        count=len(frames),
        payload=payload,
        script=_SCRIPT.replace("ID", json.dumps(uid)),
    )


def _svg(svg: str, uid: str) -> str:
    """An SVG from dot, ready to sit inline: no XML prolog, ids unique on the page."""
    svg = svg[svg.index("<svg") :]
    return re.sub(r'\bid="', f'id="{uid}-', svg)


def _table(graph: Graph, frame, known: dict, uid: str) -> str:
    """A frame without Graphviz: one row per node, the one being processed in bold red."""
    rows = []
    for i, node in enumerate(graph.nodes):
        op = "" if not node._prev else printable(node._op)
        inputs = ", ".join(f"#{j}" for j in graph.inputs(i))
        cells = [f"#{i}", printable(node.label or ""), f"{op}({inputs})" if op else graph.kinds[i]]
        cells += [fmt(node.data), grad_text(known.get(i))]
        current = ' class="mg-current"' if i == frame.index else ""
        row = "".join(f"<td>{html.escape(cell)}</td>" for cell in cells)
        rows.append(f'<tr id="{uid}-v{i}"{current}>{row}</tr>')
    head = "".join(f"<th>{name}</th>" for name in ("node", "label", "made by", "data", "grad"))
    return f'<table class="mg-table"><tr>{head}</tr>{"".join(rows)}</table>'


_STYLE = """
#ID { font-family: Helvetica, Arial, sans-serif; color: #111827; }
#ID .mg-controls { display: flex; gap: 0.5rem; align-items: center; margin: 0.4rem 0;
                   flex-wrap: wrap; }
#ID .mg-controls input[type=range] { flex: 1; min-width: 8rem; max-width: 36rem; }
#ID button { font-size: 0.95rem; padding: 0.2rem 0.7rem; }
#ID .mg-caption { min-height: 2.5em; font-size: 0.95rem; line-height: 1.4; }
#ID .mg-view { overflow: auto; max-width: 100%; max-height: 80vh; border: 1px solid #e5e7eb; }
#ID .mg-view svg { display: block; }
#ID .mg-note, #ID .mg-hint, #ID .mg-missing { color: #6b7280; font-size: 0.85rem; }
#ID .mg-table { border-collapse: collapse; font-size: 0.85rem; }
#ID .mg-table td, #ID .mg-table th { border: 1px solid #e5e7eb; padding: 0.15rem 0.5rem; }
#ID .mg-table tr.mg-current { color: #dc2626; font-weight: bold; }
#ID:focus { outline: 2px solid #93c5fd; }
"""

_TEMPLATE = """<div class="micrograd-stepper" id="{uid}" tabindex="0" data-count="{count}">
<style>{style}</style>
{missing}<div class="mg-controls"></div>
<p class="mg-caption">{caption}</p>
<div class="mg-view">{view}</div>
<p class="mg-note">The last of {count} steps of the backward pass, with every gradient known.
To step through them, run the notebook's cells (or trust it) in Jupyter, or open the page
micrograd.draw.save_backward_html writes.</p>
<script type="application/json" class="mg-data">{payload}</script>
<script>{script}</script>
</div>"""

# One stepper per element: everything it touches is found inside its own <div>.
_SCRIPT = r"""
(function () {
  var root = document.getElementById(ID);
  if (!root || root.dataset.ready) { return; }
  root.dataset.ready = "1";
  var data = JSON.parse(root.querySelector(".mg-data").textContent);
  var frames = data.frames, current = 0, zoom = null;  // zoom null: fit to the width
  var view = root.querySelector(".mg-view"), caption = root.querySelector(".mg-caption");
  root.querySelector(".mg-note").remove();
  var controls = root.querySelector(".mg-controls");
  function button(text, title, action) {
    var b = document.createElement("button");
    b.type = "button"; b.textContent = text; b.title = title;
    b.addEventListener("click", action);
    controls.appendChild(b);
    return b;
  }
  var prev = button("\u25C0 Previous", "previous step (\u2190)",
                    function () { show(current - 1); });
  var slider = document.createElement("input");
  slider.type = "range"; slider.min = "0"; slider.max = String(frames.length - 1);
  slider.setAttribute("aria-label", "step");
  slider.className = "mg-slider";
  controls.appendChild(slider);
  var next = button("Next \u25B6", "next step (\u2192)", function () { show(current + 1); });
  var counter = document.createElement("span");
  counter.className = "mg-counter";
  controls.appendChild(counter);
  button("\u2212", "zoom out", function () { setZoom(scale() / 1.25); });
  button("Fit", "fit the graph to the width (down to 60%)",
         function () { zoom = null; show(current); });
  button("+", "zoom in", function () { setZoom(scale() * 1.25); });
  prev.className = "mg-prev"; next.className = "mg-next";
  var hint = document.createElement("p");
  hint.className = "mg-hint";
  hint.textContent = "Red: the node being processed, and the gradients it sends to its " +
    "inputs. \u201C?\u201D: no gradient has arrived yet. Keys: \u2190 \u2192, Home, End" +
    (data.keys === "self" ? " (click the stepper first)." : ".");
  view.parentNode.insertBefore(hint, view.nextSibling);

  function svg() { return view.querySelector("svg"); }
  function natural() {  // the drawing's own size in CSS pixels (dot writes points)
    var s = svg();
    if (!s) { return null; }
    var box = s.viewBox && s.viewBox.baseVal;
    return box && box.width ? { w: box.width * 4 / 3, h: box.height * 4 / 3 } : null;
  }
  // Fit the width, but not below 60%, where text turns too small to read: a wider graph
  // scrolls instead, following the step (see follow).
  function fitScale() {
    var size = natural();
    return size ? Math.min(1, Math.max(0.6, (view.clientWidth - 2) / size.w)) : 1;
  }
  function scale() { return zoom === null ? fitScale() : zoom; }
  function setZoom(z) { zoom = Math.max(0.1, Math.min(4, z)); show(current); }
  function applyZoom() {
    var size = natural(), s = svg();
    if (!size) { return; }
    s.setAttribute("width", String(size.w * scale()));
    s.setAttribute("height", String(size.h * scale()));
  }
  function element(name) { return view.querySelector('[id="' + ID + "-" + name + '"]'); }
  // Keep in view the op being processed, then its output node, then its inputs, nearest
  // first: each joins if all chosen so far still fit, and the chosen are centred. A step
  // inside a collapsed module keeps the module's box in view.
  function follow(frame) {
    var outer = view.getBoundingClientRect();
    var width = view.clientWidth, height = view.clientHeight;
    function rect(name) {
      var e = element(name);
      return e ? e.getBoundingClientRect() : null;
    }
    var outlined = view.querySelector("g.current");
    var op = rect("o" + frame.node) || rect("v" + frame.node) ||
      (outlined ? outlined.getBoundingClientRect() : null);
    if (!op) { return; }
    var middle = (op.left + op.right) / 2;
    function distance(r) { return Math.abs((r.left + r.right) / 2 - middle); }
    var inputs = frame.inputs.map(function (j) { return rect("v" + j); })
      .filter(Boolean).sort(function (p, q) { return distance(p) - distance(q); });
    var box = { left: op.left, right: op.right, top: op.top, bottom: op.bottom };
    [rect("v" + frame.node)].concat(inputs).forEach(function (r) {
      if (!r) { return; }
      var grown = { left: Math.min(box.left, r.left), right: Math.max(box.right, r.right),
                    top: Math.min(box.top, r.top), bottom: Math.max(box.bottom, r.bottom) };
      if (grown.right - grown.left <= width && grown.bottom - grown.top <= height) {
        box = grown;
      }
    });
    view.scrollLeft += (box.left + box.right - width) / 2 - outer.left;
    view.scrollTop += (box.top + box.bottom - height) / 2 - outer.top;
  }
  function show(k) {
    k = Math.max(0, Math.min(frames.length - 1, k));
    current = k;
    view.innerHTML = frames[k].view;
    applyZoom();
    slider.value = String(k);
    counter.textContent = (k + 1) + " / " + frames.length;
    caption.textContent = frames[k].caption;
    prev.disabled = k === 0;
    next.disabled = k === frames.length - 1;
    root.dataset.step = String(k);
    follow(frames[k]);
  }
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  var keyTarget = data.keys === "page" ? document : root;
  keyTarget.addEventListener("keydown", function (event) {
    if (event.target === slider) { return; }  // the slider moves itself on arrow keys
    // Alt+Left is the browser's Back, Shift+Home a selection: keys with a modifier are theirs
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    var moves = { ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0,
                  End: frames.length - 1 };
    if (event.key in moves) {
      event.preventDefault(); event.stopPropagation(); show(moves[event.key]);
    }
  });
  window.addEventListener("resize", function () { if (zoom === null) { show(current); } });
  show(0);
})();
"""
