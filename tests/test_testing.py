"""micrograd.testing and micrograd.nn.testing: they pass what is right, catch what is wrong,
say where, and work in pytest and unittest alike."""

from __future__ import annotations

import math
import random
import subprocess
import sys
import unittest

import numpy as np
import pytest
import torch
from lecture_ops import lecture_tanh
from micrograd.nn.testing import assert_module_matches_torch

import micrograd
from micrograd import Op, Value, nn
from micrograd.formulas import FormulaError, evaluate
from micrograd.gradcheck import GradcheckError, gradcheck
from micrograd.ops import TANH
from micrograd.testing import assert_matches_torch, check_op


def neuron(x, w, b):
    return (x * w + b).tanh() + (x / w).exp() * b.sigmoid() - abs(w).sqrt()


@pytest.mark.parametrize(
    "fn, point",
    [
        (neuron, (0.5, -1.3, 0.2)),
        (lambda a, b: a**b + (a * b).log() - b.relu(), (1.7, 0.8)),
        (lambda a: (a.sin() * a.cos() + 1) ** 3, (0.4,)),
    ],
)
def test_right_functions_pass_to_second_order(fn, point):
    assert_matches_torch(fn, *point)


def test_a_wrong_function_is_caught_and_the_table_names_input_and_order():
    def torch_version(x, w, b):  # the sign of one term is wrong
        return (x * w + b).tanh() + (x / w).exp() * b.sigmoid() + w.abs().sqrt()

    x, w, b = Value(0.5, label="x"), Value(-1.3, label="w"), Value(0.2, label="b")
    with pytest.raises(AssertionError) as caught:
        assert_matches_torch(neuron, x, w, b, torch_fn=torch_version)
    table = str(caught.value)
    assert "neuron at x=0.5, w=-1.3, b=0.2" in table
    assert "derivative" in table and "rel. error" in table
    lines = {line.split()[0]: line.split() for line in table.splitlines()[2:]}
    assert set(lines) == {  # only what w touches; its first derivative under a factor too,
        "neuron", "dneuron/dw", "d2neuron/dwdw",  # by both of the engine's paths
        "d(-2*neuron)/dw", "d(-2*neuron)/dw(floats)",
    }  # fmt: skip
    assert lines["dneuron/dw"][1] == "1" and lines["d2neuron/dwdw"][1] == "2"


def test_order_one_leaves_the_hessian_out():
    # a rule that reads plain numbers is right to first order only: no graph for its gradient
    cube = Op("cube", 1, lambda F, a: a * a * a, lambda F, g, out, a: (g * 3 * F.plain(a) ** 2,))
    assert_matches_torch(cube, 0.7, order=1, torch_fn=lambda a: a**3)
    with pytest.raises(AssertionError, match=r"d2cube/dx0dx0  2"):
        assert_matches_torch(cube, 0.7, order=2, torch_fn=lambda a: a**3)


def stable_softplus():
    """log(1 + e**a), written so that it neither overflows nor loses digits."""
    return Op(
        "softplus",
        1,
        lambda F, a: F.where(F.plain(a) > 20, a, F.log1p(F.exp(a))),
        lambda F, g, out, a: (F.where(F.plain(a) > 20, g, g * F.div(1.0, 1.0 + F.exp(-a))),),
        "softplus(a) = log(1 + e**a), a above 20 (as torch)",
    )


def test_check_op_passes_an_op_of_ones_own_and_catches_a_wrong_rule():
    square = Op("square", 1, lambda F, a: a * a, lambda F, g, out, a: (g * 2 * a,))
    check_op(square, lambda a: a * a)
    wrong_tanh = Op("tanh", 1, TANH.forward, lambda F, g, out, a: (g * (1 - out),))  # not out**2
    with pytest.raises(AssertionError, match=r"check_op\(tanh\): \d+ problem") as caught:
        check_op(wrong_tanh, torch.tanh)
    report = str(caught.value)
    assert "against finite differences:" in report and "gradcheck: d^1 f / dinputs[0]" in report
    assert "against PyTorch:" in report and "dtanh/da: ours" in report


