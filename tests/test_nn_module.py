"""nn modules: karpathy/micrograd's defaults to the bit, names, state, errors; PyTorch as oracle."""

from __future__ import annotations

import json
import math
import random
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from micrograd import Value, nn

REFERENCE = json.loads((Path(__file__).parent / "data" / "karpathy_reference.json").read_text())


def torch_forward(model_state: dict, sizes: list[int], acts: list[str], x: list[float]):
    """The MLP of the given sizes computed by PyTorch from a state_dict, written independently."""
    funcs = {
        "relu": torch.relu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.01),
        "linear": lambda t: t,
    }
    params = {
        name: torch.tensor(v, dtype=torch.float64, requires_grad=True)
        for name, v in model_state.items()
    }
    h = [torch.tensor(v, dtype=torch.float64) for v in x]
    for i, (nin, nout) in enumerate(zip(sizes, sizes[1:])):
        out = []
        for j in range(nout):
            act = params[f"layers.{i}.neurons.{j}.b"]
            for k in range(nin):
                act = act + params[f"layers.{i}.neurons.{j}.w.{k}"] * h[k]
            out.append(funcs[acts[i]](act))
        h = out
    return h, params


def test_init_is_bit_identical_to_karpathy_micrograd():
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1])
    assert [p.data for p in model.parameters()] == REFERENCE["init_parameters"]


def test_demo_loop_reproduces_karpathy_micrograd():
    """demo.ipynb's loop, as written there, on this engine: losses and grads within 1e-12."""
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1])
    X, y = REFERENCE["moons_X"], REFERENCE["moons_y"]
    for k, expected in enumerate(REFERENCE["steps"]):
        inputs = [list(map(Value, row)) for row in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        total_loss = data_loss + 1e-4 * sum(p * p for p in model.parameters())
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        model.zero_grad()
        total_loss.backward()
        assert total_loss.data == pytest.approx(expected["loss"], rel=1e-12, abs=0)
        assert sum(accuracy) / len(accuracy) == expected["accuracy"]
        params = model.parameters()
        for i, grad in zip(REFERENCE["watched"], expected["grads"]):
            assert params[i].grad == pytest.approx(grad, rel=1e-12, abs=1e-15)
        for p in params:
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
    assert [p.data for p in model.parameters()] == pytest.approx(
        REFERENCE["final_parameters"], rel=1e-12, abs=1e-15
    )


def test_micrograd_nn_alias():
    from micrograd.nn import MLP, Layer, Neuron

    assert (MLP, Layer, Neuron) == (nn.MLP, nn.Layer, nn.Neuron)


def test_named_parameters_are_dotted_and_stable():
    model = nn.MLP(3, [5, 4, 2])
    names = [name for name, _ in model.named_parameters()]
    assert len(names) == len(set(names)) == (3 + 1) * 5 + (5 + 1) * 4 + (4 + 1) * 2
    assert (
        dict(model.named_parameters())["layers.0.neurons.3.w.1"] is model.layers[0].neurons[3].w[1]
    )
    assert names[:4] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1",
                         "layers.0.neurons.0.w.2", "layers.0.neurons.0.b"]  # fmt: skip
    assert [p for _, p in model.named_parameters()] == model.parameters()
    assert [name for name, _ in nn.Neuron(2).named_parameters()] == ["w.0", "w.1", "b"]


@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid", "leaky_relu", "linear"])
@pytest.mark.parametrize("output", ["linear", "sigmoid", "tanh"])
def test_activations_match_torch(hidden, output):
    rng = random.Random(5)
    model = nn.MLP(3, [4, 2], activation=hidden, output_activation=output, rng=rng)
    x = [0.3, -1.2, 2.0]
    outs = model(x)
    sum(o * (i + 1) for i, o in enumerate(outs)).backward()
    expected, params = torch_forward(model.state_dict(), [3, 4, 2], [hidden, output], x)
    sum(o * (i + 1) for i, o in enumerate(expected)).backward()
    for ours, theirs in zip(outs, expected):
        assert ours.data == pytest.approx(theirs.item(), rel=1e-12, abs=1e-15)
    for name, p in model.named_parameters():
        assert p.grad == pytest.approx(params[name].grad.item(), rel=1e-12, abs=1e-15)


