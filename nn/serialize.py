"""Saving and loading models as JSON: readable, diffable, and never executing code.

The file format (version 1) is one JSON object::

    {
      "format": "micrograd.nn",
      "version": 1,
      "architecture": {"type": "MLP", "nin": 2, "nouts": [16, 16, 1],
                       "activation": "relu", "output_activation": "linear"},
      "parameters": {"layers.0.neurons.0.w.0": 0.2381..., ..., "layers.2.neurons.0.b": 0.0}
    }

* ``format`` is always ``"micrograd.nn"``; ``version`` is the integer format version.
* ``architecture`` is ``Module.config()``: a ``type`` (``"Neuron"``, ``"Layer"``, ``"MLP"``,
  ``"Sequential"``, ``"Conv2d"``, ``"MaxPool2d"``, ``"AvgPool2d"``, ``"Flatten"`` or an
  activation module's, such as ``"ReLU"``) and its constructor arguments; a Sequential lists
  its modules' architectures under ``"modules"``. A module listed again (tied weights, as in
  ``Sequential(layer, act, layer)``) is ``{"same_as": "modules.0"}`` the second time: the path
  of its first entry, which loading gives back as the same module. Sharing that a file
  cannot say so (a part of an MLP or a layer) makes save refuse the model.
* ``parameters`` maps every name of ``state_dict()`` to its value, in that order (a tied
  parameter under each of its names, as in PyTorch's ``state_dict()``).
  Floats are written as the shortest text that reads back to the same float64, so a
  save and load round trip is exact. Non-finite parameters (nan, inf) cannot be saved.

Modules nest at most ``MAX_NESTING`` (100) deep, counting the model itself: a Neuron in a
Layer in an MLP is 3 deep. Saving refuses a deeper model and loading a deeper file, each
with a ValueError before anything recursive runs, so whatever saves also loads. Module's
walks (parameters, config, repr, the forward pass) recurse, up to three calls a level, and
100 levels keep them far inside Python's recursion limit of 1000 from any caller. A network
with many layers is a flat list of them, as long as you like; only nesting is limited, and
ties inside ties: past ``MAX_REPEATED_USES`` meetings of a module again, each walk over
the model would take minutes, and saving and loading refuse it.

Writes go to a temporary file in the same folder that is then renamed over the target
(``os.replace``), so a reader sees the old file or the new one, never half of one, and a
failed save leaves the old file intact. Through a symlink, its target is replaced and the
link kept; a path that is there but is not a regular file (a folder, a FIFO) is refused,
and so is a file one may not write (read-only), as open() refuses it.
The new file keeps the mode of the one it replaces;
a file that did not exist gets the mode ``open()`` would give it (0o666 less the umask).
Reading checks everything before touching a model.
"""

from __future__ import annotations

import json
import math
import os
import re

from micrograd.files import write_atomically

from .checks import _as_float, _brief
from .module import Module, every_named_parameter, from_config

FORMAT = "micrograd.nn"
VERSION = 1
MAX_NESTING = 100
"""How deep modules may nest in a model file, counting the model itself (see above)."""
MAX_REPEATED_USES = 100_000
"""How many times a model's modules may be met again past their first use, counted at each
use: a tied module inside a tied module is met again at every use of the outer one, so
that Sequentials tied inside each other double at each level, and every walk over the model
(its parameters' names, say) goes through each use. A file of 6 KB made 2**40."""

# Each Sequential adds an object and its "modules" list; the document and a leaf add 2 more.
_MAX_JSON_DEPTH = 2 * MAX_NESTING + 4
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"(?:\s*:)?|[\[\]{}]', re.DOTALL)
"""A JSON string (with the colon after it, if it is a key) or a bracket."""

__all__ = ["save", "load", "load_into", "FORMAT", "VERSION", "MAX_NESTING", "MAX_REPEATED_USES"]


