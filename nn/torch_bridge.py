"""The bridge to PyTorch, for models that outgrow a scalar engine: to_torch and the pairing of
parameters (from_torch, the way back, is in torch_import.py). torch is imported only when a
function is called.

Module by module, as torch.nn names them: a Layer is a ``torch.nn.Linear`` (its neurons'
weights are the rows of the weight matrix) followed by its activation's module (a linear
activation adds none); Conv2d, MaxPool2d, AvgPool2d, Flatten and the activation modules are
their torch namesakes, a Conv2d's weight in torch's layout (out, in, kh, kw).
"""

from __future__ import annotations

from typing import Any

from .activations import ACTIVATIONS, Activation, LeakyReLU, ReLU, Sigmoid, Tanh
from .conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from .dense import Layer, Neuron, Sequential
from .module import Module, _ours, every_named_parameter

__all__ = ["to_torch", "parameter_pairs"]

TORCH_ACTIVATIONS = {
    "relu": "ReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "leaky_relu": "LeakyReLU",
}
LEAKY_SLOPE = 0.01  # the slope of our "leaky_relu", and PyTorch's default
_CONVERTIBLE = (*TORCH_ACTIVATIONS, "linear")  # a tuple: a tampered name may be unhashable


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
    otherwise). A subclass of nn's modules with a __call__ or _forward of its own is a
    TypeError (its own forward would be lost); a patched Value method goes unseen. A model
    sharing a Neuron or Value otherwise than by using a whole module again is a ValueError:
    torch ties whole modules only, and the copies would train apart. The torch model
    takes model's training mode (``training``) as a whole.
    """
    import torch

    converted = torch.nn.Sequential(*_torch_modules(model, "", {}))
    ours, theirs = model.num_parameters(), sum(p.numel() for p in converted.parameters())
    if ours > theirs:  # a Value kept on a module: no torch module stands for it
        raise ValueError(
            f"to_torch: this {type(model).__name__} holds {ours - theirs} parameter(s) of its "
            "own beside its modules' (a Value kept on a module), which no torch module "
            "would hold"
        )
    if ours < theirs:  # torch would hold copies of what ours shares, which train apart
        raise ValueError(
            f"to_torch: this {type(model).__name__} shares parameters within its modules (a "
            "Neuron or a Value used in two places); torch ties only whole modules, so only a "
            "whole module used again (Sequential(layer, act, layer)) converts"
        )
    return converted.train(model.training)


def _torch_modules(module: Module, where: str, made: dict[int, list]) -> list:
    """The torch modules standing for module (where: its path in the model, for messages).
    made: those made so far, by our module's id: a module used twice (tied weights) stands
    for the same torch modules each time, so that they stay tied in torch."""
    if id(module) not in made:
        made[id(module)] = _new_torch_modules(module, where, made)
    return made[id(module)]


def _new_torch_modules(module: Module, where: str, made: dict[int, list]) -> list:
    import torch

    own = _computes_its_own_way(module)
    if own is not None:  # converted by its class's name, its own forward would be lost
        raise TypeError(
            f"to_torch: {where or 'the model'} is a {type(module).__name__} with a {own} of "
            f"its own; to_torch converts what nn's modules compute, not a forward of one's own"
        )
    if isinstance(module, Sequential):
        return [
            m for i, child in enumerate(module.layers)
            for m in _torch_modules(child, _join(where, f"layers.{i}"), made)
        ]  # fmt: skip
    if isinstance(module, (Neuron, Layer)):
        ((rows, biases, activation),) = _dense_layers(module, where)
        linear = torch.nn.Linear(len(rows[0]), len(rows), dtype=torch.float64)
        _copy(linear.weight, rows, where)
        _copy(linear.bias, biases, where)
        return [linear] + ([] if activation == "linear" else [_torch_activation(activation)])
    if isinstance(module, Conv2d):
        conv = torch.nn.Conv2d(
            module.in_channels, module.out_channels, module.kernel_size, module.stride,
            module.padding, dtype=torch.float64,
        )  # fmt: skip
        _copy(conv.weight, [[[[w.data for w in row] for row in plane] for plane in filter_]
                            for filter_ in module.weight], where)  # fmt: skip
        _copy(conv.bias, [b.data for b in module.bias], where)
        return [conv]
    if isinstance(module, MaxPool2d):
        return [torch.nn.MaxPool2d(module.kernel_size, module.stride)]
    if isinstance(module, AvgPool2d):
        return [torch.nn.AvgPool2d(module.kernel_size, module.stride)]
    if isinstance(module, Flatten):
        return [torch.nn.Flatten()]
    if isinstance(module, Activation) and type(module) in MODULE_NAMES:
        return [_torch_activation(module.name)]
    raise TypeError(
        f"to_torch: cannot convert {type(module).__name__}{f' at {where}' if where else ''}; "
        "expected Neuron, Layer, MLP, Sequential, Conv2d, MaxPool2d, AvgPool2d, Flatten or an "
        "activation module"
    )


def _computes_its_own_way(module: Module) -> str | None:
    """The method (__call__ or _forward) by which an instance of a subclass of nn's modules
    computes otherwise than its nn class, or None."""
    kind = type(module)
    library = next((cls for cls in kind.__mro__ if _ours(cls)), None)
    if library is None or library is kind:
        return None
    for name in ("__call__", "_forward"):
        if getattr(kind, name, None) is not getattr(library, name, None):
            return name
    return None


def _copy(parameter: Any, values: list, where: str) -> None:
    import torch

    try:
        numbers = torch.tensor(values, dtype=torch.float64)
    except (OverflowError, TypeError, ValueError):  # 10**400, None
        raise ValueError(
            f"to_torch: the parameters of {where or 'the model'} must be numbers within float range"
        ) from None
    with torch.no_grad():
        parameter.copy_(numbers)


def _torch_activation(name: str) -> Any:
    import torch

    if name == "leaky_relu":
        return torch.nn.LeakyReLU(LEAKY_SLOPE)
    return getattr(torch.nn, TORCH_ACTIVATIONS[name])()


MODULE_NAMES = {ReLU: "relu", Tanh: "tanh", Sigmoid: "sigmoid", LeakyReLU: "leaky_relu"}


def parameter_pairs(model: Module, torch_model: Any) -> list[tuple[str, Any, str, tuple]]:
    """[(our parameter's name, the Value, torch's parameter name, index in it)] for a model
    and what to_torch made of it, in state_dict() order: neuron j's weights are row j
    of a Linear's weight and its bias entry j of the bias; a Conv2d's weight[r][c][i][j] is
    torch's weight[r, c, i, j]."""
    import torch

    entries = []
    for index, module in enumerate(torch_model):
        if isinstance(module, torch.nn.Linear):
            for j in range(module.out_features):
                entries += [(f"{index}.weight", (j, k)) for k in range(module.in_features)]
                entries.append((f"{index}.bias", (j,)))
        elif isinstance(module, torch.nn.Conv2d):
            entries += [(f"{index}.weight", tuple(at)) for at in _indices(module.weight.shape)]
            entries += [(f"{index}.bias", (r,)) for r in range(module.out_channels)]
    named = every_named_parameter(model)
    if len(entries) != len(named):
        raise ValueError(
            f"parameter_pairs: the model has {len(named)} parameters, the torch model "
            f"{len(entries)}; pass what to_torch made of this model"
        )
    return [(name, value, *entry) for (name, value), entry in zip(named, entries)]


def _indices(shape) -> list[list[int]]:
    """Every index of an array of this shape, in row-major order."""
    found = [[]]
    for size in shape:
        found = [index + [k] for index in found for k in range(size)]
    return found


def __getattr__(name: str):
    """from_torch lived here before it moved to torch_import: the old import keeps working."""
    if name == "from_torch":
        from .torch_import import from_torch

        return from_torch
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
