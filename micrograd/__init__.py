"""micrograd: a scalar-valued autograd engine, for learning how backpropagation works."""

from .backward import grad, topological_order
from .engine import Value
from .gradcheck import GradcheckError, gradcheck
from .modes import (
    add_decision_hook,
    add_node_hook,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    remove_decision_hook,
    remove_node_hook,
)
from .ops import OPS, Op

__version__ = "1.0.0"

# From micrograd.draw, loaded on first use (graphviz only when a drawing is made).
_DRAWING = (
    "draw_dot",
    "draw_step",
    "save_svg",
    "backward_steps",
    "save_backward_html",
    "step_through",
    "to_json",
)

__all__ = [
    "OPS",
    "GradcheckError",
    "Op",
    "Value",
    "add_decision_hook",
    "add_node_hook",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "remove_decision_hook",
    "remove_node_hook",
    "topological_order",
    *_DRAWING,
]


def __getattr__(name: str):
    # micrograd.compile needs numpy; importing it lazily keeps `import micrograd` free of it.
    if name == "compile":
        from .compiler import compile

        return compile
    if name in _DRAWING:
        # micrograd.draw imports graphviz only when a drawing is made; load it on first use.
        from . import draw

        return getattr(draw, name)
    raise AttributeError(f"module 'micrograd' has no attribute {name!r}")
