"""nn: a small neural-net library built on the micrograd engine."""

from .module import ACTIVATIONS, INITS, MLP, Layer, Module, Neuron, Sequential, from_config

__all__ = ["ACTIVATIONS", "INITS", "MLP", "Layer", "Module", "Neuron", "Sequential", "from_config"]
