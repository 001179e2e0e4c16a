"""Modules: Neuron, Layer, MLP and Sequential, each a tree of parameters (Values).

The defaults are karpathy/micrograd 0.1.0's, draw for draw and operation for operation:
weights ``random.uniform(-1, 1)`` neuron by neuron, bias 0, a neuron computing
``sum(w_i * x_i, start=b)`` (that is ``((b + w0*x0) + w1*x1) + ...``), ReLU hidden layers
and a linear output. So ``random.seed(1337)`` followed by the same constructor calls gives
bit-identical parameters and bit-identical forward passes.
"""

from __future__ import annotations

import math
import numbers
import random
import reprlib
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from typing import Any

from micrograd import Value


def _linear(x: Value) -> Value:
    return x


ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "leaky_relu": Value.leaky_relu,  # negative slope 0.01, PyTorch's default
    "linear": _linear,  # a named function, not a lambda, so models can be pickled and copied
}


def _uniform(fan_in: int, fan_out: int, rng) -> float:
    return rng.uniform(-1, 1)


def _xavier_uniform(fan_in: int, fan_out: int, rng) -> float:
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound)


def _he_uniform(fan_in: int, fan_out: int, rng) -> float:
    bound = math.sqrt(6.0 / fan_in)
    return rng.uniform(-bound, bound)


INITS: dict[str, Callable[[int, int, Any], float]] = {
    "uniform": _uniform,  # U(-1, 1): karpathy/micrograd's
    "xavier_uniform": _xavier_uniform,  # U(-a, a), a = sqrt(6 / (fan_in + fan_out))
    "glorot_uniform": _xavier_uniform,
    "he_uniform": _he_uniform,  # U(-a, a), a = sqrt(6 / fan_in): torch's kaiming_uniform_ for ReLU
    "kaiming_uniform": _he_uniform,
    "zeros": lambda fan_in, fan_out, rng: 0.0,
}
"""Weight initialisations by name: ``init(fan_in, fan_out, rng) -> float``."""


