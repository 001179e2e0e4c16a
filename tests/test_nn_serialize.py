"""model.save / nn.load: exact round trips, atomic writes, and clear errors that change nothing."""

from __future__ import annotations

import contextlib
import json
import os
import random

import pytest

import micrograd
from micrograd import nn

MODELS = {  # name -> (factory, number of inputs)
    "mlp": (lambda: nn.MLP(2, [5, 3], activation="tanh", output_activation="sigmoid"), 2),
    "neuron": (lambda: nn.Neuron(3, nonlin=False), 3),
    "layer": (lambda: nn.Layer(2, 4, activation="leaky_relu"), 2),
    "sequential": (lambda: nn.Sequential(nn.Layer(2, 3), nn.MLP(3, [2, 1])), 2),
    "one-wide": (lambda: nn.MLP(2, [1, 3]), 2),
}


def outputs(model, x) -> list[float]:
    out = model(x)
    return [v.data for v in (out if isinstance(out, list) else [out])]


@pytest.mark.parametrize("kind", MODELS)
def test_round_trip_is_exact(tmp_path, kind):
    random.seed(0)
    make, nin = MODELS[kind]
    model = make()
    path = tmp_path / "model.json"
    model.save(path)
    loaded = nn.load(path)
    assert type(loaded) is type(model)
    assert loaded.config() == model.config()
    assert loaded.state_dict() == model.state_dict()
    x = [0.25, -0.5, 1.5][:nin]
    assert outputs(loaded, x) == outputs(model, x)


def test_file_is_documented_json(tmp_path):
    model = nn.MLP(2, [3, 1])
    path = tmp_path / "model.json"
    model.save(path)
    document = json.loads(path.read_text())
    assert document["format"] == "micrograd.nn" and document["version"] == 1
    assert document["architecture"] == {
        "type": "MLP", "nin": 2, "nouts": [3, 1],
        "activation": "relu", "output_activation": "linear",
    }  # fmt: skip
    assert list(document["parameters"]) == [name for name, _ in model.named_parameters()]
    assert "layers.0.neurons.2.w.1" in document["parameters"]


def test_load_into_an_existing_model(tmp_path):
    source, target = nn.MLP(2, [3, 1]), nn.MLP(2, [3, 1])
    source.save(tmp_path / "m.json")
    target.load(tmp_path / "m.json")
    assert target.state_dict() == source.state_dict()


def corruptions(text: str) -> dict[str, tuple[str, str]]:
    """name -> (file text, expected error message) for a good file's text."""
    document = json.loads(text)
    wrong_version = dict(document, version=2)
    wrong_arch = dict(document, architecture=dict(document["architecture"], nouts=[4, 1]))
    missing = dict(document, parameters=dict(list(document["parameters"].items())[:-1]))
    bad_value = dict(document, parameters={k: "x" for k in document["parameters"]})
    unknown = dict(document, architecture={"type": "Conv9d"})
    huge = dict(document, architecture=dict(document["architecture"], nin=10**12))
    return {
        "truncated": (text[: len(text) // 2], "corrupt or truncated JSON"),
        "garbage": ("\x00\xff not json", "not a model file"),
        "not a model": (json.dumps({"hello": 1}), "not a model file"),
        "wrong version": (json.dumps(wrong_version), "unsupported format version 2"),
        "wrong architecture": (json.dumps(wrong_arch), "does not (match|fit)"),
        "missing parameter": (json.dumps(missing), "missing|file lists 12"),
        "bad value": (json.dumps(bad_value), "not a finite number"),
        "unknown module": (json.dumps(unknown), "unknown module type 'Conv9d'|does not match"),
        "huge": (
            json.dumps(huge),
            "has 3000000000007 parameters but the file lists 13|does not match",
        ),
    }


CASES = ["truncated", "garbage", "not a model", "wrong version", "wrong architecture",
         "missing parameter", "bad value", "unknown module", "huge"]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_bad_files_raise_and_change_nothing(tmp_path, case):
    model = nn.MLP(2, [3, 1])
    model.save(tmp_path / "good.json")
    text, message = corruptions((tmp_path / "good.json").read_text())[case]
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="latin-1")
    other = nn.MLP(2, [3, 1])
    before = other.state_dict()
    with pytest.raises(ValueError, match=message):
        other.load(path)
    assert other.state_dict() == before
    if case != "wrong architecture":  # nn.load builds what the file says; that one is valid
        with pytest.raises(ValueError, match=message):
            nn.load(path)


def test_failed_save_leaves_the_old_file_intact(tmp_path):
    path = tmp_path / "model.json"
    nn.MLP(2, [3, 1]).save(path)
    os.chmod(path, 0o640)
    old = saved_bytes_and_mode(path)
    broken = nn.MLP(2, [3, 1])
    broken.parameters()[4].data = float("nan")
    with pytest.raises(ValueError, match="is nan; only finite numbers"):
        broken.save(path)
    # by the slot (.data = True stores 1.0, as Value(True)); was "True; only finite values"
    broken.parameters()[4]._data = True
    with pytest.raises(ValueError, match=r"is True; only finite numbers \(not bools\)"):
        broken.save(path)
    assert saved_bytes_and_mode(path) == old
    assert os.listdir(tmp_path) == ["model.json"]  # no temporary file left behind


def test_save_is_an_atomic_rename(tmp_path, monkeypatch):
    """The target is only ever replaced whole: a crash before the rename leaves it as it was."""
    path = tmp_path / "model.json"
    nn.MLP(2, [3, 1]).save(path)
    os.chmod(path, 0o640)
    old = saved_bytes_and_mode(path)

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        nn.MLP(2, [3, 1]).save(path)
    assert saved_bytes_and_mode(path) == old
    assert os.listdir(tmp_path) == ["model.json"]


def test_loading_never_unpickles(tmp_path):
    import pickle

    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(nn.MLP(2, [3, 1])))
    with pytest.raises(ValueError, match="not a model file"):
        nn.load(path)