def test_check_op_checks_the_compiled_program_too():
    # right on floats and Values, but the array rule forgets where it is 0: only compile errs
    def derivative(F, g, out, a):
        if isinstance(a, (float, Value)):
            return (F.where(F.plain(a) > 0, g, 0.0),)
        return (g,)

    relu_ish = Op("relu_ish", 1, lambda F, a: F.where(F.plain(a) < 0, 0.0, a), derivative)
    with pytest.raises(AssertionError) as caught:
        check_op(relu_ish, torch.relu, points=[-1.0, 2.0])
    assert "against micrograd.compile:" in str(caught.value)
    assert "compiled, at (-1.0,): derivative 0 ours 1.0, torch 0.0" in str(caught.value)
    assert "against PyTorch:" not in str(caught.value)


def test_a_model_matches_its_torch_copy_with_each_loss():
    X = [[0.5, -1.0, 2.0], [1.0, 0.2, -0.3], [-0.7, 0.1, 0.9]]
    classifier = nn.MLP(3, [4, 3], activation="tanh", rng=random.Random(0))
    assert_module_matches_torch(classifier, X)
    assert_module_matches_torch(classifier, X, [0, 2, 1], loss="cross_entropy")
    scorer = nn.MLP(3, [5, 1], rng=random.Random(1))
    assert_module_matches_torch(scorer, X, [1.0, -1.0, 1.0], loss="hinge")
    assert_module_matches_torch(scorer, X, [0.3, -1.0, 2.0], loss="mse")


def test_a_model_that_differs_from_its_torch_copy_is_caught_by_name():
    class Leaky(nn.Neuron):  # computes something to_torch cannot know about
        def _forward(self, x):
            return super()._forward(x) * 1.5

    model = nn.MLP(2, [3, 1], rng=random.Random(2))
    leaky = Leaky(2, activation="linear")
    leaky.w, leaky.b = model.layers[1].neurons[0].w, model.layers[1].neurons[0].b
    model.layers[1].neurons[0] = leaky
    with pytest.raises(AssertionError) as caught:
        assert_module_matches_torch(model, [[0.3, 0.8], [1.0, -2.0]])
    assert "output 0 of sample 0" in str(caught.value)
    assert "d loss / d layers.1.neurons.0.b" in str(caught.value)


def test_a_model_whose_output_is_an_image_is_checked_number_by_number(monkeypatch):
    # a convolution's feature maps without a Flatten: an AttributeError ('list' has no data)
    X = np.random.RandomState(0).randn(2, 1, 5, 5)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, rng=random.Random(0)), nn.MaxPool2d(2))
    assert_module_matches_torch(model, X)
    real = nn.testing.to_torch

    def off_by_a_little(module):  # the copy's second map off, from its bias
        copy = real(module)
        with torch.no_grad():
            copy[0].bias[1] += 1e-6
        return copy

    monkeypatch.setattr(nn.testing, "to_torch", off_by_a_little)
    with pytest.raises(AssertionError) as caught:
        assert_module_matches_torch(model, X)
    # the second map of a sample holds outputs 1 (one 2x2 map is 1 number after pooling)
    assert "output 1 of sample 0" in str(caught.value)
    assert "output 0 of sample 0" not in str(caught.value)
    assert "output 1 of sample 1" in str(caught.value) and "  loss " in str(caught.value)


def test_the_checks_record_gradients_inside_no_grad_as_outside():
    # under no_grad both sides' derivatives were zeros: false failures that blamed the rule
    X = [[0.5, -1.0], [1.0, 0.2]]
    model = nn.MLP(2, [3, 1], activation="tanh", rng=random.Random(0))
    with micrograd.no_grad(), torch.no_grad():
        assert gradcheck(lambda v: v.tanh() * v, [0.7])
        assert_matches_torch(lambda v: v.tanh() * v, 0.7)
        check_op(TANH, torch.tanh)
        assert_module_matches_torch(model, X)
        with pytest.raises(AssertionError, match=r"d\(-2\*forgets_g"):  # still catches
            check_op(FORGETS_G, torch.square, points=[0.7], smooth=[])
        assert not micrograd.is_grad_enabled() and not torch.is_grad_enabled()  # as it was