def save(model: Module, path: str | os.PathLike) -> None:
    """Write model's architecture and parameters to path as JSON, atomically. A symlink's
    target is written, and the link kept."""
    _check_module("save", model)
    path = _checked_path("save", path)
    if _nests_too_deep(model):
        raise ValueError(_too_deep("save", model))
    _check_uses("save", model)
    architecture = _config("save", model)
    _check_rebuilds(model, architecture)
    parameters = {}
    for name, p in every_named_parameter(model):
        value = _as_float(p.data)
        if value is None or not math.isfinite(value):
            raise ValueError(
                f"save: parameter {name} is {_brief(p.data)}; only finite numbers (not bools) "
                "can be saved"
            )
        parameters[name] = value
    document = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": architecture,
        "parameters": parameters,
    }
    try:
        text = json.dumps(document, indent=1, allow_nan=False) + "\n"
    except TypeError as error:  # a set in a config() of one's own, say
        raise TypeError(f"save: the model's config() holds what JSON cannot ({error})") from None
    except ValueError as error:  # a nan in one
        raise ValueError(f"save: the model's config() holds what JSON cannot ({error})") from None
    write_atomically(path, text, "save")


def _check_module(operation: str, model: object) -> None:
    if not isinstance(model, Module):
        raise TypeError(
            f"{operation}: model must be an nn Module (MLP, Sequential, ...), got "
            f"{type(model).__name__}"
        )


def _config(operation: str, model: Module) -> dict:
    """model.config(), or a TypeError or ValueError naming operation: a module of one's own
    without one, a Layer whose neurons were all taken out (an IndexError inside)."""
    try:
        return model.config()
    except NotImplementedError as error:
        raise TypeError(f"{operation}: {error}") from None
    except (IndexError, KeyError, AttributeError) as error:
        empty = "; is a module inside it empty?" if isinstance(error, IndexError) else ""
        raise ValueError(
            f"{operation}: this {type(model).__name__}'s config() failed "
            f"({type(error).__name__}: {error}){empty}"
        ) from None


def _repeated_uses(model: Module) -> int:
    """How many times model's modules are met again past their first use, counted at each
    use: each module's count is worked out once, from its children's, so that ties inside
    ties take as long as the distinct modules do. A module inside itself counts as no end of
    them."""
    counts: dict[int, int] = {}
    path = {id(model)}
    stack = [(model, [child for _, child in model._children()], 0)]  # the next child to count
    while stack:
        module, children, next_child = stack.pop()
        while next_child < len(children) and id(children[next_child]) in counts:
            next_child += 1
        if next_child == len(children):  # every child counted
            counts[id(module)] = 1 + sum(counts[id(child)] for child in children)
            path.discard(id(module))
            continue
        child = children[next_child]
        if id(child) in path:
            return math.inf
        path.add(id(child))
        stack.append((module, children, next_child))
        stack.append((child, [grandchild for _, grandchild in child._children()], 0))
    return counts[id(model)] - len(counts)


def _check_uses(operation: str, model: Module) -> None:
    if _repeated_uses(model) > MAX_REPEATED_USES:
        raise ValueError(
            f"{operation}: its modules, each counted at every use, are met again past their "
            f"first use more than {MAX_REPEATED_USES:,} times (tied modules inside tied "
            "modules multiply); every walk over the model would go through each use"
        )


def _nests_too_deep(model: Module) -> bool:
    """Whether model's modules nest more than MAX_NESTING deep (a cycle does too)."""
    pending = [(model, 1)]
    while pending:
        module, depth = pending.pop()
        if depth > MAX_NESTING:
            return True
        pending.extend((child, depth + 1) for _, child in module._children())
    return False


def _check_rebuilds(model: Module, architecture: dict) -> None:
    """Refuse to save a model that its architecture would not give back, module by module:
    a module whose config names another class (a subclass of Layer with a forward of its
    own saves as a Layer) or describes it otherwise (an MLP's config holds one hidden
    activation: a layer or neuron given another one loaded with the first; a neuron of
    another width appended to a layer, whose file load refused), modules it leaves out or
    adds, or parameters shared otherwise than the file can say (see _check_sharing). A
    module without a config() of its own, rebuilt by the module holding it, is compared by
    its type. A Value kept on a module is saved with the parameters: load_into puts it back
    into a model that keeps one, and load, which builds the architecture, refuses the file."""
    try:
        rebuilt = from_config(architecture)
    except ValueError as error:  # a config() that does not rebuild at all
        raise ValueError(f"save: {error}") from None
    ours, theirs = model._modules_with_parents(), rebuilt._modules_with_parents()
    for (name, _, module), (_, _, built) in zip(ours, theirs):
        where = name or "the model"
        if type(module) is not type(built):
            raise ValueError(
                f"save: {where} is a {_qualified(type(module))}, but its config() "
                f"describes a {_qualified(type(built))}, which load would build instead; "
                f"give {type(module).__name__} a config() of its own that names it"
            )
        config, rebuilt_config = _own_config(module), _own_config(built)
        if config != rebuilt_config:
            differ = {
                k for k in {*config, *rebuilt_config} if config.get(k) != rebuilt_config.get(k)
            }
            why = (
                " (an MLP holds one activation for its hidden layers, a Layer one for its neurons)"
                if differ == {"activation"}
                else ""
            )
            raise ValueError(
                f"save: {where} is {config}, but the model's config() rebuilds it as "
                f"{rebuilt_config}: its file would load another model{why}"
            )
    if len(ours) != len(theirs):
        raise ValueError(
            f"save: this {type(model).__name__} holds {len(ours)} modules, but its config() "
            f"rebuilds {len(theirs)}: its file would load another model"
        )
    _check_sharing("save", model, architecture, rebuilt)