def test_one_wide_hidden_layer_works():
    model = nn.MLP(2, [1, 3])
    x = [0.5, -0.25]
    outs = model(x)
    expected, _ = torch_forward(model.state_dict(), [2, 1, 3], ["relu", "linear"], x)
    assert [o.data for o in outs] == pytest.approx([t.item() for t in expected], rel=1e-12)


def test_one_output_is_a_single_value():
    assert isinstance(nn.MLP(2, [3, 1])([1.0, 2.0]), Value)
    assert isinstance(nn.Layer(2, 1)([1.0, 2.0]), Value)
    assert len(nn.Layer(2, 2)([1.0, 2.0])) == 2


def test_karpathy_style_constructors():
    random.seed(3)
    neuron = nn.Neuron(3, nonlin=False)
    assert neuron.activation == "linear" and not neuron.nonlin
    assert nn.Layer(2, 3, nonlin=False).activation == "linear"
    assert nn.Neuron(2).b.data == 0.0
    model = nn.MLP(2, [4, 1])
    assert [layer.activation for layer in model.layers] == ["relu", "linear"]


def test_sequential_equals_mlp_with_same_draws():
    random.seed(7)
    mlp = nn.MLP(2, [3, 1])
    random.seed(7)
    seq = nn.Sequential(nn.Layer(2, 3), nn.Layer(3, 1, nonlin=False))
    assert mlp.state_dict() == seq.state_dict()
    assert mlp([0.1, 0.2]).data == seq([0.1, 0.2]).data


@pytest.mark.parametrize(
    "init, bound",
    [("xavier_uniform", math.sqrt(6 / (30 + 20))), ("glorot_uniform", math.sqrt(6 / 50)),
     ("he_uniform", math.sqrt(6 / 30)), ("kaiming_uniform", math.sqrt(6 / 30))],
)  # fmt: skip
def test_named_inits_follow_their_bounds(init, bound):
    layer = nn.Layer(30, 20, init=init, rng=random.Random(0))
    weights = [w.data for n in layer.neurons for w in n.w]
    assert max(abs(w) for w in weights) <= bound
    assert max(abs(w) for w in weights) > 0.95 * bound  # 600 draws fill the interval
    assert all(n.b.data == 0.0 for n in layer.neurons)


def test_init_pytorch_draws_weights_and_biases_as_torch_nn_linear():
    # the biases stayed 0, where INITS says (and Conv2d does) that they are drawn as weights
    torch.manual_seed(0)
    theirs = torch.nn.Linear(16, 3000, dtype=torch.float64)
    ours = nn.Layer(16, 3000, init="pytorch", rng=random.Random(0))
    for name, numbers in (
        ("weight", [w.data for n in ours.neurons for w in n.w]),
        ("bias", [n.b.data for n in ours.neurons]),
    ):
        reference = getattr(theirs, name).detach().flatten()
        bound = reference.abs().max().item()  # 1 / sqrt(16), filled by thousands of draws
        assert max(map(abs, numbers)) <= 0.25 and bound <= 0.25
        assert max(map(abs, numbers)) == pytest.approx(bound, rel=0.01)
        spread = torch.tensor(numbers).std().item()
        assert spread == pytest.approx(reference.std().item(), rel=0.05)


def test_rng_is_used_instead_of_global_random():
    random.seed(11)
    before = random.random()
    random.seed(11)
    a = nn.MLP(2, [3, 1], rng=random.Random(4))
    assert random.random() == before  # the global generator was not touched
    b = nn.MLP(2, [3, 1], rng=random.Random(4))
    assert a.state_dict() == b.state_dict()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.MLP(2, [4])([1.0, 2.0, 3.0]), "MLP expects 2 inputs, got 3"),
        (lambda: nn.Layer(3, 2)([1.0]), "Layer expects 3 inputs, got 1"),
        (lambda: nn.Neuron(2)([1.0, 2.0, 3.0]), "Neuron expects 2 inputs, got 3"),
        (lambda: nn.MLP(0, [4]), "nin must be an integer >= 1, got 0"),
        (lambda: nn.MLP(2, []), "non-empty sequence"),
        (lambda: nn.MLP(2, [4, 0]), "layer size must be an integer >= 1"),
        (lambda: nn.MLP(2, [4], activation="swish"), "unknown activation 'swish'"),
        (lambda: nn.Layer(2, 2, init="normal"), "unknown init 'normal'"),
    ],
)
def test_bad_arguments_are_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make", [nn.Layer, nn.Neuron, nn.Conv2d])
def test_an_init_neither_name_nor_function_is_a_type_error_naming_the_module(make):
    args = (2, 3) if make is not nn.Neuron else (2,)
    with pytest.raises(TypeError, match=f"^{make.__name__}: init must be a name or a function"):
        make(*args, 3, init=3) if make is nn.Conv2d else make(*args, init=3)