def test_check_op_says_it_cannot_run_inside_detect_anomaly():
    # its grid overflows on purpose: a FloatingPointError on exp at 710, a correct op
    with micrograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="check_op: runs the op where it may overflow"):
            check_op(TANH, torch.tanh)


def test_it_works_under_unittest_as_a_failure_not_an_error():
    class Checks(unittest.TestCase):
        def test_right(self):
            assert_matches_torch(lambda a: a.exp() * a, 0.3)

        def test_wrong(self):
            assert_matches_torch(lambda a: a.exp() * a, 0.3, torch_fn=lambda a: a.exp())

    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(Checks).run(result)
    assert result.testsRun == 2 and len(result.failures) == 1 and not result.errors
    assert "test_wrong" in str(result.failures[0][0])


def test_without_torch_the_error_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails
    with pytest.raises(ImportError, match="pip install torch"):
        assert_matches_torch(lambda a: a * a, 2.0)


def test_importing_micrograd_and_its_testing_module_never_imports_torch():
    probe = "import sys, micrograd, micrograd.testing; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_an_op_of_ones_own_works_everywhere_a_builtin_does(tmp_path):
    import math

    import numpy as np

    import micrograd
    from micrograd import detect_anomaly, grad, gradcheck, no_grad
    from micrograd.draw import backward_steps, draw_dot, save_backward_html

    softplus = stable_softplus()

    def expected(a):  # log(1 + e**a) and its derivative sigmoid(a), by hand
        return math.log1p(math.exp(a)), 1 / (1 + math.exp(-a))

    x = Value(0.3)
    y = softplus(x) * 2.0
    y.backward()
    assert y.data == pytest.approx(2 * expected(0.3)[0]) and x.grad == pytest.approx(
        2 * expected(0.3)[1]
    )
    (first,) = grad(softplus(x), [x], create_graph=True)
    (second,) = grad(first, [x])
    s = expected(0.3)[1]
    assert second == pytest.approx(s * (1 - s), rel=1e-12)  # sigmoid'(a)
    assert gradcheck(softplus, [0.3], order=2)
    with no_grad():
        assert softplus(x)._prev == ()
    with detect_anomaly(), pytest.raises(FloatingPointError, match="'softplus'"):
        bad = Op("softplus", 1, softplus.forward, lambda F, g, out, a: (g * F.div(1.0, 0.0 * a),))
        bad(Value(0.0)).backward()
    assert softplus(2.0).data == pytest.approx(expected(2.0)[0])  # plain numbers are lifted
    w = Value(0.7)
    step = micrograd.compile(lambda x: softplus(w * x[0]))
    batch = np.array([[0.5], [-1.0], [2.0]])
    loss = step(batch)
    values = [expected(0.7 * v)[0] for v in batch[:, 0]]
    assert loss == pytest.approx(sum(values) / 3, rel=1e-12)
    assert w.grad == pytest.approx(sum(expected(0.7 * v)[1] * v for v in batch[:, 0]) / 3)
    assert "softplus(" in step.listing()
    assert "label=<softplus>" in draw_dot(softplus(x)).source
    (frame,) = list(backward_steps(softplus(x)))
    assert frame.edges[0].amount == pytest.approx(expected(0.3)[1], rel=1e-12)
    save_backward_html(softplus(x) * 3.0, tmp_path / "page.html")
    assert "softplus" in (tmp_path / "page.html").read_text()
    check_op(softplus, torch.nn.functional.softplus, points=[-3.0, 0.0, 1.0, 30.0])


# -- rules that pass at g = 1 but are wrong: the checks put a factor on the output ----------

FORGETS_G = Op("forgets_g", 1, lambda F, a: a * a, lambda F, g, out, a: (2 * a,))
SQUARES_G = Op("squares_g", 1, lambda F, a: a * a, lambda F, g, out, a: (g * g * 2 * a,))
SECOND_FORGETS_G = Op(
    "second_forgets_g", 2, lambda F, a, b: a * b, lambda F, g, out, a, b: (g * b, a)
)


