"""The HTML page of save_backward_html: everything inline, and a Content-Security-Policy
that forbids the page any network access."""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>micrograd: the backward pass, step by step</title>
<style>
  body { font-family: Helvetica, Arial, sans-serif; margin: 1rem 2rem; color: #111827; }
  h1 { font-size: 1.2rem; }
  .controls { display: flex; gap: 0.75rem; align-items: center; margin: 0.5rem 0; }
  .controls input[type=range] { flex: 1; max-width: 40rem; }
  button { font-size: 1rem; padding: 0.3rem 0.9rem; }
  #caption { min-height: 2.5em; font-size: 0.95rem; }
  .frame { overflow: auto; }  /* natural size, scrolled: a shrunken graph is unreadable */
  .hint { color: #6b7280; font-size: 0.85rem; }
</style>
</head>
<body>
<h1>The backward pass, step by step</h1>
<div class="controls">
  <button id="prev" type="button">&#9664; Previous</button>
  <input id="slider" type="range" min="0" max="0" value="0" aria-label="step">
  <button id="next" type="button">Next &#9654;</button>
  <span id="counter">1 / {{COUNT}}</span>
</div>
<p id="caption"></p>
<p class="hint">Red: the node being processed and the gradients it just sent to its inputs.
&quot;?&quot;: no gradient has arrived yet. Keys: &larr; &rarr;, Home, End.</p>
<div id="frames" data-final-grads="{{GRADS}}">
{{FRAMES}}
</div>
<script>
(function () {
  var frames = Array.prototype.slice.call(document.querySelectorAll(".frame"));
  var slider = document.getElementById("slider");
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  var current = 0;
  slider.max = String(frames.length - 1);
  function show(k) {
    k = Math.max(0, Math.min(frames.length - 1, k));
    frames[current].hidden = true;
    current = k;
    frames[k].hidden = false;
    slider.value = String(k);
    document.getElementById("counter").textContent = (k + 1) + " / " + frames.length;
    document.getElementById("caption").textContent = frames[k].dataset.caption;
    prev.disabled = k === 0;
    next.disabled = k === frames.length - 1;
    document.body.dataset.step = String(k);
    scrollToNode(frames[k]);
  }
  // A wide graph scrolls: bring the node being processed into view.
  function scrollToNode(frame) {
    var titles = frame.querySelectorAll("g.node > title");
    for (var i = 0; i < titles.length; i++) {
      if (titles[i].textContent === "v" + frame.dataset.node) {
        titles[i].parentNode.scrollIntoView({ block: "nearest", inline: "center" });
        return;
      }
    }
  }
  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  document.addEventListener("keydown", function (event) {
    if (event.target === slider) { return; }  // the slider moves itself on arrow keys
    var moves = { ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0,
                  End: frames.length - 1 };
    if (event.key in moves) { event.preventDefault(); show(moves[event.key]); }
  });
  show(0);
})();
</script>
</body>
</html>
"""
