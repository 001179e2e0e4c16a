"""nn.to_torch / nn.from_torch: the same network on both sides, outputs and gradients to 1e-12."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from micrograd import Value, nn


def as_list(out) -> list:
    return out if isinstance(out, list) else [out]


def compare(model: nn.Module, twin: torch.nn.Module, x: list[float]) -> None:
    """Outputs, input gradients and parameter gradients of a weighted output sum agree."""
    inputs = [Value(v) for v in x]
    outs = as_list(model(inputs))
    weights = [1.0, -0.5, 2.0, 0.25][: len(outs)]
    sum(w * o for w, o in zip(weights, outs)).backward()
    x_t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    outs_t = twin(x_t)
    (outs_t * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    assert [o.data for o in outs] == pytest.approx(outs_t.tolist(), rel=1e-12, abs=1e-15)
    assert [v.grad for v in inputs] == pytest.approx(x_t.grad.tolist(), rel=1e-12, abs=1e-15)
    linears = [m for m in twin if isinstance(m, torch.nn.Linear)]
    dense = _layers(model)
    assert len(linears) == len(dense)
    for linear, neurons in zip(linears, dense):
        for j, neuron in enumerate(neurons):
            assert [w.grad for w in neuron.w] == pytest.approx(
                linear.weight.grad[j].tolist(), rel=1e-12, abs=1e-15
            )
            assert neuron.b.grad == pytest.approx(linear.bias.grad[j].item(), rel=1e-12, abs=1e-15)


def _layers(model):
    if isinstance(model, nn.Neuron):
        return [[model]]
    if isinstance(model, nn.Layer):
        return [model.neurons]
    return [neurons for child in model.layers for neurons in _layers(child)]


@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid", "leaky_relu", "linear"])
@pytest.mark.parametrize("output", ["linear", "sigmoid"])
def test_to_torch_matches(hidden, output):
    model = nn.MLP(3, [5, 4, 2], activation=hidden, output_activation=output,
                   rng=random.Random(2))  # fmt: skip
    twin = nn.to_torch(model)
    assert isinstance(twin, torch.nn.Sequential)
    assert all(p.dtype == torch.float64 for p in twin.parameters())
    compare(model, twin, [0.3, -1.1, 0.7])


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.Neuron(3, rng=random.Random(1)),
        lambda: nn.Layer(3, 4, activation="tanh", rng=random.Random(1)),
        lambda: nn.Sequential(nn.Layer(3, 2, rng=random.Random(1)), nn.MLP(2, [1, 3])),
    ],
)
def test_to_torch_other_modules(make):
    model = make()
    compare(model, nn.to_torch(model), [0.3, -1.1, 0.7])


def test_from_torch_matches_and_round_trips():
    torch.manual_seed(0)
    twin = torch.nn.Sequential(
        torch.nn.Linear(3, 5, dtype=torch.float64), torch.nn.Tanh(),
        torch.nn.Linear(5, 4, dtype=torch.float64), torch.nn.Tanh(),
        torch.nn.Linear(4, 2, dtype=torch.float64), torch.nn.Sigmoid(),
    )  # fmt: skip
    model = nn.from_torch(twin)
    assert isinstance(model, nn.MLP)
    assert model.config()["activation"] == "tanh"
    assert model.config()["output_activation"] == "sigmoid"
    compare(model, twin, [1.5, 0.2, -0.4])
    assert nn.from_torch(nn.to_torch(model)).state_dict() == model.state_dict()


def test_from_torch_mixed_activations_and_single_linear():
    torch.manual_seed(1)
    mixed = torch.nn.Sequential(
        torch.nn.Linear(2, 3, dtype=torch.float64), torch.nn.ReLU(),
        torch.nn.Linear(3, 3, dtype=torch.float64), torch.nn.LeakyReLU(),
        torch.nn.Linear(3, 1, dtype=torch.float64), torch.nn.Identity(),
    )  # fmt: skip
    model = nn.from_torch(mixed)
    assert isinstance(model, nn.Sequential) and not isinstance(model, nn.MLP)
    compare(model, mixed, [0.5, -2.0])
    single = torch.nn.Linear(2, 3, dtype=torch.float64)
    converted = nn.from_torch(single)
    x = torch.tensor([0.5, -2.0], dtype=torch.float64)
    assert [v.data for v in converted([0.5, -2.0])] == pytest.approx(single(x).tolist(), rel=1e-12)


def empty_linear() -> torch.nn.Linear:
    with warnings.catch_warnings():  # torch: "Initializing zero-element tensors is a no-op"
        warnings.simplefilter("ignore", UserWarning)
        return torch.nn.Linear(0, 2)


class Doubled(torch.nn.Linear):
    def forward(self, x):
        return 2 * super().forward(x)


class Negated(torch.nn.Conv2d):
    def forward(self, x):
        return -super().forward(x)


@pytest.mark.parametrize(
    "module, error, message",
    [
        (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout()), TypeError,
         "unsupported module Dropout at index 1"),
        (torch.nn.Conv1d(1, 1, 3), TypeError, "unsupported module Conv1d at index 0"),
        (torch.nn.Conv2d(1, 2, 3, dilation=2), ValueError, "only dilation 1"),
        # converted with a bias of 0 that then trained, where torch's model has none
        (torch.nn.Linear(2, 3, bias=False), ValueError, "Linear at index 0 has no bias"),
        (torch.nn.Sequential(*[torch.nn.Sequential(torch.nn.Linear(2, 2))] * 2), TypeError,
         "unsupported module Sequential at index 0"),  # not "shares a parameter"
        (torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1, bias=False)),
         ValueError, "Linear at index 1 has no bias"),
        (torch.nn.MaxPool2d(2, padding=1), ValueError, "only padding 0"),
        (torch.nn.Flatten(0), ValueError, r"only Flatten\(\)"),
        (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.LeakyReLU(0.2)), ValueError,
         "negative_slope 0.2"),
        (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(4, 1)), ValueError,
         "a layer of 3 outputs feeds one of 4 inputs"),
        (torch.nn.Sequential(), ValueError, "no Linear layer or other module"),
        # each converted silently, computing otherwise than torch's module
        (torch.nn.AvgPool2d(2, divisor_override=1), ValueError, "no divisor_override"),
        (torch.nn.MaxPool2d(2, return_indices=True), ValueError, "no return_indices"),
        (Doubled(2, 1), TypeError, "unsupported module Doubled at index 0.*exactly"),
        (torch.nn.Sequential(Doubled(2, 1)), TypeError, "unsupported module Doubled"),
        (Negated(1, 1, 1), TypeError, "unsupported module Negated at index 0"),
        (torch.nn.LazyLinear(2), TypeError, "unsupported module LazyLinear at index 0"),
        (empty_linear(), ValueError, "from_torch: Linear at index 0: Layer: nin"),
        (torch.nn.Sequential(torch.nn.Tanh(), empty_linear(), torch.nn.ReLU()), ValueError,
         "from_torch: Linear at index 1: "),  # was its activation's index, 2
    ],
)  # fmt: skip
def test_from_torch_rejects_what_it_cannot_represent(module, error, message):
    with pytest.raises(error, match=message):
        nn.from_torch(module)


def test_to_torch_rejects_unknown_modules():
    class Custom(nn.Module):
        pass

    with pytest.raises(TypeError, match="to_torch: cannot convert Custom"):
        nn.to_torch(Custom())


def test_torch_is_imported_only_by_the_bridge():
    code = (
        "import sys, random, nn\n"
        "m = nn.MLP(2, [3, 1])\n"
        "X, y = nn.data.make_xor()\n"
        "nn.fit(m, X, y, loss='mse', epochs=1, progress=False)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "nn.to_torch(m)\n"
        "assert 'torch' in sys.modules\n"
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=str(Path(__file__).resolve().parent.parent)
    )


def _tampered(where: str, activation: str) -> nn.Module:
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    if where == "neuron":
        model.layers[0].neurons[0].activation = activation
    elif where == "layer":
        for neuron in model.layers[1].neurons:
            neuron.activation = activation
    return model


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: _tampered("neuron", "swish"),
         "to_torch: layers.0.neurons.0 has activation 'swish'; expected one of 'relu', "),
        (lambda: _tampered("layer", "gelu"), "to_torch: layers.1.neurons.0 has activation 'gelu'"),
        (lambda: _tampered("neuron", None), "to_torch: layers.0.neurons.0 has activation None"),
        (lambda: setattr(lone := nn.Neuron(2), "activation", "swish") or lone,
         "to_torch: Neuron has activation 'swish'"),
    ],
)  # fmt: skip
def test_to_torch_names_an_unknown_activation(make, message):
    """Was KeyError: 'swish', naming neither to_torch nor the module."""
    with pytest.raises(ValueError, match=re.escape(message)):
        nn.to_torch(make())


def test_to_torch_rejects_a_layer_whose_neurons_disagree():
    """Was converted silently with the first neuron's activation for the whole layer."""
    model = nn.Sequential(nn.Layer(2, 3, rng=random.Random(0)), nn.Layer(3, 1))
    model.layers[0].neurons[2] = nn.Neuron(2, activation="tanh", rng=random.Random(1))
    with pytest.raises(ValueError) as caught:
        nn.to_torch(model)
    message = str(caught.value)
    assert message.startswith("to_torch: the neurons of layers.0 disagree on their activation")
    assert "neurons.0 is 'relu'" in message and "neurons.2 is 'tanh'" in message


