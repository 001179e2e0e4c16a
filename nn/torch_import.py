"""from_torch: a torch module, or a torch.nn.Sequential of them, read back into nn's modules,
the reverse of torch_bridge.to_torch. Only what our modules can represent converts; anything
else is refused, naming the module and its index. torch is imported only when called."""

from __future__ import annotations

from typing import Any

from .activations import Activation
from .conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from .dense import MLP, Layer, Sequential
from .module import Module
from .torch_bridge import LEAKY_SLOPE, MODULE_NAMES, TORCH_ACTIVATIONS

__all__ = ["from_torch"]


def _activation_name(module: Any, index: int) -> str:
    import torch

    if isinstance(module, torch.nn.Identity):
        return "linear"
    if isinstance(module, torch.nn.LeakyReLU) and module.negative_slope != LEAKY_SLOPE:
        raise ValueError(
            f"from_torch: LeakyReLU at index {index} has negative_slope "
            f"{module.negative_slope}; only {LEAKY_SLOPE} is supported"
        )
    for name, torch_name in TORCH_ACTIVATIONS.items():
        if type(module) is getattr(torch.nn, torch_name):
            return name
    raise _unsupported(module, index)


def _unsupported(module: Any, index: int) -> TypeError:
    return TypeError(
        f"from_torch: unsupported module {type(module).__name__} at index {index}; expected "
        "Linear layers (each optionally followed by its activation), Conv2d, MaxPool2d, "
        "AvgPool2d, Flatten, ReLU, Tanh, Sigmoid, LeakyReLU(0.01) or Identity, of exactly "
        "those classes (a subclass may compute otherwise)"
    )


def from_torch(module: Any) -> Module:
    """The same network as an nn model, from a torch module or a Sequential of them: an MLP
    when it is Linear layers whose hidden activations agree, else a Sequential module by
    module (a Linear with the activation after it is one Layer). A torch module used more
    than once (tied weights) becomes one of ours used as often: a Sequential then, as an MLP
    cannot say so; a tied Linear followed by different activations is a Layer without its
    own, each activation a module after it. A Linear or Conv2d without a bias, and a
    parameter two modules share, are refused: ours would train a bias of 0, or two copies.
    The model takes module's training mode (``training``) as a whole. A frozen parameter
    (requires_grad False) comes back as any other: ours have no such flag, so leave it out
    of the optimizer to keep it fixed."""
    import torch

    items = list(module) if type(module) is torch.nn.Sequential else [module]
    uses: dict[int, set[str]] = {}  # each Linear's activations after it, by the Linear's id
    for index, item in enumerate(items):
        if type(item) is torch.nn.Linear:
            uses.setdefault(id(item), set()).add(_activation_after(items, index)[0])
    made: dict[int, Module] = {}  # ours for each torch module with parameters, by its id
    modules: list[Module] = []
    index = 0
    while index < len(items):
        item = items[index]
        if type(item) is torch.nn.Linear:
            at = index  # the Linear's index; index moves to its activation, if any
            activation, index = _activation_after(items, index)
            own = activation if len(uses[id(item)]) == 1 else "linear"  # tied, differently
            if id(item) not in made:
                made[id(item)] = _layer_from_linear(item, own, at)
            modules.append(made[id(item)])
            if own != activation:
                modules.append(_activation_module(activation))
        elif _is_activation(item):
            name = _activation_name(item, index)
            if name != "linear":  # an Identity alone changes nothing
                modules.append(_activation_module(name))
        else:
            if id(item) not in made:
                made[id(item)] = _from_torch_module(item, index)
            modules.append(made[id(item)])
        index += 1
    if not modules:
        raise ValueError("from_torch: the module holds no Linear layer or other module")
    # once every module is one ours can represent (a LazyLinear's hook made its weights)
    _check_no_hooks(torch, "the module", module)
    _check_own_forward("the module", module)
    for index, item in enumerate(items):
        _check_no_hooks(torch, f"{type(item).__name__} at index {index}", item)
        _check_own_forward(f"{type(item).__name__} at index {index}", item)
    _check_ties(items)
    tied = len(made) < sum(not isinstance(m, Activation) for m in modules)  # one used twice
    if all(isinstance(m, Layer) for m in modules):
        for before, after in zip(modules, modules[1:]):
            if len(before.neurons) != after.nin:
                raise ValueError(
                    f"from_torch: a layer of {len(before.neurons)} outputs "
                    f"feeds one of {after.nin} inputs"
                )
        if not tied:
            return _assemble(modules).train(module.training)
    return Sequential(*modules).train(module.training)  # torch's mode, as a whole