@pytest.mark.parametrize("op", [FORGETS_G, SQUARES_G, SECOND_FORGETS_G])
def test_a_rule_that_mishandles_the_incoming_gradient_is_caught(op):
    x = Value(0.7)
    (op(x, Value(1.3)) if op.arity == 2 else op(x)).backward()  # g = 1: right by chance
    torch_fn = torch.square if op.arity == 1 else torch.mul
    with pytest.raises(AssertionError, match=r"d\(-2\*" + op.name):
        check_op(op, torch_fn, points=[0.7, -1.5] if op.arity == 1 else [(0.7, 1.3)], smooth=[])
    with pytest.raises(AssertionError, match=r"d\(-2\*"):
        assert_matches_torch(op, *([0.7] * op.arity), torch_fn=torch_fn)
    with pytest.raises(GradcheckError, match="gradient g other than 1"):
        gradcheck(op, [0.7] * op.arity, order=1)
    # what the checks stand for: under a factor, the engine's gradient of the last input
    point = [0.7, 1.3][: op.arity]
    xs = [Value(v) for v in point]
    (op(*xs) * 3.0).backward()
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in point]
    (torch_fn(*ts) * 3.0).backward()
    assert xs[-1].grad != pytest.approx(ts[-1].grad.item(), rel=1e-6)


MY_SQRT = Op("my_sqrt", 1, lambda F, a: F.sqrt(a), lambda F, g, out, a: (g / (2 * out),))
HALF_POWER = Op("half_power", 1, lambda F, a: F.sqrt(a), lambda F, g, out, a: (g * 0.5 * a**-0.5,))


def test_the_float_path_of_plain_backward_is_checked_too():
    with pytest.raises(AssertionError, match=r"\(floats\): backward\(\) on floats raised Zero"):
        check_op(MY_SQRT, torch.sqrt, points=[0.0, 4.0], smooth=[])  # / 0 on floats, inf else
    with pytest.raises(
        AssertionError, match="backward.. on floats raised RuleError: the derivative of op "
    ):
        assert_matches_torch(HALF_POWER, -4.0, torch_fn=torch.sqrt)  # a complex gradient
    with pytest.raises(GradcheckError, match="backward.. on floats raised ZeroDivisionError"):
        gradcheck(MY_SQRT, [0.0], order=1)


def test_gradcheck_compares_nothing_at_nan_and_says_so():
    wrong = Op("wrong_sqrt", 1, lambda F, a: F.sqrt(a), lambda F, g, out, a: (g * out * 5,))
    with pytest.raises(GradcheckError, match="A nan agrees with nothing"):
        gradcheck(wrong, [-4.0], order=1)  # was True: nan on both sides


def test_gradcheck_takes_the_step_the_floats_took_and_refuses_none():
    assert gradcheck(lambda x: x * 3.0, [1e9], order=1, eps=1e-6)  # x + eps rounds
    with pytest.raises(ValueError, match=r"eps=1e-06 does not move input inputs\[0\]"):
        gradcheck(lambda x: x * 3.0, [1e11], order=1)  # was "0.0 by finite differences"


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: gradcheck(lambda x: [x], [1.0]), TypeError, "must return one Value"),
        (lambda: gradcheck(lambda x: x, 1.0), TypeError, "inputs must be a list"),
        (lambda: gradcheck(lambda x, y: x, "12"), TypeError, "inputs must be a list"),
        (lambda: gradcheck(lambda x: x, ["1"]), TypeError, r"inputs\[0\] must be a number"),
        (lambda: assert_matches_torch(lambda x: (x, x), 1.0), TypeError, "a tuple of 2"),
        (lambda: assert_matches_torch(lambda x: x, "1.5"), TypeError, "input 0 must be"),
        (lambda: assert_matches_torch(FORGETS_G, 1.0), TypeError, "pass torch_fn="),
        (lambda: assert_matches_torch(neuron, 0.5, -1.3, 0.2, atol=math.inf), ValueError,
         "atol must be a non-negative finite number"),
        (lambda: assert_matches_torch(neuron, 0.5, -1.3, 0.2, rtol=-1), ValueError, "rtol"),
        (lambda: check_op(FORGETS_G, torch.square, rtol=math.nan), ValueError, "rtol"),
        (lambda: check_op(FORGETS_G, torch.square, rtol="1e-3"), ValueError, "rtol"),
        (lambda: assert_module_matches_torch(nn.MLP(2, [1]), [[0.5, 1.0]], rtol=math.inf),
         ValueError, "assert_module_matches_torch: rtol"),
    ],
)  # fmt: skip
def test_bad_arguments_of_the_checks_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_two_inputs_of_one_label_are_told_apart():
    x, y = Value(0.5, label="a"), Value(-1.3, label="a")
    with pytest.raises(AssertionError) as caught:
        assert_matches_torch(lambda p, q: p * q, x, y, torch_fn=lambda p, q: p * q + q)
    assert "df/da1" in str(caught.value) and "df/da0" not in str(caught.value)