def test_to_torch_rejects_a_layer_whose_neurons_have_different_widths():
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    model.layers[0].neurons[1].w.append(Value(0.5))
    with pytest.raises(ValueError, match=re.escape("to_torch: layers.0.neurons.1 has 3 weights")):
        nn.to_torch(model)


def test_to_torch_rejects_a_neuron_whose_function_was_replaced():
    """activation says relu but the forward pass runs tanh: a silent wrong twin before."""
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    model.layers[0].neurons[1]._act = Value.tanh
    x = [0.3, -1.1]
    assert model(x).data != pytest.approx(_untampered_output(x), abs=1e-9)
    with pytest.raises(ValueError) as caught:
        nn.to_torch(model)
    message = str(caught.value)
    assert message.startswith("to_torch: layers.0.neurons.1 computes with")
    assert "not ACTIVATIONS['relu']" in message


def _untampered_output(x: list[float]) -> float:
    return nn.MLP(2, [3, 1], rng=random.Random(0))(x).data


def test_to_torch_accepts_copies_and_pickles():
    """The check of each neuron's function must not reject a model that was copied."""
    import copy
    import pickle

    model = nn.MLP(3, [4, 2], activation="leaky_relu", rng=random.Random(3))
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        compare(clone, nn.to_torch(clone), [0.3, -1.1, 0.7])


