"""Seeing the graph: Graphviz drawings (inline SVG in Jupyter), the backward pass step by step
(frames with chain-rule captions, a stepper inside Jupyter, or one self-contained HTML page),
and JSON export.

The engine never imports this module, and this module imports the graphviz package only
when a drawing is made. The implementation lives in ``micrograd/viz/``.
"""

from .viz.dot import STYLES, draw_dot
from .viz.graph import KINDS, to_json
from .viz.render import DotNotFoundError, save_svg
from .viz.steps import (
    Edge,
    Frame,
    StepThrough,
    backward_steps,
    caption,
    draw_step,
    save_backward_html,
    step_through,
)

__all__ = [
    "KINDS",
    "STYLES",
    "DotNotFoundError",
    "Edge",
    "Frame",
    "StepThrough",
    "backward_steps",
    "caption",
    "draw_dot",
    "draw_step",
    "save_backward_html",
    "save_svg",
    "step_through",
    "to_json",
]