def _sign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


def _square_rule_on_arrays(array_rule):
    """A square whose derivative is right on floats and Values, array_rule(g, a) on arrays."""

    def derivative(F, g, out, a):
        if isinstance(a, np.ndarray):
            return (array_rule(g, a),)
        return (g * 2.0 * a,)

    return Op("square_on_arrays", 1, lambda F, a: a * a, derivative)


@pytest.mark.parametrize(
    "op, torch_fn, message",
    [
        # a Python branch on the input: one row (a one-number array) lets it pass, and compile
        # then failed on the first real batch
        (Op("abs_branching", 1, lambda F, a: abs(a),
            lambda F, g, out, a: (g * _sign(F.plain(a)),)),
         torch.abs, "a batch of two rows: .*derivative rule failed on arrays"),
        # forgets g on arrays: with g = 1 it passed, and compiled gradients were 1/3 of eager's
        # under 3 * op(...)
        (_square_rule_on_arrays(lambda g, a: 2.0 * a), torch.square,
         r"at \(0\.5,\): derivative 0 ours -?0\.5, torch 1\.0"),
        # wrong only at 0, where the gradient of scale in op(scale * x) is 0 whatever the rule
        (_square_rule_on_arrays(lambda g, a: g * np.where(a == 0, 1.0, 2.0 * a)), torch.square,
         r"at \(0\.0,\): derivative 0 ours 1\.0, torch 0\.0"),
    ],
)  # fmt: skip
def test_check_op_runs_the_compiled_rules_as_a_real_batch_does(op, torch_fn, message):
    with pytest.raises(AssertionError, match=message) as caught:
        check_op(op, torch_fn, points=[0.0, 0.5, -2.0], smooth=[])
    assert "against micrograd.compile:" in str(caught.value)
    assert "against PyTorch:" not in str(caught.value)  # right eagerly, as they are
    shift = Value(0.0)
    step = micrograd.compile(lambda x: 3.0 * op(x[0] - shift), reduce="sum")
    try:  # what the check is for: compiled, the rule fails or gives other numbers than eager
        step(np.array([[0.0], [0.5], [-2.0]]))
    except TypeError:
        return
    eager = Value(0.0)
    for x in (0.0, 0.5, -2.0):
        (3.0 * op(x - eager)).backward()
    assert shift.grad != eager.grad


def test_check_op_checks_an_ops_formulas_which_the_captions_show():
    # "3 * a" for square's derivative passed, and the step-through said dy/dx = 3 * x = 1.000
    # at x = 0.5
    wrong = Op("sq3", 1, lambda F, a: a * a, lambda F, g, out, a: (g * 2 * a,),
               partials=("3 * a",))  # fmt: skip
    with pytest.raises(AssertionError) as caught:
        check_op(wrong, torch.square)
    report = str(caught.value)
    assert "its partials (the captions' formulas):" in report
    assert "d out / d a = 3 * a is 1.5 at (0.5,), where the rule gives 1.0" in report
    assert "against PyTorch:" not in report  # the rule itself is right
    unreadable = Op("sq?", 1, lambda F, a: a * a, lambda F, g, out, a: (g * 2 * a,),
                    partials=("2a",))  # fmt: skip
    with pytest.raises(AssertionError, match="formula '2a' is not an expression this can read"):
        check_op(unreadable, torch.square)
    right = Op("sq2", 1, lambda F, a: a * a, lambda F, g, out, a: (g * 2 * a,),
               partials=("2 * a",))  # fmt: skip
    check_op(right, torch.square)
    with_alias = Op("ex", 1, lambda F, a: F.exp(a), lambda F, g, out, a: (g * out,),
                    partials=("exp(a) = out",))  # fmt: skip
    check_op(with_alias, torch.exp)