@pytest.mark.parametrize("make", [nn.Layer, nn.Neuron, nn.Conv2d, nn.MLP])
@pytest.mark.parametrize("rng", [0, "abc", True, [1, 2]])
def test_an_rng_that_draws_nothing_is_a_type_error_naming_the_module(make, rng):
    # rng=0 (a seed, one might guess) was "'int' object has no attribute 'uniform'"
    args = {nn.Layer: (2, 3), nn.Neuron: (2,), nn.Conv2d: (2, 3, 3), nn.MLP: (2, [3])}[make]
    owner = "Layer" if make is nn.MLP else make.__name__
    with pytest.raises(TypeError, match=f"^{owner}: rng must be a random number generator"):
        make(*args, rng=rng)


@pytest.mark.parametrize(
    "init, error, message",
    [
        (lambda: 0.5, TypeError, r"init\(2, 3, rng\) failed \(TypeError: "),
        (
            lambda fan_in, fan_out, rng: rng.dim(),
            TypeError,
            r"init\(2, 3, rng\) failed \(AttributeError: ",
        ),
        (lambda fan_in, fan_out, rng: math.nan, ValueError, r"init\(2, 3, rng\) gave nan"),
        (lambda fan_in, fan_out, rng: "0.1", ValueError, r"init\(2, 3, rng\) gave '0.1'"),
    ],
)
def test_an_init_of_ones_own_that_fails_is_an_error_naming_the_layer(init, error, message):
    with pytest.raises(error, match=f"^Layer: {message}"):
        nn.Layer(2, 3, init=init)


def test_an_init_of_ones_own_failing_in_itself_raises_its_own_error_noted():
    # a math domain error inside it was reported as a TypeError about its signature
    with pytest.raises(ValueError, match="math domain error") as raised:
        nn.Layer(2, 3, init=lambda fan_in, fan_out, rng: math.sqrt(-fan_in))
    assert getattr(raised.value, "__notes__", ["Layer: raised by its init(2, 3, rng)"]) == [
        "Layer: raised by its init(2, 3, rng)"
    ]


def test_the_random_class_itself_is_no_rng():
    with pytest.raises(TypeError, match="got the class random.Random itself"):
        nn.Layer(2, 3, rng=random.Random)


def test_an_init_of_ones_own_gives_the_weights_it_draws():
    numbers = iter(range(1, 100))
    layer = nn.Layer(2, 2, init=lambda fan_in, fan_out, rng: np.float32(next(numbers)) / 4)
    weights = [w.data for neuron in layer.neurons for w in neuron.w]
    assert weights == [0.25, 0.5, 0.75, 1.0] and all(type(w) is float for w in weights)


def test_zero_grad():
    model = nn.MLP(2, [3, 1])
    model([1.0, -1.0]).backward()
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_state_dict_round_trip_and_all_or_nothing():
    source, target = nn.MLP(2, [3, 1]), nn.MLP(2, [3, 1])
    target.load_state_dict(source.state_dict())
    assert target.state_dict() == source.state_dict()
    before = target.state_dict()
    broken = dict(source.state_dict())
    broken["layers.1.neurons.0.b"] = "oops"  # the last entry: all others would load first
    for bad in [broken, {**source.state_dict(), "extra": 1.0}, {"layers.0.neurons.0.b": 1.0}]:
        with pytest.raises(ValueError, match="load_state_dict"):
            target.load_state_dict(bad)
        assert target.state_dict() == before


def test_repr_shows_tree_and_count():
    text = repr(nn.MLP(2, [16, 16, 1]))
    assert "(layers.0): Layer(2 -> 16, activation='relu')" in text
    assert "(layers.2): Layer(16 -> 1, activation='linear')" in text
    assert text.endswith("337 parameters")
    assert repr(nn.Neuron(3)) == "Neuron(3, activation='relu')  # 4 parameters"