def write_model_file(path, architecture: str, parameters: str) -> None:
    """A model file from the JSON text of its architecture and parameters (built as text, so a
    deeply nested one needs no recursion to write)."""
    path.write_text(
        f'{{"format": "micrograd.nn", "version": 1, "architecture": {architecture}, '
        f'"parameters": {parameters}}}'
    )


def saved_bytes_and_mode(path) -> tuple[bytes, int]:
    return path.read_bytes(), os.stat(path).st_mode & 0o7777


def last_parameter_set_to(model, value) -> dict:
    """model's state with its last parameter, which every other would load before, set to value."""
    state = model.state_dict()
    state[list(state)[-1]] = value
    return state


@pytest.mark.parametrize("how", ["nn.load", "Module.load", "load_state_dict"])
def test_a_parameter_too_large_for_a_float_is_a_value_error(tmp_path, how):
    model = nn.MLP(2, [3, 1])
    path = tmp_path / "big.json"
    state = last_parameter_set_to(model, 10**400)
    write_model_file(path, json.dumps(model.config()), json.dumps(state))
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"layers\.1\.neurons\.0\.b .*integer of 401 digits"):
        if how == "nn.load":
            nn.load(path)
        elif how == "Module.load":
            model.load(path)
        else:
            model.load_state_dict(json.loads(path.read_text())["parameters"])
    assert model.state_dict() == before


def test_an_integer_too_long_for_python_to_read_names_the_file(tmp_path):
    model = nn.MLP(2, [3, 1])
    path = tmp_path / "long.json"
    write_model_file(path, json.dumps(model.config()), '{"x": ' + "9" * 5000 + "}")
    before = model.state_dict()
    with pytest.raises(ValueError, match=f"{path}: not a model file .*4300 digits"):
        model.load(path)
    assert model.state_dict() == before


@pytest.mark.parametrize("field", ["architecture", "parameters"])
def test_json_nested_too_deep_names_the_file_and_field(tmp_path, field):
    model = nn.MLP(2, [3, 1])
    deep = "[" * 1200 + "]" * 1200
    good = {"architecture": json.dumps(model.config()), "parameters": json.dumps({})}
    path = tmp_path / "deep.json"
    write_model_file(
        path, **{**good, field: deep if field == "architecture" else f'{{"a": {deep}}}'}
    )
    before = model.state_dict()
    for load in [model.load, nn.load]:
        with pytest.raises(ValueError, match=f"{path}: the '{field}' field nests more than"):
            load(path)
    assert model.state_dict() == before