# a hook may change what a module computes (torch.nn.utils.weight_norm's sets .weight before
# each forward) or its gradients, and ours would run without it
_HOOKS = {
    "_forward_pre_hooks": "forward pre-hook",
    "_forward_hooks": "forward hook",
    "_backward_pre_hooks": "backward pre-hook",
    "_backward_hooks": "backward hook",
}


def _check_no_hooks(torch, where: str, module: Any) -> None:
    """ValueError if module, one of its parameters, or every module (a global hook), has a
    hook."""
    for attribute, kind in _HOOKS.items():
        if getattr(torch.nn.modules.module, f"_global{attribute}", None):
            raise ValueError(
                f"from_torch: a global {kind} is registered, which may change what every "
                "module computes, and the converted model would run without it; remove it first"
            )
        if isinstance(getattr(module, attribute, None), dict) and getattr(module, attribute):
            norm = " (torch.nn.utils.remove_weight_norm, for a weight_norm)" * (
                attribute == "_forward_pre_hooks"
            )
            raise ValueError(
                f"from_torch: {where} has a {kind}, which may change what it computes or its "
                f"gradients, and the converted model would run without it; remove it first{norm}"
            )
    # weight.register_hook(...): torch's gradients changed, ours would not be
    for name, parameter in module.named_parameters(recurse=False):
        if parameter._backward_hooks:
            raise ValueError(
                f"from_torch: {where} has a hook on its {name}, which may change its "
                "gradients, and the converted model would train without it; remove it first"
            )


def _check_own_forward(where: str, module: Any) -> None:
    """ValueError if module computes with a forward set on it (module.forward = f): ours would
    compute what its class does, as for a subclass."""
    if "forward" in vars(module):
        raise ValueError(
            f"from_torch: {where} has a forward of its own set on it, and the converted model "
            "would compute what its class does instead; convert a module without it"
        )


def _check_weights(where: str, module: Any, shapes: dict[str, tuple]) -> None:
    """ValueError unless each named parameter has the shape module's sizes give it (torch
    computes with the tensor, ours is built from the sizes: a weight set in place of one of
    another shape lost columns, or kept zeros) and holds real numbers (a complex one lost
    its imaginary part)."""
    for name, shape in shapes.items():
        parameter = getattr(module, name)
        if tuple(parameter.shape) != shape:
            raise ValueError(
                f"{where}: its {name} has shape {tuple(parameter.shape)}, but its sizes "
                f"({_sizes(module)}) give {shape}; torch computes with the tensor, and ours "
                "would be built from the sizes"
            )
        if parameter.is_complex():
            raise ValueError(f"{where}: its {name} holds complex numbers; ours are real")


def _sizes(module: Any) -> str:
    names = ("in_features", "out_features", "in_channels", "out_channels", "kernel_size")
    return ", ".join(f"{n} {getattr(module, n)}" for n in names if hasattr(module, n))


def _check_ties(items: list) -> None:
    """Refuse a torch parameter held by two different modules (b.weight = a.weight): ours tie
    whole modules only, so each would get a copy of its own, and the two would train apart."""
    holder: dict[int, int] = {}  # id of each parameter: the index of the module holding it
    for index, item in enumerate(items):
        for parameter in item.parameters():
            first = holder.setdefault(id(parameter), index)
            if first != index and items[first] is not item:
                raise ValueError(
                    f"from_torch: {type(item).__name__} at index {index} shares a parameter "
                    f"with the {type(items[first]).__name__} at index {first}; only a whole "
                    "module used again (tied weights) converts, as one of ours used again"
                )