def _check_size(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_layer_sizes(owner: str, nouts: Any) -> list[int]:
    """nouts as a list of ints: any non-empty ordered collection of integers >= 1."""
    # A string or bytes would read as characters or bytes, a set or mapping has no layer order.
    unordered_or_text = isinstance(nouts, (str, bytes, bytearray, Mapping, Set))
    try:
        sizes = None if unordered_or_text else list(nouts)
    except TypeError:  # a bare number, None, a 0-d numpy array
        sizes = None
    if sizes is None:
        raise ValueError(
            f"{owner}: nouts must be a sequence of layer sizes such as [16, 1], "
            f"got {type(nouts).__name__} {_brief(nouts)}"
        )
    if not sizes:
        raise ValueError(f"{owner}: nouts must be a non-empty sequence of layer sizes, got none")
    return [_check_size(f"{owner}: layer size", n) for n in sizes]


class _Brief(reprlib.Repr):
    """repr cut short: a deep or long value read from a file stays a short line in a message."""

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() <= 128:
            return repr(x)
        try:
            return f"an integer of {len(str(abs(x)))} digits"
        except ValueError:  # longer than Python converts to text
            return f"an integer of more than {sys.get_int_max_str_digits()} digits"


_BRIEF = _Brief()
_BRIEF.maxlevel, _BRIEF.maxdict, _BRIEF.maxlist, _BRIEF.maxstring = 4, 8, 8, 60


def _brief(value: object) -> str:
    return _BRIEF.repr(value)


def _as_float(value: object) -> float | None:
    """value as a float if it is a real number (not a bool) within float range, else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except (OverflowError, ValueError, TypeError):  # 10**400, Fraction(10**400, 3)
        return None


def _check_activation(owner: str, activation: str) -> str:
    if activation not in ACTIVATIONS:
        known = ", ".join(repr(name) for name in ACTIVATIONS)
        raise ValueError(f"{owner}: unknown activation {activation!r}; expected one of {known}")
    return activation


def _check_init(owner: str, init: str | Callable) -> Callable:
    if callable(init):
        return init
    if init not in INITS:
        known = ", ".join(repr(name) for name in INITS)
        raise ValueError(f"{owner}: unknown init {init!r}; expected one of {known}")
    return INITS[init]


def _as_inputs(owner: str, x: Any, nin: int) -> list:
    """x as a list of nin inputs; a lone Value or number counts as a list of one."""
    if isinstance(x, (Value, numbers.Real)):
        x = [x]
    else:
        try:
            x = list(x)
        except TypeError:
            raise TypeError(
                f"{owner} expects a list of {nin} inputs, got {type(x).__name__}"
            ) from None
    if len(x) != nin:
        raise ValueError(f"{owner} expects {nin} inputs, got {len(x)}")
    return x


class Module:
    """A tree of parameters: attributes that are Values, Modules or lists of them."""

    def __call__(self, x):
        """The module's output for input x; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define __call__(self, x)")

    def named_parameters(self, prefix: str = "") -> list[tuple[str, Value]]:
        """[(dotted name, parameter)] in a fixed order, e.g. ``layers.0.neurons.3.w.1``."""
        found: list[tuple[str, Value]] = []
        for name, item in vars(self).items():
            _collect(f"{prefix}{name}", item, found)
        return found

    def parameters(self) -> list[Value]:
        """Every parameter, in the order of named_parameters()."""
        # The same walk as named_parameters() without building names: training loops call
        # this every step, and the names cost more than the walk.
        found: list[Value] = []
        for item in vars(self).values():
            _gather(item, found)
        return found

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """{name: value} for every parameter, as plain floats."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Set every parameter from state: all of them or, on any error, none of them."""
        named = self.named_parameters()
        if not isinstance(state, dict):
            raise TypeError(f"load_state_dict expects a dict, got {type(state).__name__}")
        known = dict(named)
        missing = [name for name, _ in named if name not in state]
        unexpected = [name for name in state if name not in known]
        if missing or unexpected:
            raise ValueError(
                f"load_state_dict: state does not fit {type(self).__name__}: "
                f"missing {missing[:5]}{'...' if len(missing) > 5 else ''}, "
                f"unexpected {unexpected[:5]}{'...' if len(unexpected) > 5 else ''}"
            )
        values = []
        for name, _ in named:
            value = _as_float(state[name])
            if value is None:
                raise ValueError(
                    f"load_state_dict: {name} must be a number within float range, "
                    f"got {_brief(state[name])}"
                )
            values.append(value)
        for (_, p), value in zip(named, values):
            p.data = value

    def parameter_groups(self, level: str) -> dict[Value, str]:
        """{parameter: the name of the unit it belongs to}, for drawings that box each unit:
        level "neuron" is the module holding the parameter itself (a Neuron), "layer" the
        module holding that one (a Layer); "(model)" where the model itself is that unit."""
        if level not in GROUP_LEVELS:
            raise ValueError(
                f"parameter_groups: level must be one of {GROUP_LEVELS}, got {level!r}"
            )
        groups: dict[Value, str] = {}
        for owner, parent, module in self._modules_with_parents():
            unit = owner if level == "neuron" else parent
            for item in vars(module).values():
                for parameter in _direct_parameters(item):
                    groups[parameter] = unit or "(model)"
        return groups

    def _modules_with_parents(self) -> list[tuple[str, str, Module]]:
        """(name, parent's name, module) for self ("") and every module inside it."""
        found, stack = [], [("", "", self)]
        while stack:
            name, parent, module = stack.pop()
            found.append((name, parent, module))
            for child_name, child in reversed(list(module._children())):
                stack.append((f"{name}.{child_name}" if name else child_name, name, child))
        return found

    def num_parameters(self) -> int:
        """How many scalar parameters the module has."""
        return len(self.named_parameters())

    def config(self) -> dict:
        """The architecture as plain JSON data, enough to rebuild the module (see nn.serialize)."""
        raise NotImplementedError(f"{type(self).__name__} has no config(); it cannot be saved")

    def save(self, path: str) -> None:
        """Write architecture and parameters to path as JSON, atomically (see nn.serialize)."""
        from .serialize import save

        save(self, path)

    def load(self, path: str) -> None:
        """Set parameters from a file written by save(); the file's architecture must match."""
        from .serialize import load_into

        load_into(self, path)

    def _children(self) -> Iterator[tuple[str, Module]]:
        for name, item in vars(self).items():
            if isinstance(item, Module):
                yield name, item
            elif isinstance(item, (list, tuple)):
                for i, child in enumerate(item):
                    if isinstance(child, Module):
                        yield f"{name}.{i}", child

    def _summary(self) -> str:
        return f"{type(self).__name__}()"

    def __repr__(self) -> str:
        count = f"  # {self.num_parameters()} parameters"
        return self._summary() + count


GROUP_LEVELS = ("neuron", "layer")


def _direct_parameters(item: object) -> list[Value]:
    """The Values an attribute holds itself (a Value, or a list of them), not its modules'."""
    if isinstance(item, Value):
        return [item]
    if isinstance(item, (list, tuple)):
        return [v for element in item for v in _direct_parameters(element)]
    return []


def _gather(item: object, found: list) -> None:
    if isinstance(item, Value):
        found.append(item)
    elif isinstance(item, Module):
        found.extend(item.parameters())
    elif isinstance(item, (list, tuple)):
        for element in item:
            _gather(element, found)


def _collect(name: str, item: object, found: list) -> None:
    if isinstance(item, Value):
        found.append((name, item))
    elif isinstance(item, Module):
        found.extend(item.named_parameters(prefix=f"{name}."))
    elif isinstance(item, (list, tuple)):
        for i, element in enumerate(item):
            _collect(f"{name}.{i}", element, found)


class Neuron(Module):
    """activation(b + sum_i w_i * x_i): one unit with nin weights and a bias."""

    def __init__(
        self,
        nin: int,
        nonlin: bool = True,
        *,
        activation: str | None = None,
        init: str | Callable = "uniform",
        rng=None,
        fan_out: int = 1,
    ) -> None:
        nin = _check_size("Neuron: nin", nin)
        activation = activation if activation is not None else ("relu" if nonlin else "linear")
        self.activation = _check_activation("Neuron", activation)
        draw = _check_init("Neuron", init)
        rng = random if rng is None else rng
        self.w = [Value(draw(nin, fan_out, rng)) for _ in range(nin)]
        self.b = Value(0.0)
        self._act = ACTIVATIONS[self.activation]

    @property
    def nonlin(self) -> bool:
        """True unless the activation is linear (karpathy/micrograd's attribute)."""
        return self.activation != "linear"

    def _forward(self, x: list) -> Value:
        # The same additions in the same order as karpathy/micrograd: b + w0*x0 + w1*x1 ...
        return self._act(sum([wi * xi for wi, xi in zip(self.w, x)], self.b))

    def __call__(self, x) -> Value:
        """activation(b + sum_i w_i * x_i)"""
        return self._forward(_as_inputs("Neuron", x, len(self.w)))

    def config(self) -> dict:
        """The constructor arguments, for saving (see nn.serialize)."""
        return {"type": "Neuron", "nin": len(self.w), "activation": self.activation}

    def _summary(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """nout neurons reading the same nin inputs; one output is returned as a single Value."""

    def __init__(
        self,
        nin: int,
        nout: int,
        nonlin: bool = True,
        *,
        activation: str | None = None,
        init: str | Callable = "uniform",
        rng=None,
    ) -> None:
        nin = _check_size("Layer: nin", nin)
        nout = _check_size("Layer: nout", nout)
        activation = activation if activation is not None else ("relu" if nonlin else "linear")
        _check_activation("Layer", activation)
        self.neurons = [
            Neuron(nin, activation=activation, init=init, rng=rng, fan_out=nout)
            for _ in range(nout)
        ]

    @property
    def nin(self) -> int:
        """How many inputs the layer reads."""
        return len(self.neurons[0].w)

    @property
    def activation(self) -> str:
        """The name of the neurons' activation."""
        return self.neurons[0].activation

    def _forward(self, x: list) -> Value | list[Value]:
        # Each neuron as its users call it: a subclass's own __call__ is honoured, while the
        # library's own skips checking x again (this layer checked it once for all).
        out = [n._forward(x) if type(n).__call__ is Neuron.__call__ else n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def __call__(self, x) -> Value | list[Value]:
        """[neuron(x) for each neuron], or the single Value when nout == 1"""
        return self._forward(_as_inputs("Layer", x, self.nin))

    def config(self) -> dict:
        """The constructor arguments, for saving (see nn.serialize)."""
        return {
            "type": "Layer",
            "nin": self.nin,
            "nout": len(self.neurons),
            "activation": self.activation,
        }

    def _summary(self) -> str:
        return f"Layer({self.nin} -> {len(self.neurons)}, activation={self.activation!r})"


class Sequential(Module):
    """modules[-1](... modules[1](modules[0](x))): each module's output feeds the next."""

    def __init__(self, *modules: Module) -> None:
        if not modules:
            raise ValueError("Sequential needs at least one module")
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: item {i} must be a Module, got {type(module).__name__}"
                )
        self.layers = list(modules)

    def __call__(self, x):
        """The last module's output."""
        for module in self.layers:
            x = module(x)
        return x

    def config(self) -> dict:
        """The constructor arguments, for saving (see nn.serialize)."""
        return {"type": "Sequential", "modules": [m.config() for m in self.layers]}

    def _summary(self) -> str:
        lines = [f"{type(self).__name__}("]
        for name, child in self._children():
            for i, line in enumerate(repr(child).splitlines()):
                lines.append(f"  ({name}): {line}" if i == 0 else f"  {line}")
        lines.append(")")
        return "\n".join(lines)


class MLP(Sequential):
    """Layers of sizes nin -> nouts[0] -> ... -> nouts[-1]; hidden layers share one activation."""

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        *,
        activation: str = "relu",
        output_activation: str = "linear",
        init: str | Callable = "uniform",
        rng=None,
    ) -> None:
        nin = _check_size("MLP: nin", nin)
        nouts = _check_layer_sizes("MLP", nouts)
        sizes = [nin] + nouts
        _check_activation("MLP", activation)
        _check_activation("MLP", output_activation)
        last = len(nouts) - 1
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                activation=output_activation if i == last else activation,
                init=init,
                rng=rng,
            )
            for i in range(len(nouts))
        ]

    def __call__(self, x) -> Value | list[Value]:
        """The output layer's values: a single Value when it has one neuron."""
        x = _as_inputs("MLP", x, self.layers[0].nin)
        for layer in self.layers:
            # A one-wide layer returns a bare Value; the next layer still needs a list.
            x = x if isinstance(x, list) else [x]
            # a subclass's own __call__ is honoured (the library's own skips re-checking x)
            x = layer._forward(x) if type(layer).__call__ is Layer.__call__ else layer(x)
        return x

    def config(self) -> dict:
        """The constructor arguments, for saving (see nn.serialize)."""
        return {
            "type": "MLP",
            "nin": self.layers[0].nin,
            "nouts": [len(layer.neurons) for layer in self.layers],
            "activation": self.layers[0].activation if len(self.layers) > 1 else "relu",
            "output_activation": self.layers[-1].activation,
        }