def sequential_chain_text(depth: int) -> tuple[str, str]:
    """(architecture, parameters) JSON text of a Neuron(2) inside depth - 1 Sequentials."""
    neuron = '{"type": "Neuron", "nin": 2, "activation": "relu"}'
    architecture = '{"type": "Sequential", "modules": [' * (depth - 1) + neuron + "]}" * (depth - 1)
    prefix = "layers.0." * (depth - 1)
    parameters = json.dumps({f"{prefix}{name}": 0.5 for name in ["w.0", "w.1", "b"]})
    return architecture, parameters


def test_a_sequential_nested_350_deep_is_a_value_error(tmp_path):
    path = tmp_path / "nested.json"
    write_model_file(path, *sequential_chain_text(350))
    model = nn.MLP(2, [3, 1])
    before = model.state_dict()
    for load in [model.load, nn.load]:
        with pytest.raises(ValueError, match=f"{path}: the 'architecture' field nests more than"):
            load(path)
    assert model.state_dict() == before


def nested(depth: int, leaf: nn.Module) -> nn.Module:
    """leaf inside Sequentials, so that modules nest depth deep in all."""
    leaf_depth = {nn.Neuron: 1, nn.Layer: 2, nn.MLP: 3}[type(leaf)]
    for _ in range(depth - leaf_depth):
        leaf = nn.Sequential(leaf)
    return leaf


@pytest.mark.parametrize("leaf", [lambda: nn.Neuron(2), lambda: nn.MLP(2, [2, 1])])
def test_the_deepest_model_that_can_be_saved_loads_and_one_deeper_is_refused(tmp_path, leaf):
    limit = nn.serialize.MAX_NESTING
    path = tmp_path / "model.json"
    deepest = nested(limit, leaf())
    deepest.save(path)
    loaded = nn.load(path)
    assert loaded.config() == deepest.config()
    assert loaded.state_dict() == deepest.state_dict()
    assert loaded([0.5, -1.0]).data == deepest([0.5, -1.0]).data
    deepest.load(path)

    old = saved_bytes_and_mode(path)
    too_deep = nested(limit + 1, leaf())
    with pytest.raises(ValueError, match=f"save: modules nest more than {limit} deep"):
        too_deep.save(path)
    with pytest.raises(ValueError, match=f"load: modules nest more than {limit} deep"):
        too_deep.load(path)  # a model too deep for any file to hold
    assert saved_bytes_and_mode(path) == old
    assert os.listdir(tmp_path) == ["model.json"]


def test_a_file_nesting_one_module_too_deep_is_a_value_error(tmp_path):
    """Deep enough to be refused, shallow enough for the JSON check to let it through."""
    path = tmp_path / "nested.json"
    write_model_file(path, *sequential_chain_text(nn.serialize.MAX_NESTING + 1))
    with pytest.raises(ValueError, match=f"{path}: the 'architecture' field: modules nest more"):
        nn.load(path)


def test_a_long_flat_sequential_round_trips(tmp_path):
    """Depth of a network is its number of layers: a flat list, which is never limited."""
    model = nn.Sequential(*[nn.Layer(1, 1, activation="tanh") for _ in range(1500)])
    model.save(tmp_path / "long.json")
    loaded = nn.load(tmp_path / "long.json")
    assert loaded.state_dict() == model.state_dict()
    assert loaded(0.5).data == model(0.5).data


def test_sizes_that_cancel_out_cannot_make_load_allocate(tmp_path, monkeypatch):
    """A negative size must not offset a huge one in the declared count checked before building."""
    built = []
    real_init = nn.Neuron.__init__
    monkeypatch.setattr(
        nn.Neuron, "__init__", lambda self, *a, **k: built.append(a) or real_init(self, *a, **k)
    )
    huge, negative = [{"type": "Neuron", "nin": n, "activation": "relu"} for n in [10**5, -(10**5)]]
    architecture = {"type": "Sequential", "modules": [huge, negative]}
    path = tmp_path / "cancel.json"
    write_model_file(path, json.dumps(architecture), json.dumps({"a": 0.0, "b": 0.0}))
    with pytest.raises(ValueError, match="at least 100001 parameters but the file lists 2"):
        nn.load(path)
    assert built == []


@contextlib.contextmanager
def umask(mask: int):
    """The process umask set to mask for a with block."""
    saved = os.umask(mask)
    try:
        yield
    finally:
        os.umask(saved)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o664])