def test_activations_standing_alone_become_activation_modules():
    torch.manual_seed(3)
    twin = torch.nn.Sequential(
        torch.nn.ReLU(), torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Tanh()
    ).double()
    model = nn.from_torch(twin)
    assert [type(m).__name__ for m in model.layers] == ["ReLU", "Layer", "Tanh"]
    x = [0.5, -2.0]
    expected = twin(torch.tensor(x, dtype=torch.float64)).tolist()
    assert [v.data for v in model(x)] == pytest.approx(expected, rel=1e-12)
    assert [type(m).__name__ for m in nn.to_torch(model)] == ["ReLU", "Linear", "ReLU", "Tanh"]


@pytest.mark.parametrize("value", [10**400, None, "1.5"])
def test_to_torch_names_the_layer_of_a_parameter_that_is_not_a_float(value):
    model = nn.MLP(2, [2, 1], rng=random.Random(0))
    # stored by the slot: w.data = value is refused itself now; 10**400 was a bare OverflowError
    model.layers[1].neurons[0].w[0]._data = value
    with pytest.raises(ValueError, match="to_torch: the parameters of layers.1 must be numbers"):
        nn.to_torch(model)


def test_to_torch_refuses_a_subclass_computing_its_own_way():
    # converted by its class: a residual Sequential gave torch outputs [-0.037, -0.104]
    # where ours are [0.263, -0.604]
    class Residual(nn.Sequential):
        def __call__(self, x):
            return [o + xi for o, xi in zip(super().__call__(x), x)]

    class Doubling(nn.Layer):
        def _forward(self, x):
            return [2 * v for v in super()._forward(x)]

    class Renamed(nn.Layer):  # computes as a Layer does: converts
        pass

    with pytest.raises(TypeError, match="to_torch: the model is a Residual with a __call__"):
        nn.to_torch(Residual(nn.Layer(2, 2)))
    with pytest.raises(TypeError, match="layers.0 is a Doubling with a _forward of its own"):
        nn.to_torch(nn.Sequential(Doubling(2, 2)))
    model = nn.Sequential(Renamed(2, 2, activation="tanh", rng=random.Random(0)))
    compare(model, nn.to_torch(model), [0.5, -1.0])


