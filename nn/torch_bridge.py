"""The bridge to PyTorch, for models that outgrow a scalar engine. torch is imported here only,
and only when a function is called.

A Layer is a ``torch.nn.Linear`` (its neurons' weights are the rows of the weight matrix)
followed by the activation's module; a linear activation adds no module.
"""

from __future__ import annotations

from typing import Any

from .activations import ACTIVATIONS
from .dense import MLP, Layer, Neuron, Sequential
from .module import Module

__all__ = ["to_torch", "from_torch", "parameter_pairs"]

_TORCH_ACTIVATIONS = {
    "relu": "ReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "leaky_relu": "LeakyReLU",
}
_LEAKY_SLOPE = 0.01  # the slope of our "leaky_relu", and PyTorch's default
_CONVERTIBLE = (*_TORCH_ACTIVATIONS, "linear")  # a tuple: a tampered name may be unhashable


def _dense_layers(
    module: Module, where: str = ""
) -> list[tuple[list[list[float]], list[float], str]]:
    """[(weight rows, biases, activation)] for each dense layer of module, in order; where is
    module's dotted path in the model ("" for the model itself), for error messages."""
    if isinstance(module, Neuron):
        activation = _activation_of(module, where or "Neuron")
        return [([[w.data for w in module.w]], [module.b.data], activation)]
    if isinstance(module, Layer):
        return [_dense_layer(module, where)]
    if isinstance(module, Sequential):
        return [
            dense
            for i, child in enumerate(module.layers)
            for dense in _dense_layers(child, _join(where, f"layers.{i}"))
        ]
    raise TypeError(
        f"to_torch: cannot convert {type(module).__name__}; "
        "expected Neuron, Layer, MLP or Sequential"
    )


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _dense_layer(layer: Layer, where: str) -> tuple[list[list[float]], list[float], str]:
    """One torch Linear + one activation: the layer's neurons must agree on width and activation."""
    if not layer.neurons:
        raise ValueError(f"to_torch: {where or 'Layer'} has no neurons")
    names = [_join(where, f"neurons.{j}") for j in range(len(layer.neurons))]
    activations = [_activation_of(n, name) for n, name in zip(layer.neurons, names)]
    first = layer.neurons[0]
    for j, neuron in enumerate(layer.neurons):
        if len(neuron.w) != len(first.w):
            raise ValueError(
                f"to_torch: {names[j]} has {len(neuron.w)} weights but neurons.0 has "
                f"{len(first.w)}; the neurons of one layer become one torch Linear of one width"
            )
        if activations[j] != activations[0]:
            raise ValueError(
                f"to_torch: the neurons of {where or 'the Layer'} disagree on their activation "
                f"(neurons.0 is {activations[0]!r}, neurons.{j} is {activations[j]!r}); "
                "one torch Linear is followed by one activation"
            )
    rows = [[w.data for w in n.w] for n in layer.neurons]
    return rows, [n.b.data for n in layer.neurons], activations[0]


def _activation_of(neuron: Neuron, where: str) -> str:
    """neuron's activation name, once it is one torch has and is what its forward pass runs."""
    activation = neuron.activation
    if activation not in _CONVERTIBLE:
        known = ", ".join(repr(name) for name in _CONVERTIBLE)
        raise ValueError(
            f"to_torch: {where} has activation {activation!r}; expected one of {known}"
        )
    expected = ACTIVATIONS.get(activation)
    # Neuron computes with _act, set from activation at construction; copies and pickles keep
    # the very same function, so anything else means the name no longer says what it computes.
    computes = getattr(neuron, "_act", expected)
    if computes is not expected:
        shown = getattr(computes, "__qualname__", repr(computes))
        raise ValueError(
            f"to_torch: {where} computes with {shown}, not ACTIVATIONS[{activation!r}] as its "
            f"activation {activation!r} says; set both or neither to convert it"
        )
    return activation


def to_torch(model: Module) -> Any:
    """An equivalent torch.nn.Sequential (float64) holding copies of model's parameters.

    Each neuron's activation must name a function torch has, agree with its layer's other
    neurons, and be the function the neuron computes with (a ValueError names the module
    otherwise). Limit: only that function is checked; a forward pass changed some other way
    (a Neuron subclass overriding _forward, a patched Value method) converts by its name.
    """
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


def parameter_pairs(model: Module, torch_model: Any) -> list[tuple[str, Any, str, tuple]]:
    """[(our parameter's name, the Value, torch's parameter name, index in it)] for a model
    and what to_torch made of it: neuron j's weights are row j of a Linear's weight, its bias
    entry j of the bias, in named_parameters() order."""
    import torch

    entries = []
    for index, module in enumerate(torch_model):
        if isinstance(module, torch.nn.Linear):
            for j in range(module.out_features):
                entries += [(f"{index}.weight", (j, k)) for k in range(module.in_features)]
                entries.append((f"{index}.bias", (j,)))
    named = model.named_parameters()
    if len(entries) != len(named):
        raise ValueError(
            f"parameter_pairs: the model has {len(named)} parameters, the torch model "
            f"{len(entries)}; pass what to_torch made of this model"
        )
    return [(name, value, *entry) for (name, value), entry in zip(named, entries)]


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