def test_save_keeps_the_existing_files_mode(tmp_path, mode):
    path = tmp_path / "model.json"
    nn.MLP(2, [3, 1]).save(path)
    os.chmod(path, mode)
    with umask(0o077):  # the umask would give 0o600: the existing file's mode wins
        nn.MLP(2, [3, 1]).save(path)
    assert os.stat(path).st_mode & 0o7777 == mode


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_a_new_file_gets_the_mode_open_would_give(tmp_path, mask):
    with umask(mask):
        with open(tmp_path / "reference.json", "w"):
            pass
        nn.MLP(2, [3, 1]).save(tmp_path / "model.json")
    mode = os.stat(tmp_path / "model.json").st_mode & 0o7777
    assert mode == os.stat(tmp_path / "reference.json").st_mode & 0o7777 == 0o666 & ~mask


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_a_failed_fdopen_leaks_no_descriptor_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    nn.MLP(2, [3, 1]).save(path)
    os.chmod(path, 0o640)
    old = saved_bytes_and_mode(path)

    def fail(*args, **kwargs):
        raise OSError("fdopen failed")

    monkeypatch.setattr(os, "fdopen", fail)
    before = set(os.listdir("/proc/self/fd"))
    with pytest.raises(OSError, match="fdopen failed"):
        nn.MLP(2, [3, 1]).save(path)
    assert set(os.listdir("/proc/self/fd")) == before
    assert saved_bytes_and_mode(path) == old
    assert os.listdir(tmp_path) == ["model.json"]


def test_saving_a_parameter_too_large_for_a_float_keeps_the_old_file(tmp_path):
    path = tmp_path / "model.json"
    nn.MLP(2, [3, 1]).save(path)
    old = saved_bytes_and_mode(path)
    broken = nn.MLP(2, [3, 1])
    broken.parameters()[-1]._data = 10**400  # by the slot: .data = 10**400 is refused itself
    with pytest.raises(ValueError, match="save: parameter layers.1.neurons.0.b is an integer of"):
        broken.save(path)
    assert saved_bytes_and_mode(path) == old
    assert os.listdir(tmp_path) == ["model.json"]


def test_a_class_of_ones_own_named_like_nns_changes_neither_load_nor_save(tmp_path):
    path = tmp_path / "model.json"
    model = nn.Sequential(nn.Layer(2, 1, activation="linear", rng=random.Random(0)))
    model.save(path)
    before = path.read_bytes()

    class Layer(nn.Layer):  # took nn's "Layer" in the registry: load built it instead
        def __call__(self, x):
            return super().__call__(x) * 100

    loaded = nn.load(path)
    assert type(loaded.layers[0]) is nn.Layer
    assert loaded([1.0, 2.0]).data == model([1.0, 2.0]).data
    with pytest.raises(ValueError, match=r"layers\.0 is a .*test_nn_serialize.*Layer, but its "
                       r"config\(\) describes a micrograd\.nn\.dense\.Layer"):  # fmt: skip
        nn.Sequential(Layer(2, 1)).save(path)  # it would load as nn's Layer, 100x smaller
    assert path.read_bytes() == before


def test_a_subclass_saves_only_with_a_config_that_names_it(tmp_path):
    class Scaled(nn.Layer):
        def __call__(self, x):
            return super().__call__(x) * 2.0

    with pytest.raises(ValueError, match="give Scaled a config"):
        nn.Sequential(Scaled(2, 1)).save(tmp_path / "scaled.json")

    class Named(Scaled):
        def config(self) -> dict:
            return {**super().config(), "type": "Named"}

    model = nn.Sequential(Named(2, 1, rng=random.Random(1)))
    model.save(tmp_path / "named.json")
    loaded = nn.load(tmp_path / "named.json")
    assert type(loaded.layers[0]) is Named
    assert loaded([0.5, -1.0]).data == model([0.5, -1.0]).data


def test_a_base_class_is_not_a_type_a_file_can_name(tmp_path):
    path = tmp_path / "pool.json"
    write_model_file(path, '{"type": "_Pool", "kernel_size": [2, 2]}', "{}")
    with pytest.raises(ValueError, match="unknown module type '_Pool'"):
        nn.load(path)  # loaded, and failed only when called


