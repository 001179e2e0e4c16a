"""Tied weights: a module used twice is one set of parameters, and stays one through save and
load, to_torch and from_torch. The oracle is PyTorch training its own copy: untied copies
get each use's gradient apart and train to other numbers."""

from __future__ import annotations

import json
import random

import pytest
import torch
from micrograd.nn.testing import assert_module_matches_torch
from micrograd.nn.torch_bridge import parameter_pairs
from oracle import same

from micrograd import Value, nn

X = [[0.5, -1.0, 0.25], [1.5, 0.3, -0.7], [-0.2, 0.8, 1.1]]
Y = [0.3, -0.2, 0.7]


def tied_model() -> nn.Module:
    shared = nn.Layer(3, 3, activation="linear", rng=random.Random(4))
    return nn.Sequential(shared, nn.Tanh(), shared, nn.Layer(3, 1, rng=random.Random(5)))


def train(model: nn.Module, steps: int = 3) -> None:
    """SGD with momentum on a squared error: a tied parameter's momentum sees both uses."""
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(steps):
        optimizer.zero_grad()
        outputs = [model([Value(v) for v in x]) for x in X]
        loss = sum((out - y) ** 2 for out, y in zip(outputs, Y)) * (1 / len(X))
        loss.backward()
        optimizer.step()


def train_torch(twin: torch.nn.Module, steps: int = 3) -> None:
    optimizer = torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    inputs = torch.tensor(X, dtype=torch.float64)
    targets = torch.tensor(Y, dtype=torch.float64)
    for _ in range(steps):
        optimizer.zero_grad()
        ((twin(inputs)[:, 0] - targets) ** 2).mean().backward()
        optimizer.step()


def assert_same_parameters(model: nn.Module, twin: torch.nn.Module) -> None:
    state = twin.state_dict()  # a tied tensor under each of its names, as ours
    for name, value, torch_name, index in parameter_pairs(model, twin):
        assert same(value.data, state[torch_name][index].item()), name


def test_a_tied_model_saved_and_loaded_trains_as_in_torch(tmp_path):
    model = tied_model()
    twin = nn.to_torch(model)
    assert sum(p.numel() for p in twin.parameters()) == model.num_parameters() == 16
    path = tmp_path / "tied.json"
    model.save(path)
    modules = json.loads(path.read_text())["architecture"]["modules"]
    assert modules[2] == {"same_as": "modules.0"}
    loaded = nn.load(path)
    assert loaded.layers[0] is loaded.layers[2]
    assert loaded.state_dict() == model.state_dict()
    train(loaded)
    train_torch(twin)
    assert_same_parameters(loaded, twin)


@pytest.mark.parametrize(
    "make",
    [lambda: tied_model(), lambda: mlp_with_a_layer_used_twice()],
    ids=["a layer twice in a Sequential", "a layer twice in an MLP"],
)
def test_a_tied_model_trains_as_its_torch_copy(make):
    model = make()
    twin = nn.to_torch(model)
    assert twin[0] is twin[2]
    train(model)
    train_torch(twin)
    assert_same_parameters(model, twin)


def test_assert_module_matches_torch_takes_a_tied_model():
    # was a KeyError (torch's named_parameters names a tied tensor once); an untied torch
    # copy would fail it too: each copy's gradient is one use's, ours the sum of both
    assert_module_matches_torch(tied_model(), X, loss="mse", targets=Y)


def test_ties_inside_nested_sequentials_round_trip(tmp_path):
    shared = nn.Layer(2, 2, activation="tanh", rng=random.Random(1))
    inner = nn.Sequential(nn.Layer(2, 2, rng=random.Random(2)), shared)
    model = nn.Sequential(shared, inner, inner, shared)
    assert model.config()["modules"][1:] == [
        {"type": "Sequential", "modules": [
            {"type": "Layer", "nin": 2, "nout": 2, "activation": "relu"},
            {"same_as": "modules.0"},
        ]},
        {"same_as": "modules.1"},
        {"same_as": "modules.0"},
    ]  # fmt: skip
    model.save(tmp_path / "nested.json")
    loaded = nn.load(tmp_path / "nested.json")
    first, inner, again, last = loaded.layers
    assert inner.layers[1] is first is last and again is inner
    assert inner.layers[0] is not first
    assert loaded.num_parameters() == model.num_parameters() == 12
    x = [0.4, -0.9]
    assert [v.data for v in loaded(x)] == [v.data for v in model(x)]


