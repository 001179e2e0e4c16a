"""The bridge to PyTorch, for models that outgrow a scalar engine. torch is imported here only,
and only when a function is called.

A Layer is a ``torch.nn.Linear`` (its neurons' weights are the rows of the weight matrix)
followed by the activation's module; a linear activation adds no module.
"""

from __future__ import annotations

from typing import Any

from .module import MLP, Layer, Module, Neuron, Sequential

__all__ = ["to_torch", "from_torch"]

_TORCH_ACTIVATIONS = {
    "relu": "ReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "leaky_relu": "LeakyReLU",
}
_LEAKY_SLOPE = 0.01  # the slope of our "leaky_relu", and PyTorch's default


def _dense_layers(module: Module) -> list[tuple[list[list[float]], list[float], str]]:
    """[(weight rows, biases, activation)] for each dense layer of module, in order."""
    if isinstance(module, Neuron):
        return [([[w.data for w in module.w]], [module.b.data], module.activation)]
    if isinstance(module, Layer):
        rows = [[w.data for w in n.w] for n in module.neurons]
        return [(rows, [n.b.data for n in module.neurons], module.activation)]
    if isinstance(module, Sequential):
        return [dense for child in module.layers for dense in _dense_layers(child)]
    raise TypeError(
        f"to_torch: cannot convert {type(module).__name__}; "
        "expected Neuron, Layer, MLP or Sequential"
    )


def to_torch(model: Module) -> Any:
    """An equivalent torch.nn.Sequential (float64) holding copies of model's parameters."""
    import torch

    modules = []
    for rows, biases, activation in _dense_layers(model):
        linear = torch.nn.Linear(len(rows[0]), len(rows), dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(rows, dtype=torch.float64))
            linear.bias.copy_(torch.tensor(biases, dtype=torch.float64))
        modules.append(linear)
        if activation == "leaky_relu":
            modules.append(torch.nn.LeakyReLU(_LEAKY_SLOPE))
        elif activation != "linear":
            modules.append(getattr(torch.nn, _TORCH_ACTIVATIONS[activation])())
    return torch.nn.Sequential(*modules)


def _activation_name(module: Any, index: int) -> str:
    import torch

    if isinstance(module, torch.nn.Identity):
        return "linear"
    if isinstance(module, torch.nn.LeakyReLU) and module.negative_slope != _LEAKY_SLOPE:
        raise ValueError(
            f"from_torch: LeakyReLU at index {index} has negative_slope "
            f"{module.negative_slope}; only {_LEAKY_SLOPE} is supported"
        )
    for name, torch_name in _TORCH_ACTIVATIONS.items():
        if type(module) is getattr(torch.nn, torch_name):
            return name
    raise _unsupported(module, index)


def _unsupported(module: Any, index: int) -> TypeError:
    return TypeError(
        f"from_torch: unsupported module {type(module).__name__} at index {index}; expected "
        "Linear layers, each optionally followed by "
        "ReLU, Tanh, Sigmoid, LeakyReLU(0.01) or Identity"
    )


def from_torch(module: Any) -> Module:
    """The same network as an nn model (an MLP when its hidden activations agree, else a
    Sequential of Layers) from a torch Linear or a Sequential of Linear + activations."""
    import torch

    items = list(module) if isinstance(module, torch.nn.Sequential) else [module]
    layers: list[Layer] = []
    index = 0
    while index < len(items):
        item = items[index]
        if not isinstance(item, torch.nn.Linear):
            _activation_name(item, index)  # raises first if the module is not supported at all
            raise TypeError(
                f"from_torch: {type(item).__name__} at index {index} does not follow a Linear"
            )
        activation = "linear"
        if index + 1 < len(items) and not isinstance(items[index + 1], torch.nn.Linear):
            index += 1
            activation = _activation_name(items[index], index)
        layers.append(_layer_from_linear(item, activation))
        index += 1
    if not layers:
        raise ValueError("from_torch: the module holds no Linear layer")
    for before, after in zip(layers, layers[1:]):
        if len(before.neurons) != after.nin:
            raise ValueError(
                f"from_torch: a layer of {len(before.neurons)} outputs "
                f"feeds one of {after.nin} inputs"
            )
    return _assemble(layers)


def _layer_from_linear(linear: Any, activation: str) -> Layer:
    layer = Layer(linear.in_features, linear.out_features, activation=activation, init="zeros")
    weight = linear.weight.detach().double().tolist()
    bias = linear.bias.detach().double().tolist() if linear.bias is not None else None
    for i, neuron in enumerate(layer.neurons):
        for w, value in zip(neuron.w, weight[i]):
            w.data = value
        neuron.b.data = bias[i] if bias is not None else 0.0
    return layer


def _assemble(layers: list[Layer]) -> Module:
    hidden = {layer.activation for layer in layers[:-1]}
    if len(hidden) > 1:
        return Sequential(*layers)
    model = MLP(
        layers[0].nin,
        [len(layer.neurons) for layer in layers],
        activation=hidden.pop() if hidden else "relu",
        output_activation=layers[-1].activation,
        init="zeros",
    )
    model.layers = layers
    return model