@pytest.mark.parametrize("path", [3, False, 2.5, None])
def test_a_path_that_is_not_one_is_a_type_error_and_closes_nothing(tmp_path, path):
    model = nn.MLP(2, [2, 1], rng=random.Random(0))
    model.save(tmp_path / "m.json")
    descriptor = os.open(tmp_path / "m.json", os.O_RDONLY)
    try:
        for call in (nn.load, model.load, model.save):
            with pytest.raises(TypeError, match=r"(load|save): path must be a str, bytes or"):
                call(descriptor if path == 3 else path)  # open(3) read fd 3 and closed it
        os.fstat(descriptor)  # still open
    finally:
        os.close(descriptor)


def test_bytes_paths_save_and_load(tmp_path):
    model = nn.MLP(2, [2, 1], rng=random.Random(0))
    path = os.fsencode(tmp_path / "m.json")
    model.save(path)  # was "Can't mix strings and bytes in path components"
    assert nn.load(path).state_dict() == model.state_dict()


def test_saving_through_a_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real.json"
    nn.MLP(2, [2, 1], rng=random.Random(0)).save(target)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    model = nn.MLP(2, [2, 1], rng=random.Random(1))
    model.save(link)  # replaced the link with a file, and left the target as it was
    assert link.is_symlink()
    assert nn.load(target).state_dict() == model.state_dict()


def test_saving_onto_what_is_not_a_regular_file_or_into_no_folder_is_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    model = nn.MLP(2, [2, 1], rng=random.Random(0))
    with pytest.raises(ValueError, match="pipe exists and is not a regular file"):
        model.save(fifo)
    assert fifo.is_fifo()
    with pytest.raises(ValueError, match="exists and is not a regular file"):
        model.save(tmp_path)
    with pytest.raises(FileNotFoundError, match="save: no such folder.*no_such_folder'"):
        model.save(tmp_path / "no_such_folder" / "m.json")  # named a .tmp-... file
    with pytest.raises(ValueError, match="save: path is empty"):
        model.save("")  # made a temporary file in the parent of the working folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


@pytest.mark.parametrize(
    "change",
    [
        lambda document: document.update(version=True),
        lambda document: document.update(version=1.0),
        lambda document: document["architecture"].update(nin=2.0),
        lambda document: document["architecture"]["nouts"].__setitem__(1, True),
    ],
)
def test_load_into_is_as_strict_as_load_about_types(tmp_path, change):
    path = tmp_path / "model.json"
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    model.save(path)
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError):
        nn.load(path)
    state = model.state_dict()
    with pytest.raises(ValueError):  # == took true for 1 and 2.0 for 2: this loaded
        model.load(path)
    assert model.state_dict() == state


def test_a_folder_save_may_not_write_in_is_named_with_save_not_the_temporary(tmp_path, monkeypatch):
    # the PermissionError named '/dir/.tmp-7de5....json', a file the user never chose (the
    # folder is refused by os.open here: as root, the suite's usual user, chmod refuses nothing)
    path = tmp_path / "model.json"
    nn.MLP(2, [3, 1]).save(path)
    old = saved_bytes_and_mode(path)
    opened = os.open

    def refuse(name, *args, **kwargs):
        if os.path.basename(name).startswith(".tmp-"):
            raise PermissionError(13, "Permission denied", name)
        return opened(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PermissionError, match="save: no permission to create a file in this "
                       "folder") as raised:  # fmt: skip
        nn.MLP(2, [3, 1]).save(path)
    assert raised.value.filename == str(tmp_path) and ".tmp-" not in str(raised.value)
    assert saved_bytes_and_mode(path) == old


def _odd_activations():
    one_neuron = nn.MLP(2, [3, 1], rng=random.Random(0))
    one_neuron.layers[0].neurons[1].nonlin = False  # karpathy's attribute: this one is linear
    one_layer = nn.MLP(2, [3, 3, 1], rng=random.Random(1))
    one_layer.layers[1] = nn.Layer(3, 3, activation="tanh", rng=random.Random(2))
    return one_neuron, one_layer


def _not_described():
    wider = nn.Layer(2, 2, rng=random.Random(3))
    wider.neurons.append(nn.Neuron(3, rng=random.Random(4)))
    unchained = nn.MLP(2, [3, 3, 1], rng=random.Random(1))
    unchained.layers[1] = nn.Layer(4, 3, rng=random.Random(5))
    return wider, unchained