def _plain_model():
    """A torch Sequential of a Conv2d, a ReLU and a pool, the same weights each time."""
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(1, 2, 3).double()
    return torch.nn.Sequential(conv, torch.nn.ReLU(), torch.nn.MaxPool2d(2))


@pytest.mark.parametrize("where", ["outer", "conv", "relu", "pool"])
@pytest.mark.parametrize("kind", ["forward", "pre", "backward"])
def test_from_torch_refuses_a_module_with_a_hook(where, kind):
    # ignored, they made a model that computes otherwise: outputs 13.5 apart, say
    model = _plain_model()
    target = {"outer": model, "conv": model[0], "relu": model[1], "pool": model[2]}[where]
    {
        "forward": lambda: target.register_forward_hook(lambda m, i, out: out * 10 - 1),
        "pre": lambda: target.register_forward_pre_hook(lambda m, i: (i[0] + 1,)),
        "backward": lambda: target.register_full_backward_hook(lambda m, gi, go: None),
    }[kind]()
    x = torch.randn(1, 1, 6, 6, dtype=torch.float64)
    if kind != "backward":  # what the hook does: another output than the plain modules'
        assert not torch.allclose(model(x), _plain_model()(x))
    where_named = {"outer": "the module", "conv": "Conv2d at index 0", "relu": "ReLU at index 1",
                   "pool": "MaxPool2d at index 2"}[where]  # fmt: skip
    kind_named = {"forward": "forward hook", "pre": "forward pre-hook", "backward": "backward hook"}
    with pytest.raises(ValueError, match=f"from_torch: {where_named} has a {kind_named[kind]},"):
        nn.from_torch(model)


@pytest.mark.filterwarnings("ignore:.*weight_norm.*:FutureWarning")  # the one it deprecates
def test_from_torch_refuses_an_old_weight_norm_whose_weight_lags_its_parts():
    # the weight is remade from weight_g and weight_v before each forward: after a step, .weight
    # was out of date, and the converted model 7 apart from torch's
    conv = torch.nn.utils.weight_norm(torch.nn.Conv2d(1, 2, 3).double())
    with pytest.raises(ValueError, match="forward pre-hook.*remove_weight_norm"):
        nn.from_torch(torch.nn.Sequential(conv))
    torch.nn.utils.remove_weight_norm(conv)
    assert isinstance(nn.from_torch(torch.nn.Sequential(conv)), nn.Sequential)


def test_from_torch_refuses_while_a_global_hook_is_registered():
    handle = torch.nn.modules.module.register_module_forward_hook(lambda m, i, out: out)
    try:
        with pytest.raises(ValueError, match="from_torch: a global forward hook is registered"):
            nn.from_torch(torch.nn.Linear(2, 1).double())
    finally:
        handle.remove()
    assert isinstance(nn.from_torch(torch.nn.Linear(2, 1).double()), nn.MLP)


def test_from_torch_refuses_a_parameter_with_a_gradient_hook():
    # weight.register_hook doubled torch's gradients; the converted model trained without it
    linear = torch.nn.Linear(2, 1).double()
    handle = linear.weight.register_hook(lambda g: 2 * g)
    with pytest.raises(ValueError, match="from_torch: the module has a hook on its weight"):
        nn.from_torch(linear)
    handle.remove()
    assert isinstance(nn.from_torch(linear), nn.MLP)


