"""Model-sized drawings: a loss over nn.MLP(2, [16, 16, 1]) grouped by neuron and layer,
clustered or collapsed. The expected sizes come from the architecture: a neuron with n inputs
computes n products and n sums per sample, plus one node for a non-linear activation."""

from __future__ import annotations

import math
import random
import re
import shutil
import xml.etree.ElementTree as ET

import pytest

import micrograd
from micrograd import nn
from micrograd.draw import draw_dot
from micrograd.viz.graph import index_graph
from micrograd.viz.groups import module_path, node_groups

SAMPLES = [([0.5, -1.0], 1.0), ([1.5, 0.3], -1.0), ([-0.2, 0.8], 1.0)]


def mlp_loss():
    model = nn.MLP(2, [16, 16, 1], rng=random.Random(0))
    terms = []
    for n, (x, y) in enumerate(SAMPLES):
        inputs = [micrograd.Value(v, label=f"x{n}[{j}]") for j, v in enumerate(x)]
        terms.append((model(inputs) - y) ** 2)
    loss = sum(terms, micrograd.Value(0.0, label="zero")) / len(SAMPLES)
    loss.label = "loss"
    loss.backward()
    return model, loss


def test_module_path_from_dotted_names():
    assert module_path("layers.0.neurons.3.w.1", "neuron") == "layers.0.neurons.3"
    assert module_path("layers.0.neurons.3.b", "neuron") == "layers.0.neurons.3"
    assert module_path("layers.2.neurons.0.w.15", "layer") == "layers.2"
    assert module_path("w.0", "layer") == "(model)"
    with pytest.raises(ValueError, match="group must be one of"):
        module_path("w.0", "block")


@pytest.mark.parametrize("level", ["neuron", "layer"])
def test_each_node_lands_in_the_module_that_computes_it(level):
    model, loss = mlp_loss()
    graph = index_graph(loss, model)
    groups = node_groups(graph, level)
    sizes: dict[str, int] = {}
    for name in groups:
        if name is not None:
            sizes[name] = sizes.get(name, 0) + 1
    per_sample = {0: 2 + 2 + 1, 1: 16 + 16 + 1, 2: 16 + 16}  # the last layer is linear
    params = {0: 3, 1: 17, 2: 17}
    widths = {0: 16, 1: 16, 2: 1}
    expected = {}
    for layer in range(3):
        neuron_size = params[layer] + per_sample[layer] * len(SAMPLES)
        if level == "layer":
            expected[f"layers.{layer}"] = neuron_size * widths[layer]
        else:
            for k in range(widths[layer]):
                expected[f"layers.{layer}.neurons.{k}"] = neuron_size
    assert sizes == expected
    assert groups[-1] is None  # the loss belongs to no neuron
    for name, value in model.named_parameters():
        assert groups[graph.index[value]] == module_path(name, level)


def test_clusters_keep_every_node_and_label_each_neuron():
    model, loss = mlp_loss()
    dot = draw_dot(loss, params=model, group="neuron")
    labels = re.findall(r"label=<<B>(layers\.\d+\.neurons\.\d+)</B>>", dot.source)
    assert len(labels) == 16 + 16 + 1 == len(set(labels))
    drawn = re.findall(r"^\s*v\d+ \[", dot.source, re.M)
    assert len(drawn) == len(micrograd.topological_order(loss))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
@pytest.mark.parametrize("level, boxes", [("neuron", 33), ("layer", 3)])
def test_collapsed_model_is_small_and_renders(level, boxes):
    model, loss = mlp_loss()
    total = len(micrograd.topological_order(loss))
    dot = draw_dot(loss, params=model, group=level, collapse=True, legend=True)
    box_ids = re.findall(r"^\s*(m\d+) \[", dot.source, re.M)
    assert len(box_ids) == boxes
    drawn = re.findall(r"^\s*[vm]\d+ \[", dot.source, re.M)
    assert total > 2000 and len(drawn) < 80
    first = "layers.0.neurons.0" if level == "neuron" else "layers.0"
    count = 3 if level == "neuron" else 48
    assert re.search(rf"<B>{re.escape(first)}</B>.*?{count} params", dot.source)
    svg = ET.fromstring(dot.pipe(format="svg"))
    texts = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert "loss" in texts and first in texts


def test_grouping_needs_names():
    model, loss = mlp_loss()
    with pytest.raises(ValueError, match="parameters by name"):
        draw_dot(loss, params=model.parameters(), group="neuron")
    with pytest.raises(ValueError, match="parameters by name"):  # drew no box, silently
        draw_dot(loss, group="neuron", collapse=True)
    with pytest.raises(TypeError, match="a parameter's name must be a str, got 1"):
        draw_dot(loss, params={1: model.parameters()[0]}, group="neuron")  # an AttributeError


@pytest.mark.parametrize(
    "options, message",
    [({"max_depth": 1.5}, "max_depth must be None or an integer >= 0"),  # taken as 1.5
     ({"max_depth": True}, "max_depth"), ({"max_nodes": "5"}, "max_nodes"),
     ({"max_depth": -1}, "max_depth")],
)  # fmt: skip
def test_drawing_limits_of_the_wrong_kind_are_named(options, message):
    _, loss = mlp_loss()
    with pytest.raises(ValueError, match=message):
        draw_dot(loss, **options)


def test_unlabelled_parameters_show_their_model_names():
    model, loss = mlp_loss()
    source = draw_dot(loss, params=model, max_depth=8).source
    assert "<I>layers.2.neurons.0.w.15</I>" in source
    names = set(re.findall(r"<I>([\w.]+)</I>", source))
    assert names and names <= {name for name, _ in model.named_parameters()}


def test_the_model_says_how_its_parameters_group_not_their_names():
    """The drawing asks the model (parameter_groups), so a module of one's own can group its
    parameters as it likes; nn's modules group by the module holding each parameter."""
    model, loss = mlp_loss()
    assert set(model.parameter_groups("layer").values()) == {"layers.0", "layers.1", "layers.2"}
    neuron_of = model.parameter_groups("neuron")
    assert neuron_of[model.layers[1].neurons[4].w[7]] == "layers.1.neurons.4"

    class Halves(type(model)):
        def parameter_groups(self, level):
            params = self.parameters()
            return {p: "first half" if k < len(params) // 2 else "second half"
                    for k, p in enumerate(params)}  # fmt: skip

    halves = Halves.__new__(Halves)
    halves.__dict__.update(vars(model))
    dot = draw_dot(loss, params=halves, group="layer", collapse=True)
    assert set(re.findall(r"<B>(first half|second half)</B>", dot.source)) == {
        "first half",
        "second half",
    }


@pytest.mark.parametrize("grad", [1e200, 1e-200])
def test_a_collapsed_box_gives_the_norm_of_large_and_tiny_gradients(grad):
    # the sum of squares overflowed (a bare OverflowError) or read 0.000
    model, loss = mlp_loss()
    loss.backward()
    for p in model.parameters():
        p.grad = grad
    source = draw_dot(loss, params=model, group="layer", collapse=True).source
    expected = math.sqrt(48) * grad  # layers.0: 16 neurons of 2 weights and a bias
    assert f"‖grad of params‖ {expected:#.4g}" in source