def _activation_after(items: list, index: int) -> tuple[str, int]:
    """(the activation of the Linear at items[index], the index of its last module): the
    activation module right after it, if any, else "linear"."""
    following = items[index + 1] if index + 1 < len(items) else None
    if following is not None and _is_activation(following):
        return _activation_name(following, index + 1), index + 1
    return "linear", index


def _activation_module(name: str) -> Module:
    return {v: k for k, v in MODULE_NAMES.items()}[name]()


def _is_activation(module: Any) -> bool:
    import torch

    kinds = (
        torch.nn.Identity,
        torch.nn.LeakyReLU,
        *(getattr(torch.nn, n) for n in TORCH_ACTIVATIONS.values()),
    )
    return type(module) in kinds


def _from_torch_module(item: Any, index: int) -> Module:
    """A Conv2d, a pool or a Flatten, with what our modules can represent checked."""
    import torch

    where = f"from_torch: {type(item).__name__} at index {index}"
    if type(item) is torch.nn.Conv2d:
        plain = item.dilation == (1, 1) and item.groups == 1 and item.padding_mode == "zeros"
        if not plain or isinstance(item.padding, str) or item.bias is None:
            raise ValueError(
                f"{where}: only dilation 1, groups 1, numeric zero padding and a bias convert"
            )
        shape = (item.out_channels, item.in_channels, *_pair(item.kernel_size))
        _check_weights(where, item, {"weight": shape, "bias": (item.out_channels,)})
        conv = Conv2d(item.in_channels, item.out_channels, item.kernel_size, item.stride,
                      item.padding, init="zeros")  # fmt: skip
        weight = item.weight.detach().double().tolist()
        for ours, theirs in zip(conv.weight, weight):
            for ours_plane, plane in zip(ours, theirs):
                for ours_row, row in zip(ours_plane, plane):
                    for w, value in zip(ours_row, row):
                        w.data = value
        for b, value in zip(conv.bias, item.bias.detach().double().tolist()):
            b.data = value
        return conv
    if type(item) in (torch.nn.MaxPool2d, torch.nn.AvgPool2d):
        maximum = type(item) is torch.nn.MaxPool2d
        if (
            _pair(item.padding) != (0, 0)
            or item.ceil_mode
            or (maximum and (_pair(item.dilation) != (1, 1) or item.return_indices))
            or (not maximum and item.divisor_override is not None)
        ):
            raise ValueError(
                f"{where}: only padding 0, dilation 1, ceil_mode False, no return_indices "
                "and no divisor_override convert"
            )
        pool = MaxPool2d if maximum else AvgPool2d
        try:
            return pool(_pair(item.kernel_size), _pair(item.stride))
        except ValueError as error:  # a stride of 0, which torch took
            raise ValueError(f"{where}: {error}") from None
    if type(item) is torch.nn.Flatten:
        if (item.start_dim, item.end_dim) != (1, -1):
            raise ValueError(f"{where}: only Flatten() (start_dim 1, end_dim -1) converts")
        return Flatten()
    raise _unsupported(item, index)


def _pair(value) -> tuple[int, int]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


def _layer_from_linear(linear: Any, activation: str, index: int) -> Layer:
    if linear.bias is None:  # ours would have a bias of 0 that trains
        raise ValueError(
            f"from_torch: Linear at index {index} has no bias; only a Linear with a bias "
            "converts (our neurons each have one, which training would move)"
        )
    shapes = {"weight": (linear.out_features, linear.in_features), "bias": (linear.out_features,)}
    _check_weights(f"from_torch: Linear at index {index}", linear, shapes)
    try:
        layer = Layer(linear.in_features, linear.out_features, activation=activation, init="zeros")
    except ValueError as error:  # Linear(0, 2)
        raise ValueError(f"from_torch: Linear at index {index}: {error}") from None
    weight = linear.weight.detach().double().tolist()
    bias = linear.bias.detach().double().tolist()
    for i, neuron in enumerate(layer.neurons):
        for w, value in zip(neuron.w, weight[i]):
            w.data = value
        neuron.b.data = bias[i]
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
