"""Compatibility alias: karpathy/micrograd's ``from micrograd.nn import Neuron, Layer, MLP``.

The neural-net library lives in the top-level package ``nn``, which imports ``micrograd``.
This module is the one place where ``micrograd`` imports ``nn`` (the arrow otherwise points
one way), kept so that code written for karpathy/micrograd runs unchanged.
"""

from nn import MLP, Layer, Module, Neuron

__all__ = ["MLP", "Layer", "Module", "Neuron"]