def _linear(*sizes):
    torch.manual_seed(0)
    return torch.nn.Linear(*sizes, dtype=torch.float64)


def _reshaped(make, name, shape):
    module = make()
    setattr(module, name, torch.nn.Parameter(torch.randn(*shape, dtype=torch.float64)))
    return module


def _sized(make, **sizes):
    module = make()
    for name, value in sizes.items():
        setattr(module, name, value)
    return module


def _conv():
    torch.manual_seed(0)
    return torch.nn.Conv2d(1, 2, 2, dtype=torch.float64)


@pytest.mark.parametrize(
    "module, message",
    [
        (_sized(lambda: _linear(2, 3), out_features=2), r"weight has shape \(3, 2\).*\(2, 2\)"),
        (_reshaped(lambda: _linear(2, 3), "weight", (3, 4)), r"weight has shape \(3, 4\)"),
        (_reshaped(lambda: _linear(2, 3), "bias", (1,)), r"bias has shape \(1,\).*give \(3,\)"),
        (_reshaped(_conv, "weight", (2, 1, 3, 3)), r"weight has shape \(2, 1, 3, 3\).*2, 2\)"),
    ],
    ids=["out_features", "Linear weight", "Linear bias", "Conv2d weight"],
)  # fmt: skip
def test_from_torch_refuses_weights_its_sizes_do_not_describe(module, message):
    """torch computes with the tensors; from_torch built ours from the sizes: a weight set in
    place of one of another shape lost columns or kept zeros, a bias of one torch broadcast
    was an IndexError. Each still computes in torch, otherwise than ours would."""
    conv = isinstance(module, torch.nn.Conv2d)
    shape = (1, 1, 4, 4) if conv else (1, module.weight.shape[1])
    module(torch.randn(*shape, dtype=torch.float64))  # torch runs it
    with pytest.raises(ValueError, match=f"from_torch: .* at index 0: its {message}"):
        nn.from_torch(module)


def test_from_torch_refuses_a_forward_set_on_a_module_and_complex_weights():
    """Each converted as if it were a plain module: a forward set on the instance ran in
    torch and not in ours (outputs [1, -2] against [0.67, -0.22]), a complex weight lost its
    imaginary part. A frozen weight converts as any other (ours have no such flag)."""
    linear = _linear(2, 2)
    linear.forward = lambda x: 2 * x
    x = torch.tensor([0.5, -1.0], dtype=torch.float64)
    assert linear(x).tolist() == [1.0, -2.0]
    with pytest.raises(ValueError, match="the module has a forward of its own set on it"):
        nn.from_torch(linear)
    outer = torch.nn.Sequential(_linear(2, 2))
    outer.forward = lambda x: x
    with pytest.raises(ValueError, match="the module has a forward of its own"):
        nn.from_torch(outer)
    inner = torch.nn.Sequential(_linear(2, 2), torch.nn.Tanh())
    inner[1].forward = lambda x: x
    with pytest.raises(ValueError, match="Tanh at index 1 has a forward of its own"):
        nn.from_torch(inner)
    with pytest.raises(ValueError, match="weight holds complex numbers"):
        nn.from_torch(torch.nn.Linear(2, 1, dtype=torch.complex128))
    frozen = _linear(2, 2).requires_grad_(False)  # as before inference
    converted = nn.from_torch(frozen)
    assert [v.data for v in converted([0.5, -1.0])] == pytest.approx(frozen(x).tolist(), rel=1e-15)


def test_bridge_errors_name_the_bridge_and_what_is_wrong():
    """A pool's stride of 0 (torch takes it) read 'MaxPool2d: stride must be...', naming
    neither from_torch nor where; a Value kept on a model was said to be shared."""
    with pytest.raises(ValueError, match="from_torch: MaxPool2d at index 0: .*stride"):
        nn.from_torch(torch.nn.MaxPool2d(2, stride=0))
    model = nn.MLP(2, [2, 1], rng=random.Random(0))
    model.scale = Value(2.0)
    with pytest.raises(ValueError, match=r"to_torch: this MLP holds 1 parameter\(s\) of its own"):
        nn.to_torch(model)