def test_custom_modules_get_names_state_and_a_clear_call_error():
    class Pair(nn.Module):
        def __init__(self):
            self.scale = Value(2.0)
            self.parts = [nn.Neuron(1, nonlin=False), nn.Neuron(1, nonlin=False)]

    class Unfinished(nn.Module):
        pass

    pair = Pair()
    names = [name for name, _ in pair.named_parameters()]
    assert names == ["scale", "parts.0.w.0", "parts.0.b", "parts.1.w.0", "parts.1.b"]
    assert pair.state_dict()["scale"] == 2.0
    with pytest.raises(NotImplementedError, match="Unfinished must define __call__"):
        Unfinished()([1.0])


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_model_survives_deepcopy_and_pickle(how):
    import copy
    import pickle

    model = nn.MLP(3, [4, 2], activation="tanh", rng=random.Random(0))
    again = copy.deepcopy(model) if how == "deepcopy" else pickle.loads(pickle.dumps(model))
    x = [0.5, -1.0, 2.0]
    assert [v.data for v in again(x)] == [v.data for v in model(x)]
    assert again.parameters()[0] is not model.parameters()[0]  # a copy, not the same Values
    sum(again(x)).backward()
    sum(model(x)).backward()
    assert [p.grad for p in again.parameters()] == [p.grad for p in model.parameters()]


@pytest.mark.parametrize(
    "nouts",
    [
        np.array([3, 1]),
        np.array([3, 1], dtype=np.uint8),
        [np.int64(3), np.int32(1)],
        (3, 1),
        range(3, 0, -2),
    ],
    ids=["numpy array", "uint8 array", "numpy ints", "tuple", "range"],
)
def test_mlp_takes_any_sequence_of_integer_layer_sizes(nouts):
    model = nn.MLP(np.int64(2), nouts, rng=random.Random(0))
    reference = nn.MLP(2, [3, 1], rng=random.Random(0))
    assert model.config() == reference.config()
    assert json.dumps(model.config()) == json.dumps(reference.config())  # plain ints, savable
    assert model.state_dict() == reference.state_dict()


@pytest.mark.parametrize(
    "nouts, message",
    [
        (3, "got int 3"),
        (np.int64(3), r"got int64 (np\.int64\()?3"),
        ("31", "got str '31'"),
        (b"\x03\x01", "got bytes"),
        (None, "got NoneType None"),
        ({3, 1}, "got set"),
        ({3: 1}, "got dict"),
        (np.array(3), "got ndarray"),
        (np.array([]), "non-empty"),
        ([], "non-empty"),
        ([3.0, 1], "layer size must be an integer >= 1, got 3.0"),
        (np.array([3.5, 1.0]), r"layer size must be an integer >= 1, got (np\.float64\()?3\.5"),
        ([True, 1], "layer size must be an integer >= 1, got True"),
        ([np.True_, 1], r"layer size must be an integer >= 1, got (np\.)?True"),
        ([3, -1], "layer size must be an integer >= 1, got -1"),
        ([[3], [1]], r"layer size must be an integer >= 1, got \[3\]"),
    ],
)
def test_mlp_refuses_anything_but_a_sequence_of_positive_integers(nouts, message):
    with pytest.raises(ValueError, match=rf"^MLP: .*{message}"):
        nn.MLP(2, nouts)


@pytest.mark.parametrize(
    "value", [10**400, -(10**400), 10**5000, Fraction(10**400, 3)], ids=["400", "-400", "5000", "q"]
)
def test_load_state_dict_refuses_numbers_too_large_for_a_float(value):
    model = nn.MLP(2, [3, 1])
    before = model.state_dict()
    state = dict(before)
    state["layers.1.neurons.0.b"] = value  # the last entry: all others would load first
    with pytest.raises(ValueError, match=r"load_state_dict: layers\.1\.neurons\.0\.b must be"):
        model.load_state_dict(state)
    assert model.state_dict() == before


def test_from_config_builds_deep_architectures_without_recursing():
    depth = 3000
    neuron = {"type": "Neuron", "nin": 2, "activation": "relu"}
    config = neuron
    for _ in range(depth - 1):
        config = {"type": "Sequential", "modules": [config]}
    module, levels = nn.from_config(config), 1
    while isinstance(module, nn.Sequential):
        module, levels = module.layers[0], levels + 1
    assert levels == depth and isinstance(module, nn.Neuron)

    neuron["nin"] = 0  # now the innermost config is invalid: the error says where it is
    with pytest.raises(ValueError, match=r"'Neuron' module config at modules\.0\.modules\.0\."):
        nn.from_config(config)
    junk: list = []
    for _ in range(depth):
        junk = [junk]
    with pytest.raises(ValueError, match=r"must be a dict with a 'type', got \[\[\["):
        nn.from_config(junk)