@pytest.mark.parametrize(
    "formula, names, expected",
    [
        ("exp(a) = out", {"a": 0.0, "out": 7.0}, 1.0),  # the first side
        ("1 if a > b, 1/2 if a == b, else 0", {"a": 1.0, "b": 1.0}, 0.5),
        ("1 if a > b, 1/2 if a == b, else 0", {"a": 0.0, "b": 1.0}, 0.0),
        ("b * a ** (b - 1)", {"a": 2.0, "b": 3.0}, 12.0),
        ("sign(a) * -sqrt(4)", {"a": -3.0}, 2.0),
        ("0 if a > 0 and b > 0 else 1", {"a": 1.0, "b": -1.0}, 1.0),
    ],
)
def test_a_formula_reads_as_its_text_says(formula, names, expected):
    assert evaluate(formula, names) == expected


@pytest.mark.parametrize(
    "formula", ["__import__('os')", "a.real", "abs(a)", "x + 1", "[a][0]", "1 if a, 2", "a = "]
)
def test_a_formula_reads_nothing_but_numbers_names_and_its_functions(formula):
    with pytest.raises(FormulaError, match="formula"):
        evaluate(formula, {"a": 1.0})


def test_check_op_excuses_a_known_difference_in_the_compiled_check_too():
    softplus = Op(  # torch's softplus is linear beyond 20 (its threshold), ours is not
        "softplus_excused", 1,
        lambda F, a: F.log(1.0 + F.exp(a)),
        lambda F, g, out, a: (g * (1.0 - F.exp(-out)),),
    )  # fmt: skip

    def beyond_threshold(point, index, ours, theirs):
        return abs(point[0]) >= 20 or not math.isfinite(point[0])

    points = [-30.0, -3.0, 0.0, 1.0, 25.0, math.inf]
    with pytest.raises(AssertionError, match="against micrograd.compile"):  # unexcused
        check_op(softplus, torch.nn.functional.softplus, points=points, smooth=[])
    check_op(softplus, torch.nn.functional.softplus, points=points, smooth=[],
             known_difference=beyond_threshold)  # fmt: skip


def test_a_model_with_an_output_too_many_is_caught():
    class OneMore(nn.Layer):
        def __call__(self, x):
            out = super().__call__(x)
            return out + [out[0] * 100]

    model = OneMore(2, 2, activation="linear", rng=random.Random(0))
    first = (lambda outs: sum((o[0] for o in outs), Value(0.0)), lambda out: out[:, 0].sum())
    # passed once; then a mismatch of outputs; now to_torch refuses a forward of one's own,
    # which a torch copy of nn's Layer would not compute
    with pytest.raises(TypeError, match="to_torch: the model is a OneMore with a __call__ of"):
        assert_module_matches_torch(model, [[0.5, -1.0], [1.0, 2.0]], loss=first)