def _own_config(module: Module) -> dict | None:
    """module.config(), or None for a module without one (a helper its owner rebuilds)."""
    try:
        return module.config()
    except NotImplementedError:
        return None


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _check_sharing(
    operation: str, model: Module, architecture: dict, rebuilt: Module | None = None
) -> None:
    """Refuse a model that shares parameters in a way its architecture does not say. A file
    says that a module listed in a Sequential is used again ("same_as"); a module shared
    otherwise (one layer of an MLP put in place of another, a Value in two Neurons) would
    load as copies, which train apart."""
    sharing = _sharing(model)
    if len(set(sharing)) == len(sharing):  # nothing shared: nothing to describe
        return
    if _sharing(rebuilt or from_config(architecture)) != sharing:
        raise ValueError(
            f"{operation}: this {type(model).__name__} shares parameters in a way its "
            "architecture cannot describe: a model file ties only whole modules of a "
            "Sequential (Sequential(layer, act, layer)), not parts of an MLP or of a layer"
        )


def _sharing(model: Module) -> list[int]:
    """For each of state_dict()'s names, where its Value first appears among them."""
    first: dict[int, int] = {}
    return [first.setdefault(id(p), k) for k, (_, p) in enumerate(every_named_parameter(model))]


def _too_deep(operation: str, model: Module) -> str:
    return (
        f"{operation}: modules nest more than {MAX_NESTING} deep in this {type(model).__name__} "
        "(or a module links back to one it is inside); model files hold at most "
        f"{MAX_NESTING} levels (nn.serialize.MAX_NESTING)"
    )


def _checked_path(operation: str, path) -> str:
    """path as a str: a str, bytes or os.PathLike, not empty. (open() would take an int as a
    file descriptor, read it and close it.)"""
    if isinstance(path, bool) or not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(
            f"{operation}: path must be a str, bytes or os.PathLike, got {type(path).__name__}"
        )
    path = os.fsdecode(path)
    if not path:
        raise ValueError(f"{operation}: path is empty")
    return path