def test_from_config_names_where_an_invalid_module_is():
    good = {"type": "Layer", "nin": 2, "nout": 3, "activation": "relu"}
    config = {"type": "Sequential", "modules": [good, {"type": "Conv2d"}]}
    with pytest.raises(ValueError, match=r"invalid 'Conv2d' module config at modules\.1: .*"):
        nn.from_config(config)
    with pytest.raises(ValueError, match=r"invalid 'Sequential' module config: .*'modules'"):
        nn.from_config({"type": "Sequential", "modules": [good], "extra": 1})


def test_sequential_counts_iterates_and_indexes_its_modules_as_torch():
    model = nn.Sequential(
        nn.Layer(2, 3, activation="linear"), nn.ReLU(), nn.Layer(3, 1, activation="linear")
    )
    theirs = nn.to_torch(model)
    assert len(model) == len(theirs) == 3
    assert [type(m).__name__ for m in model] == ["Layer", "ReLU", "Layer"]
    assert model[0] is model.layers[0] and model[-1] is model.layers[2]
    head = model[:2]  # a Sequential, as torch's slice is
    assert type(head) is nn.Sequential and type(theirs[:2]) is torch.nn.Sequential
    x = [0.5, -1.5]
    expected = theirs[:2](torch.tensor(x, dtype=torch.float64)).tolist()
    assert [v.data for v in head(x)] == pytest.approx(expected, rel=1e-15)
    assert len(nn.MLP(2, [4, 4, 1])) == 3
    with pytest.raises(TypeError, match="Sequential indices must be integers or slices"):
        model["0"]
    for index in (3, -4):  # a bare "list index out of range" before
        with pytest.raises(IndexError, match=f"Sequential index {index} is out of range for its 3"):
            model[index]
    with pytest.raises(IndexError):
        theirs[3]  # torch's is an IndexError too


def test_named_parameters_name_a_tied_parameter_once_as_torch_and_state_dict_every_time():
    shared = nn.Layer(2, 2, activation="linear", rng=random.Random(0))
    model = nn.Sequential(shared, nn.Tanh(), shared)
    theirs = nn.to_torch(model)
    ours = [name for name, _ in model.named_parameters()]
    first_use = [f"layers.0.neurons.{j}.{p}" for j in (0, 1) for p in ("w.0", "w.1", "b")]
    assert ours == first_use  # was 12 names: each parameter under both uses
    # torch too names the shared tensors once, under their first use
    assert [name for name, _ in theirs.named_parameters()] == ["0.weight", "0.bias"]
    assert len(model.named_parameters(remove_duplicate=False)) == len(model.state_dict()) == 12
    assert [p for _, p in model.named_parameters()] == model.parameters()


def test_train_step_takes_a_loss_by_name_as_fit_does():
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    twin = nn.MLP(2, [3, 1], rng=random.Random(0))
    X, y = [[0.5, 1.0], [-1.0, 2.0]], [1.0, -1.0]
    by_name = nn.train_step(model, "hinge", nn.optim.SGD(model.parameters(), lr=0.1), X, y)
    by_function = nn.train_step(twin, nn.hinge_loss, nn.optim.SGD(twin.parameters(), lr=0.1), X, y)
    assert by_name == by_function
    with pytest.raises(ValueError, match="^train_step: unknown loss 'hing'"):
        nn.train_step(model, "hing", nn.optim.SGD(model.parameters()), X, y)
    with pytest.raises(TypeError, match="^train_step: penalty must be a function"):
        nn.train_step(model, "hinge", nn.optim.SGD(model.parameters()), X, y, penalty=0.1)