def test_a_node_made_the_lectures_way_is_checked_at_first_order():
    # both refused it at any order, saying create_graph (higher derivatives) cannot use it
    assert gradcheck(lambda x: lecture_tanh(x) * 3, [0.5], order=1)
    assert_matches_torch(lambda x: lecture_tanh(x) * 3, 0.5, order=1,
                         torch_fn=lambda x: torch.tanh(x) * 3)  # fmt: skip
    with pytest.raises(GradcheckError, match=r"d\^1 f .* is 4\.71\d+ analytically but 2\.35\d+"):
        gradcheck(lambda x: lecture_tanh(x, factor=2.0) * 3, [0.5], order=1)
    with pytest.raises(AssertionError, match=r"df/dx0 +1 +4\.71\d+ +2\.35\d+"):
        assert_matches_torch(lambda x: lecture_tanh(x, factor=2.0) * 3, 0.5, order=1,
                             torch_fn=lambda x: torch.tanh(x) * 3)  # fmt: skip
    for check in (
        lambda: gradcheck(lambda x: lecture_tanh(x) * 3, [0.5], order=2),
        lambda: assert_matches_torch(lambda x: lecture_tanh(x) * 3, 0.5,
                                     torch_fn=lambda x: torch.tanh(x) * 3),
    ):  # fmt: skip
        with pytest.raises(TypeError, match="order=2 needs derivatives of derivatives.*order=1"):
            check()


def test_gradchecks_hint_names_a_rule_that_ignores_g_only_when_the_ratio_says_so():
    ignores_g = Op("tanh", 1, lambda F, a: F.tanh(a), lambda F, g, out, a: (1 - out * out,))
    with pytest.raises(GradcheckError, match="-0.5 times the true number: a rule that ignores g"):
        gradcheck(ignores_g, [0.5], order=1)
    doubled = Op("tanh", 1, lambda F, a: F.tanh(a), lambda F, g, out, a: (2 * g * (1 - out * out),))
    with pytest.raises(GradcheckError) as raised:
        gradcheck(doubled, [0.5], order=1)
    assert "ignores g" not in str(raised.value) and "A wrong rule" in str(raised.value)


SQUARE_OF_ONES_OWN = Op("sq", 1, lambda F, a: a * a, lambda F, g, out, a: (2 * a * g,))