def _read(path: str | os.PathLike) -> tuple[dict, dict]:
    """(architecture, parameters) from a model file, after checking its format and version."""
    path = _checked_path("load", path)
    # a FIFO blocked for ever, /dev/zero filled the memory
    if os.path.exists(path) and not os.path.isfile(path):
        raise ValueError(f"{path}: not a model file: not a regular file")
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except UnicodeDecodeError:
        raise ValueError(f"{os.fspath(path)}: not a model file (not UTF-8 text)") from None
    _check_json_depth(text, os.fspath(path))
    try:
        document = json.loads(text, object_pairs_hook=_once_each)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{os.fspath(path)}: not a model file (corrupt or truncated JSON: {error})"
        ) from None
    except ValueError as error:  # an integer longer than Python reads (4300 digits)
        raise ValueError(f"{os.fspath(path)}: not a model file ({error})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f'{os.fspath(path)}: not a model file (no "format": {FORMAT!r})')
    version = document.get("version")
    if type(version) is not int or version != VERSION:  # not true, nor 1.0
        raise ValueError(
            f"{os.fspath(path)}: unsupported format version {version!r}; "
            f"this nn reads version {VERSION}"
        )
    architecture, parameters = document.get("architecture"), document.get("parameters")
    if not isinstance(architecture, dict) or not isinstance(parameters, dict):
        raise ValueError(
            f"{os.fspath(path)}: model file lacks an architecture or parameters object"
        )
    return architecture, parameters


def _once_each(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object whose keys are each there once: a parameter listed twice by a hand edit
    took the last of its numbers, silently."""
    found = dict(pairs)
    if len(found) < len(pairs):
        twice = next(key for key in found if sum(k == key for k, _ in pairs) > 1)
        raise ValueError(f"the key {twice!r} appears more than once in an object")
    return found


def _canonical(architecture: dict) -> str:
    """architecture as JSON text, which tells true from 1 and 2.0 from 2, as == does not."""
    return json.dumps(architecture, sort_keys=True)


def _check_json_depth(text: str, name: str) -> None:
    """Refuse JSON nested deeper than a model file can be, before json recurses into it."""
    depth, field = 0, None
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in ("{", "["):
            depth += 1
            if depth > _MAX_JSON_DEPTH:
                where = "the document" if field is None else f"the {field!r} field"
                raise ValueError(
                    f"{name}: {where} nests more than {_MAX_JSON_DEPTH} levels of JSON; "
                    f"a model file nests modules at most {MAX_NESTING} deep"
                )
        elif token in ("}", "]"):
            depth -= 1
        elif depth == 1 and token.endswith(":"):  # a key of the document itself
            field = token[1 : token.rindex('"')]


def load(path: str | os.PathLike) -> Module:
    """The model saved at path, rebuilt from its architecture with its parameters."""
    architecture, parameters = _read(path)
    # checked before building, so a corrupt size cannot make us allocate a huge model
    declared, complete = _declared_size(architecture)
    if declared > len(parameters) or (complete and declared != len(parameters)):
        raise ValueError(
            f"{os.fspath(path)}: the architecture has {'' if complete else 'at least '}"
            f"{declared} parameters but the file lists {len(parameters)}"
        )
    try:
        model = from_config(architecture)
    except ValueError as error:
        raise ValueError(f"{os.fspath(path)}: {error}") from None
    _check_uses(f"{os.fspath(path)}: the 'architecture' field", model)
    if _nests_too_deep(model):
        raise ValueError(
            f"{os.fspath(path)}: the 'architecture' field: modules nest more than "
            f"{MAX_NESTING} deep; model files hold at most {MAX_NESTING} levels"
        )
    _load_parameters(model, parameters, path)
    return model


def _declared_size(architecture: dict) -> tuple[int, bool]:
    """(how many parameters the architecture has at least, whether that is all of them).

    A part that is not a valid module config counts 0 and makes the count incomplete: that
    part fails in from_config before allocating anything, and so never offsets the others.
    """
    total, complete = 0, True
    pending = [architecture]
    while pending:
        config = pending.pop()
        if isinstance(config, dict) and config.get("type") == "Sequential":
            modules = config.get("modules")
            if isinstance(modules, list):
                pending.extend(modules)
                continue
        size = _leaf_size(config)
        complete = complete and size is not None
        total += size or 0
    return total, complete


def _leaf_size(config: object) -> int | None:
    """How many parameters a module config (not a Sequential) has; None if it cannot tell."""
    if not isinstance(config, dict) or not isinstance(config.get("type"), str):
        return None
    module = Module.registry.get(config["type"])
    return None if module is None else module.parameter_count(config)


def load_into(model: Module, path: str | os.PathLike) -> None:
    """Set model's parameters from path; the file's architecture must equal model.config()."""
    _check_module("load_into", model)
    architecture, parameters = _read(path)
    if _nests_too_deep(model):  # before model.config(), which recurses
        raise ValueError(_too_deep("load", model))
    config = _config("load_into", model)
    if _canonical(architecture) != _canonical(config):  # true is not 1, 2.0 not 2
        raise ValueError(
            f"{os.fspath(path)}: architecture {architecture} does not match the model's {config}"
        )
    _check_sharing("load", model, architecture)
    _load_parameters(model, parameters, path)


def _load_parameters(model: Module, parameters: dict, path) -> None:
    for name, value in parameters.items():
        number = _as_float(value)
        if number is None or not math.isfinite(number):
            raise ValueError(
                f"{os.fspath(path)}: parameter {name} is {_brief(value)}, not a finite number"
            )
    try:
        model.load_state_dict(parameters)
    except ValueError as error:
        raise ValueError(f"{os.fspath(path)}: {error}") from None