def test_a_module_with_a_named_parameters_of_its_own_saves_and_loads(tmp_path):
    # state_dict() called self.named_parameters(remove_duplicate=False), which its own
    # named_parameters(self, prefix="") does not take
    class Scale(nn.Module):
        def __init__(self):
            self.factor = Value(2.0)

        def __call__(self, x):
            return x * self.factor

        def named_parameters(self, prefix=""):
            return [(f"{prefix}.factor" if prefix else "factor", self.factor)]  # torch's way

    scale = Scale()
    assert scale.state_dict() == {"factor": 2.0}
    scale.load_state_dict({"factor": 3.0})
    assert scale.factor.data == 3.0
    model = nn.Sequential(nn.Layer(1, 1, activation="linear"), scale)
    assert list(model.state_dict())[-1] == "layers.1.factor"


def test_a_named_parameters_of_ones_own_written_as_a_generator_loads_as_torchs_would():
    # dict() used the generator up: load_state_dict loaded nothing and said nothing
    class Scale(nn.Module):
        def __init__(self):
            self.factor = Value(2.0)

        def named_parameters(self, prefix=""):
            # torch's named_parameters is a generator, and joins prefix and name with a dot
            yield (f"{prefix}.factor" if prefix else "factor", self.factor)

    scale = Scale()
    scale.load_state_dict({"factor": 3.0})
    assert scale.factor.data == 3.0 and scale.state_dict() == {"factor": 3.0}
    with pytest.raises(ValueError, match="missing"):
        scale.load_state_dict({})


def test_activation_modules_take_numpy_arrays_as_the_layers_do():
    # nn.Tanh() of an array was "Value(): expected a number", naming neither Tanh nor arrays
    x = np.array([[0.5, -2.0], [1.5, -0.25]])
    ours = nn.Tanh()(x)
    theirs = torch.tanh(torch.tensor(x))
    np.testing.assert_allclose([[v.data for v in row] for row in ours], theirs, rtol=1e-15)
    assert nn.ReLU()(np.float64(-2.0)).data == 0.0
    model = nn.Sequential(nn.Sigmoid(), nn.Layer(2, 1, activation="linear"))
    assert model(np.array([0.5, -2.0])).data == model([0.5, -2.0]).data
    for bad in ("a", [1.0, None], {"a": 1}):
        with pytest.raises(TypeError, match="Tanh: expected numbers or Values"):
            nn.Tanh()(bad)


class Holder(nn.Module):
    """Values and modules kept every way a module of one's own keeps them."""

    __slots__ = ("scale", "__private")  # beside the __dict__ nn.Module gives it

    def __init__(self):
        self.scale = Value(1.5)  # a slot
        self.__private = Value(0.75)  # a slot whose name Python mangles
        self.layer = nn.Layer(2, 1, activation="linear", rng=random.Random(3))
        self.lookup = {"bias": Value(0.25), "owner": self}  # a dict: not walked, as torch's
        self.weights = np.array([Value(0.2), Value(-0.1)], dtype=object)
        self.blocks = [[nn.Neuron(2, nonlin=False, rng=random.Random(4))]]

    def __call__(self, x):
        inner = self.layer(x) * self.scale * self.__private + self.lookup["bias"]
        return inner + sum(w * xi for w, xi in zip(self.weights, x)) + self.blocks[0][0](x)


def test_values_in_slots_object_arrays_and_nested_lists_are_parameters_but_not_in_dicts():
    # only attributes in __dict__, lists and tuples were walked: scale and the weights were
    # left out of parameters(), state_dict() and zero_grad(), silently, and fit never
    # trained them. A dict is not walked, as torch's plain dicts are not (a Value in one is
    # a constant; a vocabulary of 100,000 words cost every step, a dict naming its owner
    # looped forever)
    model = Holder()
    names = [name for name, _ in model.named_parameters()]
    assert names == [
        "layer.neurons.0.w.0", "layer.neurons.0.w.1", "layer.neurons.0.b", "weights.0",
        "weights.1", "blocks.0.0.w.0", "blocks.0.0.w.1", "blocks.0.0.b", "scale",
        "_Holder__private",
    ]  # fmt: skip
    assert model.num_parameters() == 10 == len(model.state_dict())
    t = {
        name: torch.tensor(p.data, dtype=torch.float64, requires_grad=True)
        for name, p in model.named_parameters()
    }
    x = [0.5, -2.0]
    model(x).backward()
    layer = (
        t["layer.neurons.0.w.0"] * x[0] + t["layer.neurons.0.w.1"] * x[1] + t["layer.neurons.0.b"]
    )
    block = t["blocks.0.0.w.0"] * x[0] + t["blocks.0.0.w.1"] * x[1] + t["blocks.0.0.b"]
    weights = t["weights.0"] * x[0] + t["weights.1"] * x[1]
    (layer * t["scale"] * t["_Holder__private"] + 0.25 + weights + block).backward()
    for name, p in model.named_parameters():
        assert p.grad == pytest.approx(t[name].grad.item(), rel=1e-15), name
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    assert [name for name, _ in model._children()] == ["layer", "blocks.0.0"]