@pytest.mark.parametrize(
    "make, error, message",
    [  # each was accepted: arity 1.0 failed later on slices, "out" broke the captions
        (lambda: Op("q", 1.0, lambda F, a: a, lambda F, g, o, a: (g,)), ValueError,
         "a scalar op takes 1 or 2 inputs, got 1.0"),
        (lambda: Op("q", 2, lambda F, a, b: a, lambda F, g, o, a, b: (g, g), inputs=("a", "a")),
         ValueError, "inputs must be distinct names"),
        (lambda: Op("q", 2, lambda F, a, b: a, lambda F, g, o, a, b: (g, g),
                    inputs=("out", "b")), ValueError, "'out' names the op's result"),
        (lambda: Op("q", 1, lambda F, a: a, lambda F, g, o, a: (g,), name=5), TypeError,
         "name must be a non-empty string"),
        (lambda: check_op(SQUARE_OF_ONES_OWN, torch.square, points=[]), ValueError,
         "check_op: points is empty"),  # it ran the default grid
        (lambda: check_op(Value(0.5, (Value(0.5),), "tanh")._op, torch.tanh), TypeError,
         "check_op: op 'tanh' has no rules .* order=1"),  # 'NoneType' is not callable
        (lambda: assert_matches_torch(lambda x: x.leaky_relu(0.1), 0.5), TypeError,
         "did not run on torch tensors .* pass torch_fn="),  # a bare AttributeError
        (lambda: assert_matches_torch(lambda x: None, 0.5, torch_fn=lambda x: x), TypeError,
         "the function must return one number .*, got None"),
        (lambda: assert_matches_torch(lambda x: np.ones(2), 0.5, torch_fn=lambda x: x),
         TypeError, r"got array\(\[1\., 1\.\]\)"),  # "could not convert string to float"
    ],
)  # fmt: skip
def test_ops_and_checks_refuse_what_they_would_misread(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_check_op_reports_a_torch_function_giving_a_plain_number():
    # its compiled part read t_out.requires_grad: an AttributeError, not the report
    with pytest.raises(
        AssertionError, match=r"(?s)check_op\(sq\): .* problem.*at \(0.0,\): sq: ours.*compiled, at"
    ):
        check_op(SQUARE_OF_ONES_OWN, lambda x: 1.0)


@pytest.mark.parametrize(
    "call, error, message",
    [
        # "eps=1e-06 does not move input ... give an eps above its spacing": no eps can
        (lambda: gradcheck(lambda v: v * v, [math.nan]), ValueError,
         r"gradcheck: inputs\[0\] is nan; finite differences need finite inputs"),
        (lambda: gradcheck(lambda v: v * v, [1.0, -math.inf]), ValueError, r"inputs\[1\] is -inf"),
        # "int too large to convert to float", naming nothing
        (lambda: gradcheck(lambda v: v * v, [10**400]), ValueError,
         r"gradcheck: inputs\[0\] is an integer too large for a float64"),
        (lambda: assert_matches_torch(lambda v: v * v, 10**400), ValueError,
         "assert_matches_torch: input 0 is an integer too large"),
        (lambda: check_op(SQUARE_OF_ONES_OWN, torch.square, points=[10**400]), ValueError,
         r"check_op: points\[0\] is an integer too large"),
        (lambda: Op("big", 1, lambda F, a: 10**400, lambda F, g, out, a: (0.0,))(Value(1.0)),
         ValueError, "op 'big': its forward returned an integer too large for a float64"),
        (lambda: check_op(SQUARE_OF_ONES_OWN, torch.square, points=[(0.5, 1.0)]), ValueError,
         r"check_op: points\[0\] has 2 numbers, and sq takes 1"),
        (lambda: check_op(SQUARE_OF_ONES_OWN, torch.square, points=0.5), TypeError,
         "check_op: points must be a list of points"),
        # "'NoneType' object is not callable", after the finite differences had run
        (lambda: check_op(SQUARE_OF_ONES_OWN, None), TypeError,
         "check_op: torch_fn must be PyTorch's version of the op, got None"),
    ],
)  # fmt: skip
def test_inputs_no_check_can_run_on_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_check_op_compares_values_near_the_top_of_float_range_as_they_are():
    # the compiled check scaled the value by -2 too: inf where exp(709.5) is 1.35e308
    check_op(micrograd.OPS["exp"], torch.exp, points=[709.5, 709.0])
    check_op(micrograd.OPS["mul"], torch.mul, points=[(1e308, 1.0), (-1e308, 1.5)])


def test_check_op_takes_points_as_any_iterable_and_array_rows_and_an_integer_order():
    # a generator had no len(), an array's row was "only 0-dimensional arrays can be converted"
    mul = micrograd.OPS["mul"]
    check_op(mul, torch.mul, points=((a, b) for a in (0.5, -2.0) for b in (1.5, 0.0)))
    rows = np.array([[0.5, 1.0], [-2.0, 3.0]])
    check_op(mul, torch.mul, points=rows, smooth=np.array([[0.7, 1.3]]))
    wrong = Op("mul_wrong", 2, lambda F, a, b: a * b, lambda F, g, out, a, b: (g * b, g * b))
    with pytest.raises(AssertionError, match="against PyTorch"):  # and still catches
        check_op(wrong, torch.mul, points=rows, smooth=[])
    assert_matches_torch(lambda v: v.tanh() * v, 0.7, order=np.int64(2))  # as gradcheck takes


@pytest.mark.parametrize("fn, point", [(Value.exp, [709.5]), (lambda v: v * 1e308, [1.5])])
def test_gradcheck_passes_where_only_the_factor_it_puts_on_f_would_overflow(fn, point):
    # exp(709.5) = 1.35e308: -2 times it is -inf, and gradcheck said "inf analytically but nan
    # by finite differences" where torch's gradcheck passes
    gradcheck(fn, point, order=1, eps=1e-6 * max(1.0, abs(point[0])))
    t = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    torch_fn = torch.exp if fn is Value.exp else (lambda v: v * 1e308)
    assert torch.autograd.gradcheck(torch_fn, (t,), eps=1e-6 * max(1.0, abs(point[0])))
    with pytest.raises(GradcheckError, match="gradient g other than 1"):  # still catches
        wrong = Op("exp_forgets_g", 1, lambda F, a: F.exp(a), lambda F, g, out, a: (out,))
        gradcheck(wrong, point, order=1)
