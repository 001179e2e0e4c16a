"""Conv2d, MaxPool2d, AvgPool2d and Flatten against torch.nn float64: values, the input's
gradient and every parameter's gradient to 1e-12, over random shapes, strides and paddings;
and everything a module has: the bridge, save/load, repr, named parameters, drawing units,
micrograd.compile, and clear errors for bad input."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch
from micrograd.nn.testing import assert_module_matches_torch
from oracle import same

import micrograd
from micrograd import Value, nn
from micrograd.runner import LinearStep

torch.set_default_dtype(torch.float64)


def image_values(array: np.ndarray) -> list:
    return [[[Value(float(v)) for v in row] for row in plane] for plane in array]


def flat(nested) -> list:
    return nn.Flatten()(nested)


def weighted_sum(outputs, weights: np.ndarray) -> Value:
    """sum of every output times its own weight, so that every gradient is different."""
    return sum(o * float(w) for o, w in zip(flat(outputs), weights.ravel()))


def check_against_torch(module, torch_module, shape, seed):
    rng = np.random.default_rng(seed)
    array = rng.normal(size=shape)
    x = image_values(array)
    out = module(x)
    t_x = torch.tensor(array[None], requires_grad=True)
    t_out = torch_module(t_x)[0]
    assert np.array(flat(out), dtype=object).size == t_out.numel()
    assert all(same(o.data, t, rel=1e-12, abs_tol=1e-14) for o, t in
               zip(flat(out), t_out.reshape(-1).tolist()))  # fmt: skip
    weights = rng.normal(size=t_out.shape)
    weighted_sum(out, weights).backward()
    (t_out * torch.tensor(weights)).sum().backward()
    grads = [v.grad for v in flat(x)]
    assert all(same(g, t, rel=1e-12, abs_tol=1e-14) for g, t in
               zip(grads, t_x.grad.reshape(-1).tolist()))  # fmt: skip
    return t_x


CONVS = [  # (in, out, kernel, stride, padding, input height, width)
    (1, 2, 3, 1, 0, 5, 5),
    (2, 3, 3, 1, 1, 4, 6),
    (3, 2, (2, 3), (2, 1), (1, 0), 7, 5),
    (1, 1, 1, 1, 0, 3, 3),
    (2, 4, 4, 3, 2, 6, 6),
]


@pytest.mark.parametrize("case", CONVS)
def test_conv2d_matches_torch_values_input_and_parameter_gradients(case):
    cin, cout, kernel, stride, padding, h, w = case
    conv = nn.Conv2d(cin, cout, kernel, stride, padding, rng=random.Random(0))
    (t_conv,) = nn.to_torch(conv)
    assert isinstance(t_conv, torch.nn.Conv2d) and t_conv.weight.shape[:2] == (cout, cin)
    check_against_torch(conv, t_conv, (cin, h, w), seed=hash(case) % 1000)
    t_grads = dict(t_conv.named_parameters())
    for name, value, torch_name, index in nn.torch_bridge.parameter_pairs(conv, nn.to_torch(conv)):
        theirs = t_grads[torch_name.split(".", 1)[1]].grad[index].item()
        assert same(value.grad, theirs, rel=1e-12, abs_tol=1e-14), name


def test_random_convolution_shapes_match_torch():
    rng = random.Random(11)
    for seed in range(12):
        cin, cout = rng.randint(1, 3), rng.randint(1, 3)
        kernel = (rng.randint(1, 3), rng.randint(1, 3))
        stride, padding = (
            (rng.randint(1, 2), rng.randint(1, 2)),
            (rng.randint(0, 1), rng.randint(0, 2)),
        )
        h, w = rng.randint(kernel[0], 6), rng.randint(kernel[1], 6)
        conv = nn.Conv2d(cin, cout, kernel, stride, padding, rng=random.Random(seed))
        (t_conv,) = nn.to_torch(conv)
        check_against_torch(conv, t_conv, (cin, h, w), seed)


POOLS = [
    ((2, None), (1, 4, 4)),
    ((2, 1), (2, 5, 4)),
    (((2, 3), (1, 2)), (1, 6, 7)),
    ((3, 3), (2, 7, 7)),
]


@pytest.mark.parametrize("kind", ["MaxPool2d", "AvgPool2d"])
@pytest.mark.parametrize("arguments, shape", POOLS)
def test_pools_match_torch(kind, arguments, shape):
    ours = getattr(nn, kind)(*arguments)
    theirs = getattr(torch.nn, kind)(*arguments)
    check_against_torch(ours, theirs, shape, seed=3)


def test_max_pooling_ties_send_the_gradient_to_the_first_largest_as_torch_does():
    array = np.array([[[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 0.0, 0.0], [5.0, 5.0, -1.0, 7.0],
                       [5.0, 5.0, 7.0, 7.0]]])  # fmt: skip
    x = image_values(array)
    out = nn.MaxPool2d(2)(x)
    weighted_sum(out, np.array([1.0, 10.0, 100.0, 1000.0])).backward()
    t_x = torch.tensor(array[None], requires_grad=True)
    (
        torch.nn.functional.max_pool2d(t_x, 2)[0].reshape(-1) * torch.tensor([1.0, 10, 100, 1000])
    ).sum().backward()
    assert [v.grad for v in flat(x)] == t_x.grad.reshape(-1).tolist()
    assert [v.grad for v in flat(x)].count(0.0) == 12  # one winner per window, ties or not


@pytest.mark.parametrize("kernel, stride", [(3, 1), ((2, 3), (1, 2)), (2, 1)])
def test_overlapping_windows_full_of_ties_send_each_gradient_where_torch_does(kernel, stride):
    """Windows that share rows share those rows' maxima (taken along each row, then down
    the window): every window must still give all its gradient to its own first largest."""
    array = np.random.default_rng(5).integers(0, 3, size=(2, 6, 7)).astype(np.float64)
    x = image_values(array)
    out = nn.MaxPool2d(kernel, stride)(x)
    scales = np.arange(1.0, 1.0 + len(flat(out)))
    weighted_sum(out, scales).backward()
    t_x = torch.tensor(array[None], requires_grad=True)
    t_out = torch.nn.functional.max_pool2d(t_x, kernel, stride)
    (t_out.reshape(-1) * torch.tensor(scales)).sum().backward()
    assert [v.data for v in flat(out)] == t_out.reshape(-1).tolist()
    assert [v.grad for v in flat(x)] == t_x.grad.reshape(-1).tolist()


def test_flatten_orders_channels_then_rows_as_torch():
    array = np.arange(24.0).reshape(2, 3, 4)
    assert [v.data for v in flat(image_values(array))] == torch.flatten(
        torch.tensor(array)
    ).tolist()


def cnn(seed: int = 0) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1, rng=random.Random(seed)),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(3, 4, 2, rng=random.Random(seed + 1)),
        nn.Tanh(),
        nn.AvgPool2d(1),
        nn.Flatten(),
        nn.Layer(4 * 3 * 3, 5, activation="linear", rng=random.Random(seed + 2)),
    )


def test_a_cnn_and_its_torch_copy_agree_on_outputs_loss_and_every_gradient():
    X = np.random.default_rng(5).random((6, 1, 8, 8))
    assert_module_matches_torch(cnn(), X, [0, 4, 2, 1, 3, 0], loss="cross_entropy", rtol=1e-12)


def test_the_bridge_round_trips_a_cnn():
    model = cnn(3)
    back = nn.from_torch(nn.to_torch(model))
    assert [type(m).__name__ for m in back.layers] == [type(m).__name__ for m in model.layers]
    assert back.state_dict() == model.state_dict()


def test_save_load_repr_and_names(tmp_path):
    model = cnn(4)
    model.save(tmp_path / "cnn.json")
    again = nn.load(tmp_path / "cnn.json")
    x = np.random.default_rng(6).random((1, 8, 8))
    assert [v.data for v in again(x)] == [v.data for v in model(x)]
    assert (
        "Conv2d(1, 3, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))  # 30 parameters"
        in repr(model)
    )
    assert model.num_parameters() == 30 + (4 * 3 * 4 + 4) + (36 * 5 + 5)
    names = [name for name, _ in model.named_parameters()]
    assert names[:2] == ["layers.0.weight.0.0.0.0", "layers.0.weight.0.0.0.1"]
    assert "layers.0.bias.2" in names and "layers.3.weight.3.2.1.1" in names


def test_pytorch_initialisation_by_default_and_others_by_name():
    conv = nn.Conv2d(2, 3, 3, rng=random.Random(0))
    bound = 1 / (2 * 9) ** 0.5  # kaiming_uniform_(a=sqrt(5)): 1 / sqrt(fan_in), bias too
    values = [p.data for p in conv.parameters()]
    assert all(-bound <= v <= bound for v in values) and max(map(abs, values)) > bound / 2
    zeros = nn.Conv2d(2, 3, 3, init="zeros")
    assert all(p.data == 0.0 for p in zeros.parameters())
    he = nn.Conv2d(2, 3, 3, init="he_uniform", rng=random.Random(0))
    assert all(b.data == 0.0 for b in he.bias)  # named inits draw weights; biases start at 0


def test_drawings_group_a_convolution_by_filter():
    model = cnn(5)
    groups = model.parameter_groups("neuron")
    assert groups[model.layers[0].weight[2][0][1][1]] == "layers.0.filters.2"
    assert groups[model.layers[0].bias[2]] == "layers.0.filters.2"
    assert set(model.parameter_groups("layer").values()) == {"layers.0", "layers.3", "layers.7"}
    x = np.random.default_rng(7).random((1, 8, 8))
    out = nn.cross_entropy([model(x)], [1])
    out.backward()
    dot = micrograd.draw_dot(out, params=model, group="neuron", collapse=True)
    assert "layers.0.filters.0" in dot.source and "layers.3.filters.3" in dot.source


def test_a_compiled_cnn_is_the_eager_one_and_runs_each_convolution_as_one_product():
    model = cnn(6)
    X = np.random.default_rng(8).random((7, 1, 8, 8))
    y = np.array([0, 1, 2, 3, 4, 0, 1])
    step = micrograd.compile(lambda x, t: nn.cross_entropy([model(x)], [list(t)]))
    loss = step(X, np.eye(5)[y])
    compiled = [p.grad for p in model.parameters()]
    model.zero_grad()
    eager = nn.cross_entropy([model(x) for x in X], y.tolist())
    eager.backward()
    assert same(loss, eager.data, rel=1e-12)
    assert all(
        same(c, p.grad, rel=1e-11, abs_tol=1e-15) for c, p in zip(compiled, model.parameters())
    )
    linear = {s.shape: s for s in step.plan.steps if isinstance(s, LinearStep)}
    assert {(3, 64, 9), (4, 9, 12), (5, 1, 36)} <= set(linear)
    # the convolutions gather their windows anyway, so their biases ride in the product
    assert linear[3, 64, 9].folded and linear[4, 9, 12].folded
    assert step.listing().count("+ bias") == 3


ZEROS = np.zeros((1, 4, 4))


@pytest.mark.parametrize(
    "module, image, message",
    [
        (nn.Conv2d(1, 2, 3), [[1.0, 2.0]], r"Conv2d: .*channel 0 is a list of numbers, not of"),
        (nn.Conv2d(1, 2, 3), [[[1.0] * 4] * 3 + [[1.0] * 3]],
         "Conv2d: ragged image: its first row is 4 numbers .* but row 3 of channel 0 has 3"),
        # said "channel 0 is 3x4, channel 1 has 3 rows of [4] numbers"
        (nn.Conv2d(2, 2, 3), [[[1.0] * 4] * 3, [[1.0] * 4] * 2],
         "ragged image: its first row is 4 numbers and its first channel 3 rows, but channel "
         "1 has 2 rows"),
        (nn.Conv2d(2, 2, 3), ZEROS, r"Conv2d: expected 2 channels, got an image of 1 \(1x4x4\)"),
        (nn.Conv2d(1, 2, 5), ZEROS, "Conv2d: the kernel 5x5 is larger than the input 4x4"),
        (nn.Conv2d(1, 2, 7, padding=1), ZEROS, "larger than the padded input 6x6"),
        (nn.MaxPool2d(3), np.zeros((1, 2, 2)), "MaxPool2d: the kernel 3x3 is larger"),
        (nn.AvgPool2d(2), [[["a", 1.0]]], "AvgPool2d: channel 0 holds 'a', not a number"),
        # a batch where one image goes: was "channel 0 holds something not a number"
        (nn.Conv2d(1, 1, 2), np.zeros((4, 1, 3, 3)), "Conv2d: .* nests one level deeper: a batch"),
        (nn.Conv2d(1, 2, 3), [], r"Conv2d: expected an image \[channels\]\[height\]\[width\]"),
    ],
)  # fmt: skip
def test_bad_images_name_the_module_and_the_shapes(module, image, message):
    with pytest.raises(ValueError, match=message):
        module(image)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.Conv2d(0, 2, 3), "Conv2d: in_channels must be an integer >= 1"),
        (lambda: nn.Conv2d(1, -2, 3), "Conv2d: out_channels must be an integer >= 1"),
        (lambda: nn.Conv2d(1, 2, 0), "Conv2d: kernel_size must be an integer >= 1"),
        (lambda: nn.Conv2d(1, 2, 3, stride=0), "Conv2d: stride must be an integer >= 1"),
        (lambda: nn.Conv2d(1, 2, 3, padding=-1), "Conv2d: padding must be an integer >= 0"),
        (lambda: nn.Conv2d(1, 2, (3, 3, 3)), "Conv2d: kernel_size must be an integer or a pair"),
        (lambda: nn.MaxPool2d(2, stride=0), "MaxPool2d: stride must be an integer >= 1"),
        (lambda: nn.AvgPool2d(-1), "AvgPool2d: kernel_size must be an integer >= 1"),
        (lambda: nn.Conv2d(1, 2, 2.5), "Conv2d: kernel_size must be an integer >= 1"),
    ],
)
def test_bad_sizes_name_the_module_and_the_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    "make", [lambda: nn.Conv2d(1, 2, 3, rng=random.Random(0)), lambda: nn.MaxPool2d(2),
             lambda: nn.AvgPool2d(2), lambda: nn.Flatten()],
)  # fmt: skip
def test_an_image_of_numpy_arrays_inside_lists_is_taken_as_torch_takes_its_tensor(make):
    # the hint for a 2-D array says [image]: that was refused ("channel 0 is array(...)"), and
    # so was a list of numpy rows
    module = make()
    image = np.random.RandomState(0).rand(5, 6)
    twin = nn.to_torch(nn.Sequential(module))
    theirs = twin(torch.tensor(image[None, None])).detach().numpy().ravel()
    for given in ([image], [list(image)], image[None]):
        ours = np.array(
            [getattr(v, "data", v) for v in nn.Flatten()(module(given))], dtype=np.float64
        )
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)


def test_output_shapes_chain_through_a_model_as_torchs_outputs_have_them():
    # a conv's took (height, width) and a pool's (channels, height, width): a model's shapes
    # could not be passed along
    first = nn.Conv2d(1, 3, 3, padding=1, rng=random.Random(0))
    second = nn.Conv2d(3, 4, (2, 3), stride=2, rng=random.Random(1))
    layers = [first, nn.MaxPool2d(2), second, nn.AvgPool2d(2, 1)]
    shape = (1, 11, 13)
    twin = nn.to_torch(nn.Sequential(*layers))
    x = torch.zeros(1, *shape, dtype=torch.float64)
    for layer, their_layer in zip(layers, twin):
        shape = layer.output_shape(*shape)
        x = their_layer(x)
        assert shape == tuple(x.shape[1:])
    assert layers[0].output_shape(11, 13) == (3, 11, 13)  # (height, width), as before
    assert layers[0].output_shape(height=11, width=13) == (3, 11, 13)  # by name too
    with pytest.raises(ValueError, match="Conv2d.output_shape: an input of 2 channels, where"):
        layers[0].output_shape(2, 11, 13)


def test_flatten_takes_numpy_numbers_and_0_d_arrays_at_any_depth_as_torch_flattens_them():
    given = [np.float64(1.0), np.array(2.5), [np.array([3.0, -0.5])]]
    ours = nn.Flatten()(given)
    assert ours == torch.flatten(torch.tensor([1.0, 2.5, 3.0, -0.5])).tolist()
    assert nn.Flatten()(np.array(3.0)) == [3.0]


def test_an_average_of_negative_zeros_is_negative_zero_where_torchs_is_zero_as_the_readme_says():
    image = [[[-0.0, -0.0], [-0.0, -0.0]]]
    ours = nn.AvgPool2d(2)(image)[0][0][0].data
    theirs = torch.nn.AvgPool2d(2)(torch.tensor([image], dtype=torch.float64)).item()
    assert ours == theirs == 0.0
    assert math.copysign(1.0, ours) == -1.0 and math.copysign(1.0, theirs) == 1.0