def test_named_parameters_joins_a_prefix_with_a_dot_as_torch():
    model = nn.Sequential(nn.Layer(2, 1, activation="linear"))
    theirs = nn.to_torch(model)
    assert [n for n, _ in model.named_parameters(prefix="model")][:2] == [
        "model.layers.0.neurons.0.w.0",
        "model.layers.0.neurons.0.w.1",
    ]  # "modellayers.0..." before
    assert [n for n, _ in theirs.named_parameters(prefix="model")] == ["model.0.weight",
                                                                      "model.0.bias"]  # fmt: skip

    class Scale(nn.Module):  # torch's way: no prefix argument of its own
        def __init__(self):
            self.factor = Value(2.0)

        def named_parameters(self):
            return [("factor", self.factor)]

    outer = nn.Sequential(Scale())
    assert outer.state_dict() == {"layers.0.factor": 2.0}  # a TypeError before


def test_a_tied_layer_is_grouped_under_its_first_name_as_its_parameters_are_named():
    # its box took the last name (layers.2) while its parameters were named layers.0.*
    shared = nn.Layer(2, 2, rng=random.Random(1))
    model = nn.Sequential(shared, nn.Tanh(), shared)
    assert set(model.parameter_groups("layer").values()) == {"layers.0"}
    assert {name.split(".neurons")[0] for name, _ in model.named_parameters()} == {"layers.0"}


def test_a_value_a_subclass_adds_is_a_parameter_and_a_result_it_keeps_is_none():
    # a parameter is a leaf Value: a scale added to a Sequential is one (and trains), the
    # output kept in self.out is not (torch: a Parameter attribute registers, a result not)
    class Scaled(nn.Sequential):
        def __init__(self, *modules):
            super().__init__(*modules)
            self.scale = Value(2.0)

        def __call__(self, x):
            self.out = super().__call__(x) * self.scale
            return self.out

    model = Scaled(nn.Layer(2, 1, rng=random.Random(0)))
    model([1.0, -1.0])
    assert model.out._a is not None  # a result, kept
    assert len(model.parameters()) == 4 and model.parameters()[-1] is model.scale
    assert list(model.state_dict()) == [
        "layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b", "scale"
    ]  # fmt: skip
    twin = torch.nn.Module()
    twin.scale = torch.nn.Parameter(torch.tensor(2.0))
    twin.out = torch.tensor(1.0) * twin.scale  # a plain tensor attribute: no parameter
    assert [name for name, _ in twin.named_parameters()] == ["scale"]


def test_a_module_linking_back_to_its_owner_is_walked_once_as_torchs():
    # a child holding its owner (self.owner = ...) sent parameters(), named_parameters(),
    # state_dict(), zero_grad() and repr into a RecursionError
    class Head(nn.Module):
        def __init__(self, body):
            self.body = body

        def __call__(self, x):
            return self.body(x)

    body = nn.Layer(2, 1, rng=random.Random(0))
    head = Head(body)
    body.owner = head
    theirs = torch.nn.Module()
    theirs.body = torch.nn.Linear(2, 1)
    theirs.body.owner = theirs  # torch registers it as a module of its body: a cycle too
    assert len(head.parameters()) == sum(p.numel() for p in theirs.parameters()) == 3
    assert head.parameters() == body.parameters()
    assert [name for name, _ in head.named_parameters()] == [
        "body.neurons.0.w.0", "body.neurons.0.w.1", "body.neurons.0.b"
    ]  # fmt: skip
    assert list(head.state_dict()) == [name for name, _ in head.named_parameters()]
    for p in body.parameters():
        p.grad = 1.0
    head.zero_grad()
    assert [p.grad for p in body.parameters()] == [0.0] * 3
    assert "3 parameters" in repr(head)