@pytest.mark.parametrize(
    "model, message",
    [
        *[(m, r"layers\.\S+ is \{.*'activation': '(linear|tanh)'.*one activation") for m in
          _odd_activations()],
        *[(m, "would (refuse its file|load another model)") for m in _not_described()],
    ],
    ids=["a neuron's activation", "a layer's activation", "a wider neuron",
         "layers that do not chain"],
)  # fmt: skip
def test_a_model_its_config_does_not_describe_is_refused_and_the_old_file_kept(
    tmp_path, model, message
):
    """save wrote a file from the config alone: a neuron or hidden layer of another
    activation loaded with the first layer's, computing other numbers than the model saved
    (it is what to_torch refuses too); a neuron of another width, a layer that reads another
    width saved a file load refused, over the good one."""
    path = tmp_path / "model.json"
    good = nn.MLP(2, [3, 1], rng=random.Random(9))
    good.save(path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=message):
        model.save(path)
    assert path.read_bytes() == before


def _tied_inside_tied(depth: int, at: str = "") -> dict:
    """A Sequential of a module and that module again, the module being the same, depth deep:
    2 ** (depth + 1) - 1 modules at every use, from a file of a few kilobytes."""
    if depth == 0:
        return {"type": "ReLU"}
    inner = _tied_inside_tied(depth - 1, f"{at}modules.0.")
    return {"type": "Sequential", "modules": [inner, {"same_as": f"{at}modules.0"}]}


def test_a_file_of_ties_inside_ties_is_refused_before_every_walk_goes_through_each_use(tmp_path):
    """load walked every use of every module (its nesting check, then its parameters'
    names): a 6 KB file tied 40 deep never returned. Modules are counted at each use, each
    module's count worked out once, and past MAX_REPEATED_USES meetings of a module again
    the file is refused, as save refuses such a model; an untied model of as many modules
    is not. By hand: d levels make 2 ** (d + 1) - 1 uses of d + 1 modules."""
    from micrograd.nn.serialize import MAX_REPEATED_USES

    path = tmp_path / "ties.json"
    for depth in (15, 16, 40):
        document = {"format": "micrograd.nn", "version": 1, "parameters": {},
                    "architecture": _tied_inside_tied(depth)}  # fmt: skip
        path.write_text(json.dumps(document))
        again = 2 ** (depth + 1) - 1 - (depth + 1)
        if again <= MAX_REPEATED_USES:
            model = nn.load(path)
            assert len(model._modules_with_parents()) == 2 ** (depth + 1) - 1
        else:
            with pytest.raises(ValueError, match=f"more than {MAX_REPEATED_USES:,} times"):
                nn.load(path)
    tied = _sequential_tied(17)
    with pytest.raises(ValueError, match=r"save: .*more than 100,000 times"):
        tied.save(tmp_path / "tied.json")
    from micrograd.nn.serialize import _repeated_uses

    many = MAX_REPEATED_USES + 1
    assert _repeated_uses(nn.Sequential(*[nn.ReLU() for _ in range(many)])) == 0  # no ties
    assert _repeated_uses(nn.Sequential(*[nn.ReLU()] * many)) == many - 1  # one, met again


def _sequential_tied(depth: int) -> nn.Module:
    module = nn.ReLU()
    for _ in range(depth):
        module = nn.Sequential(module, module)
    return module


def test_a_read_only_file_is_not_replaced_by_save():
    """open(path, "w") refuses a file one may not write; save renamed a new file over it,
    losing a checkpoint its owner had made read-only. Run as a user other than root (root
    may write anything, and so may replace it), as open() is there, in a folder of /tmp that
    user may enter."""
    import shutil
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="micrograd-read-only-"))
    try:
        folder.chmod(0o777)
        path = folder / "model.json"
        nn.MLP(2, [1], rng=random.Random(0)).save(path)
        path.chmod(0o444)
        before = path.read_bytes()
        script = f"""
import random
from micrograd import nn
path = {str(path)!r}
try:
    open(path, "w")
except PermissionError:
    print("open refused")
try:
    nn.MLP(2, [1], rng=random.Random(1)).save(path)
except PermissionError as error:
    print("save refused:", error)
"""
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        command = [*(as_nobody if os.geteuid() == 0 else []), sys.executable, "-c", script]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=folder)
        assert done.returncode == 0, done.stderr
        refused = (
            f"[Errno 13] save: this user may not write the file; it is left as it is: {str(path)!r}"
        )
        assert done.stdout.splitlines() == ["open refused", f"save refused: {refused}"]
        assert path.read_bytes() == before
        assert sorted(p.name for p in folder.iterdir()) == ["model.json"]
    finally:
        shutil.rmtree(folder)


