"""Dense modules: Neuron, Layer, MLP, and the Sequential that chains any modules.

The defaults are karpathy/micrograd 0.1.0's, draw for draw and operation for operation:
weights ``random.uniform(-1, 1)`` neuron by neuron, bias 0, a neuron computing
``sum(w_i * x_i, start=b)`` (that is ``((b + w0*x0) + w1*x1) + ...``), ReLU hidden layers
and a linear output. So ``random.seed(1337)`` followed by the same constructor calls gives
bit-identical parameters and bit-identical forward passes.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

from micrograd import Value

from .activations import ACTIVATIONS, _check_activation
from .checks import _as_inputs, _check_init, _check_layer_sizes, _check_rng, _check_size
from .init import initial_bias
from .module import Module


def _dense_count(sizes: list) -> int | None:
    """The parameters of dense layers of these sizes; None unless they are all ints >= 1."""
    if not all(type(n) is int and n >= 1 for n in sizes):  # JSON gives int; never a bool
        return None
    return sum((nin + 1) * nout for nin, nout in zip(sizes, sizes[1:]))


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
        rng = _check_rng("Neuron", rng)
        self.w = [Value(draw(nin, fan_out, rng)) for _ in range(nin)]
        self.b = Value(initial_bias(draw, nin, fan_out, rng))
        self._act = ACTIVATIONS[self.activation]

    @property
    def nonlin(self) -> bool:
        """True unless the activation is linear (karpathy/micrograd's attribute). Set, as his
        users do: False makes the neuron linear, True gives a linear one his ReLU."""
        return self.activation != "linear"

    @nonlin.setter
    def nonlin(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"Neuron: nonlin must be True or False, got {value!r}")
        if value != self.nonlin:
            self.activation = "relu" if value else "linear"
            self._act = ACTIVATIONS[self.activation]

    def _forward(self, x: list) -> Value:
        # The same additions in the same order as karpathy/micrograd: b + w0*x0 + w1*x1 ...
        return self._act(sum([wi * xi for wi, xi in zip(self.w, x)], self.b))

    def __call__(self, x) -> Value:
        """activation(b + sum_i w_i * x_i)"""
        return self._forward(_as_inputs("Neuron", x, len(self.w)))

    def config(self) -> dict:
        """The constructor arguments, for saving (see nn.serialize)."""
        return {"type": "Neuron", "nin": len(self.w), "activation": self.activation}

    @classmethod
    def parameter_count(cls, config: dict) -> int | None:
        return _dense_count([config.get("nin"), 1])

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
        draw = _check_init("Layer", init)  # a function of one's own, checked as the Layer's
        init = draw if callable(init) else init  # a name stays one: each Neuron looks it up
        _check_rng("Layer", rng)
        self.neurons = [
            Neuron(nin, activation=activation, init=init, rng=rng, fan_out=nout)
            for _ in range(nout)
        ]

    @property
    def nin(self) -> int:
        """How many inputs the layer reads: its first neuron's, unless set (a subclass may
        set its own, as karpathy's users write them; his Layer has none)."""
        given = vars(self).get("_nin")
        return given if given is not None else len(self.neurons[0].w)

    @nin.setter
    def nin(self, value: int) -> None:
        vars(self)["_nin"] = value

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

    @classmethod
    def parameter_count(cls, config: dict) -> int | None:
        return _dense_count([config.get("nin"), config.get("nout")])

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

    # as torch.nn.Sequential: its modules counted, in order, by index (a slice: a Sequential)
    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __getitem__(self, index: int | slice) -> Module:
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise TypeError(
                f"{type(self).__name__} indices must be integers or slices, got {index!r}"
            )
        if not -len(self.layers) <= index < len(self.layers):
            raise IndexError(
                f"{type(self).__name__} index {index} is out of range for its "
                f"{len(self.layers)} modules"
            )
        return self.layers[index]

    def config(self) -> dict:
        """The constructor arguments, for saving (see nn.serialize). A module met again (tied
        weights, as in Sequential(layer, act, layer)) is {"same_as": path} the second time:
        the path of its first config, such as "modules.0" (see nn.module.from_config)."""
        return self._config({}, "")

    def _config(self, seen: dict[int, str], path: str) -> dict:
        """config(), seen: where each module met so far sits (by id)."""
        modules = []
        for i, module in enumerate(self.layers):
            if id(module) in seen:
                modules.append({"same_as": seen[id(module)]})
                continue
            seen[id(module)] = at = f"{path}modules.{i}"
            plain = isinstance(module, Sequential) and type(module).config is Sequential.config
            modules.append(module._config(seen, f"{at}.") if plain else module.config())
        return {"type": "Sequential", "modules": modules}

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

    @classmethod
    def parameter_count(cls, config: dict) -> int | None:
        nouts = config.get("nouts")
        if not isinstance(nouts, list) or not nouts:
            return None
        return _dense_count([config.get("nin"), *nouts])