def test_a_link_back_inside_sequentials_is_drawn_shown_and_refused_by_save(tmp_path):
    # parameter_groups (the drawings' boxes) grew its stack for good, and repr of nested
    # Sequentials was a RecursionError
    inner = nn.Sequential(nn.Layer(2, 2, rng=random.Random(0)))
    outer = nn.Sequential(inner)
    inner.owner = outer
    groups = outer.parameter_groups("layer")
    assert list(groups) == outer.parameters() and set(groups.values()) == {"layers.0.layers.0"}
    assert "(owner): Sequential(...)  # a link back" in repr(outer)
    assert repr(outer).endswith(")  # 6 parameters")
    with pytest.raises(ValueError, match="or a module links back to one it is inside"):
        outer.save(tmp_path / "model.json")
    assert list(tmp_path.iterdir()) == []


def _modes(model) -> list[bool]:
    """Every module's training flag, the model's first, in the order of its own walk."""
    seen, flags, pending = set(), [], [model]
    while pending:
        module = pending.pop(0)
        if id(module) not in seen:
            seen.add(id(module))
            flags.append(module.training)
            pending.extend(child for _, child in module._children())
    return flags


def test_train_and_eval_set_every_modules_mode_as_torchs():
    """model.eval() and model.train() are the lines a torch user writes around evaluation:
    they were AttributeErrors. Each sets the flag on every module inside, a tied one once,
    returns the model, and refuses what torch refuses, as torch does (the same model in
    torch, step by step)."""
    layer = nn.Layer(4, 4, rng=random.Random(0))
    ours = nn.Sequential(nn.Conv2d(1, 1, 2, rng=random.Random(1)), nn.Flatten(), layer,
                         nn.Tanh(), layer)  # fmt: skip
    theirs = nn.to_torch(ours)
    assert ours.training and theirs.training and all(_modes(ours))
    assert ours.eval() is ours and theirs.eval() is theirs
    assert len(_modes(ours)) == 9  # the Sequential, its 4 modules (one twice), 4 neurons
    assert not any(_modes(ours)) and not any(m.training for m in theirs.modules())
    assert ours.train() is ours and all(_modes(ours))
    layer.eval()  # one module alone, as torch allows
    theirs.train()[3].eval()
    assert not any(_modes(layer)) and ours.training and ours.layers[0].training
    for mode in (0, 1, "eval", None):
        with pytest.raises(ValueError, match="training mode is expected to be boolean"):
            theirs.train(mode)
        with pytest.raises(ValueError, match=r"train\(\): mode must be True or False"):
            ours.train(mode)
    before = [p.data for p in ours.parameters()]
    x = [[[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [1.0, 2.0, 3.0]]]
    out_training = [v.data for v in ours(x)]
    ours.eval()
    assert [v.data for v in ours(x)] == out_training  # no module of nn's computes otherwise
    assert [p.data for p in ours.parameters()] == before


def test_the_torch_bridge_keeps_the_training_mode():
    model = nn.MLP(2, [3, 1], rng=random.Random(0)).eval()
    converted = nn.to_torch(model)
    assert not any(m.training for m in converted.modules())
    back = nn.from_torch(converted)
    assert not any(_modes(back))
    assert all(_modes(nn.from_torch(converted.train())))


@pytest.mark.parametrize(
    "init, torch_init",
    [("xavier_normal", torch.nn.init.xavier_normal_),
     ("glorot_normal", torch.nn.init.xavier_normal_),
     ("he_normal", lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu")),
     ("kaiming_normal", lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu"))],
)  # fmt: skip
def test_normal_inits_spread_as_torchs(init, torch_init):
    """The normal versions of Glorot's and He's initialisations, which torch.nn.init has:
    weights centred on 0 with torch's spread (its draws on a tensor of the same shape), for a
    layer and a convolution, whose fans count the kernel's numbers; biases start at 0."""
    torch.manual_seed(0)
    layer = nn.Layer(60, 200, init=init, rng=random.Random(0))
    conv = nn.Conv2d(8, 16, 3, init=init, rng=random.Random(1))
    for ours, shape in ((layer, (200, 60)), (conv, (16, 8, 3, 3))):
        reference = torch_init(torch.empty(shape, dtype=torch.float64))
        weights = torch.tensor([p.data for p in ours.parameters() if p.data != 0.0])
        assert len(weights) == reference.numel()
        assert weights.std().item() == pytest.approx(reference.std().item(), rel=0.05)
        assert abs(weights.mean().item()) < 0.1 * reference.std().item()