def test_load_refuses_what_is_not_a_regular_file(tmp_path):
    """A FIFO blocked load for ever, /dev/zero filled the memory, a folder was an OSError."""
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero", tmp_path):
        with pytest.raises(ValueError, match=": not a model file: not a regular file"):
            nn.load(path)


def test_a_parameter_listed_twice_in_a_file_is_refused(tmp_path):
    """json.loads keeps the last of a key's values: a hand edit that listed a parameter
    again loaded its second number, silently."""
    path = tmp_path / "model.json"
    model = nn.MLP(2, [1], rng=random.Random(0))
    model.save(path)
    text = path.read_text()
    edited = text.replace('"parameters": {', '"parameters": {\n  "layers.0.neurons.0.w.0": 123.0,')
    assert edited != text and json.loads(edited)["parameters"]["layers.0.neurons.0.w.0"] != 123.0
    path.write_text(edited)
    before = model.state_dict()
    with pytest.raises(ValueError, match="'layers.0.neurons.0.w.0' appears more than once"):
        nn.load(path)
    with pytest.raises(ValueError, match="appears more than once"):
        model.load(path)
    assert model.state_dict() == before


def test_save_and_load_into_name_themselves_for_what_is_no_model_or_has_no_config(tmp_path):
    """Each was another library's error, or a bare IndexError from inside a config()."""
    from micrograd.nn import serialize

    path = tmp_path / "model.json"
    with pytest.raises(TypeError, match=r"save: model must be an nn Module .* got dict"):
        serialize.save({}, path)
    nn.MLP(2, [1]).save(path)
    with pytest.raises(TypeError, match=r"load_into: model must be an nn Module .* got dict"):
        serialize.load_into({}, path)
    emptied = nn.Layer(2, 2)
    emptied.neurons = []
    with pytest.raises(ValueError, match=r"save: this Layer's config\(\) failed \(IndexError"):
        emptied.save(path)

    class Tagged(nn.Module):
        def __init__(self):
            self.w = micrograd.Value(1.0)

        def __call__(self, x):
            return x * self.w

        def config(self):
            return {"type": "Tagged", "tags": {1, 2}}

        @classmethod
        def from_fields(cls, fields):
            return cls()

    with pytest.raises(TypeError, match=r"save: the model's config\(\) holds what JSON cannot"):
        Tagged().save(path)

    class Untold(nn.Module):
        def __call__(self, x):
            return x

    with pytest.raises(TypeError, match=r"save: Untold has no config\(\)"):
        Untold().save(path)
    assert nn.load(path).config() == nn.MLP(2, [1]).config()  # the file saved first, intact


def test_a_value_kept_on_a_module_saves_and_loads_back_into_the_model(tmp_path):
    """A learnable Value kept on a model (a temperature) is saved with the parameters and
    put back by load_into; load, which builds the architecture, has nowhere to put it and
    says so."""
    path = tmp_path / "model.json"
    model = nn.MLP(2, [2, 1], rng=random.Random(0))
    model.temperature = micrograd.Value(1.5)
    model.save(path)
    model.temperature.data = 0.25
    model.load(path)
    assert model.temperature.data == 1.5
    with pytest.raises(ValueError, match="the architecture has 9 parameters but the file lists 10"):
        nn.load(path)


def test_a_module_of_ones_own_with_a_helper_module_inside_saves_and_loads(tmp_path):
    """A helper inside a module of one's own, rebuilt by its owner's from_fields and with no
    config() of its own, saved before save compared each module's config; it saves again,
    and loads computing the same numbers."""

    class Scale(nn.Module):  # a helper: no config()
        def __init__(self):
            self.w = micrograd.Value(2.0)

        def __call__(self, x):
            return x * self.w

    class Net(nn.Module):
        def __init__(self, n=2):
            self.n = n
            self.scale = Scale()

        def __call__(self, x):
            return self.scale(x) + self.n

        def config(self):
            return {"type": "Net", "n": self.n}

        @classmethod
        def from_fields(cls, fields):
            return cls(**fields)

    net = Net()
    net.scale.w.data = -0.75
    path = tmp_path / "net.json"
    net.save(path)
    back = nn.load(path)
    assert back(micrograd.Value(3.0)).data == 3.0 * -0.75 + 2