@pytest.mark.parametrize("after", [torch.nn.Tanh, torch.nn.ReLU])
def test_from_torch_keeps_a_tied_linear_tied(after):
    torch.manual_seed(3)
    linear = torch.nn.Linear(3, 3, dtype=torch.float64)
    head = torch.nn.Linear(3, 1, dtype=torch.float64)
    twin = torch.nn.Sequential(linear, torch.nn.Tanh(), linear, after(), head)
    model = nn.from_torch(twin)
    assert isinstance(model, nn.Sequential) and not isinstance(model, nn.MLP)
    assert model.num_parameters() == sum(p.numel() for p in twin.parameters()) == 16
    layers = [m for m in model.layers if isinstance(m, nn.Layer)]
    assert layers[0] is layers[1]
    if after is torch.nn.Tanh:  # the same activation after each use: a Layer of it
        assert layers[0].activation == "tanh" and len(model.layers) == 3
    else:  # a Layer of its own, each activation a module after it
        assert layers[0].activation == "linear"
        assert [type(m) for m in model.layers] == [nn.Layer, nn.Tanh, nn.Layer, nn.ReLU, nn.Layer]
    again = nn.to_torch(model)
    train(model)
    train_torch(twin)
    assert_same_parameters(model, twin)
    assert again[0] is again[2]


def mlp_with_a_layer_used_twice() -> nn.MLP:
    model = nn.MLP(3, [3, 3, 1], rng=random.Random(6))
    model.layers[1] = model.layers[0]  # a tie its config ("nouts") cannot say
    return model


def test_save_refuses_a_tie_the_file_cannot_describe_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "model.json"
    nn.MLP(3, [3, 3, 1], rng=random.Random(7)).save(path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="save: this MLP shares parameters"):
        mlp_with_a_layer_used_twice().save(path)
    assert path.read_bytes() == before


def test_load_into_refuses_a_model_with_a_tie_the_file_cannot_describe(tmp_path):
    path = tmp_path / "model.json"
    nn.MLP(3, [3, 3, 1], rng=random.Random(7)).save(path)
    model = mlp_with_a_layer_used_twice()
    state = model.state_dict()
    with pytest.raises(ValueError, match="load: this MLP shares parameters"):
        model.load(path)
    assert model.state_dict() == state


def test_load_state_dict_refuses_two_numbers_for_one_tied_parameter():
    model = tied_model()
    state = model.state_dict()
    given = dict(state, **{"layers.2.neurons.1.w.0": 0.125})  # layers.0's, another number
    with pytest.raises(ValueError, match=r"layers.0.neurons.1.w.0 and layers.2.neurons.1.w.0"):
        model.load_state_dict(given)
    assert model.state_dict() == state
    model.load_state_dict(dict(state))  # the same number under both names loads


@pytest.mark.parametrize(
    "modules",
    [
        [{"same_as": "modules.0"}],  # itself
        [{"type": "ReLU"}, {"same_as": "modules.2"}, {"type": "ReLU"}],  # a later one
        [{"type": "Sequential", "modules": [{"same_as": "modules.0"}]}],  # around it
        [{"type": "ReLU"}, {"same_as": "modules.0", "type": "ReLU"}],  # more than same_as
        [{"type": "ReLU"}, {"same_as": 0}],
    ],
)
def test_a_bad_reference_in_a_file_is_a_value_error(tmp_path, modules):
    path = tmp_path / "bad.json"
    architecture = {"type": "Sequential", "modules": modules}
    document = {"format": "micrograd.nn", "version": 1, "architecture": architecture}
    document["parameters"] = {}
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=r"bad.json: a module config at modules\.\d.*same_as"):
        nn.load(path)


def neuron_in_two_layers() -> nn.Module:
    first = nn.Layer(3, 3, activation="tanh", rng=random.Random(8))
    second = nn.Layer(3, 3, activation="tanh", rng=random.Random(9))
    second.neurons[1] = first.neurons[0]
    return nn.Sequential(first, second, nn.Layer(3, 1, rng=random.Random(10)))


def test_to_torch_refuses_parameters_shared_within_modules():
    # torch ties whole modules: the copies of the shared neuron trained apart, silently
    model = neuron_in_two_layers()
    with pytest.raises(ValueError, match="to_torch: this Sequential shares parameters within"):
        nn.to_torch(model)


def test_from_torch_refuses_a_parameter_shared_by_two_modules():
    # each Linear became a Layer of its own: the tied weight was two parameters that trained
    # apart, where torch trains one
    first = torch.nn.Linear(3, 3, dtype=torch.float64)
    second = torch.nn.Linear(3, 3, dtype=torch.float64)
    second.weight = first.weight
    twin = torch.nn.Sequential(first, torch.nn.Tanh(), second)
    with pytest.raises(ValueError, match="Linear at index 2 shares a parameter with the Linear "
                       "at index 0"):  # fmt: skip
        nn.from_torch(twin)