def from_config(config: dict) -> Module:
    """The module described by config (as made by Module.config()), parameters all 0."""
    # Children before parents, with a stack of our own rather than recursion: a config read
    # from a file may nest deeper than Python's recursion limit, and must still be a ValueError.
    pending: list[tuple[Any, _Where, bool]] = [(config, None, False)]  # (config, where, ready)
    built: list[Module] = []
    while pending:
        node, where, ready = pending.pop()
        if ready:  # its modules are the last ones built
            count = len(node["modules"])
            modules, built[len(built) - count :] = built[len(built) - count :], []
            built.append(_build(node, where, Sequential, *modules))
        elif _config_type(node, where) == "Sequential":
            if set(node) != {"type", "modules"} or not isinstance(node["modules"], list):
                raise _invalid(node, where, "expected exactly one list 'modules'")
            pending.append((node, where, True))
            pending.extend(
                (m, (where, i), False) for i, m in reversed(list(enumerate(node["modules"])))
            )
        else:
            built.append(_build(node, where, _build_leaf, node))
    return built[0]


_Where = tuple | None
"""Where a config sits in the one from_config was given: None, or (parent's where, index)."""


def _at(where: _Where) -> str:
    """' at modules.0.modules.2' for a config inside another, '' for the outermost one."""
    indices = []
    while where is not None:
        where, index = where
        indices.append(index)
    path = ".".join(f"modules.{i}" for i in reversed(indices))
    return f" at {path}" if path else ""


def _config_type(config: Any, where: _Where) -> Any:
    if not isinstance(config, dict) or "type" not in config:
        raise ValueError(
            f"a module config{_at(where)} must be a dict with a 'type', got {_brief(config)}"
        )
    return config["type"]


def _invalid(config: dict, where: _Where, error: object) -> ValueError:
    return ValueError(
        f"invalid {_brief(config['type'])} module config{_at(where)}: {_brief(config)}: {error}"
    )


def _build(config: dict, where: _Where, make: Callable[..., Module], *args: Any) -> Module:
    """make(*args), any error in it named with the config it was building."""
    try:
        return make(*args)
    except (TypeError, ValueError, KeyError) as error:
        raise _invalid(config, where, error) from None


def _build_leaf(config: dict) -> Module:
    builders = {"Neuron": Neuron, "Layer": Layer, "MLP": MLP}
    kind = config["type"]
    if not isinstance(kind, str) or kind not in builders:
        raise ValueError(f"unknown module type {_brief(kind)}")
    fields = {k: v for k, v in config.items() if k != "type"}
    return builders[kind](**fields, init="zeros")
