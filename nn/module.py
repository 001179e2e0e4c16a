"""The Module base class: a tree of parameters (Values), named, saved and rebuilt.

Every module class registers itself by its name (``Module.registry``), says how to rebuild
itself from its ``config()`` (``from_fields``) and how many parameters a config has
(``parameter_count``), so that loading a file, counting its parameters and the PyTorch bridge
each find one place per architecture: the module's own class.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from inspect import signature
from typing import Any

from micrograd import Value
from micrograd.engine import slot_names
from micrograd.testing import agree

from .checks import _as_float, _brief


class Module:
    """A tree of parameters: attributes (slots too) that are Values, Modules or lists,
    tuples and numpy object arrays of them, at any depth; not dicts, as torch's. A
    parameter is a leaf Value, one no op made: an output kept in self.out, as karpathy's
    users keep one, is not a parameter (if it were, the optimizer would move it and an l2
    penalty would count it)."""

    registry: dict[str, type] = {}  # every module class, by name (see from_config)
    training = True  # torch's flag: every module starts in training mode (see train())

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__.startswith("_"):  # a base of others (the pools' _Pool): no file's type
            return
        known = Module.registry.get(cls.__name__)
        if known is None or not _ours(known) or _ours(cls):  # nn's names stay nn's: a class
            Module.registry[cls.__name__] = cls  # of one's own named Layer does not load

    @classmethod
    def from_fields(cls, fields: dict) -> Module:
        """The module a config describes (its fields but "type"), with parameters all 0."""
        return cls(**fields, init="zeros")

    @classmethod
    def parameter_count(cls, config: dict) -> int | None:
        """How many parameters a config of this class makes (None: cannot tell)."""
        return None

    def __call__(self, x):
        """The module's output for input x; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define __call__(self, x)")

    def named_parameters(
        self, prefix: str = "", remove_duplicate: bool = True
    ) -> list[tuple[str, Value]]:
        """[(dotted name, parameter)] in a fixed order, e.g. ``layers.0.neurons.3.w.1``, each
        after prefix and a dot if prefix is given, as torch's. A parameter met again (tied
        weights) is left out unless remove_duplicate is False, as in torch: then every name
        is listed, as state_dict() holds them all. Parameters are the Values a module holds
        in its attributes (slots too), at any depth of lists, tuples and numpy arrays of
        objects, and in its modules; not in a dict, as torch's plain dicts are not."""
        found = _named(self, prefix)
        if not remove_duplicate:
            return found
        seen: set[int] = set()
        return [(name, p) for name, p in found if not (id(p) in seen or seen.add(id(p)))]

    def parameters(self) -> list[Value]:
        """Every parameter once, in the order of named_parameters(): a module used twice
        (tied weights) gives its parameters once, as in PyTorch, so that an optimizer steps
        each once and a penalty counts each once."""
        # The same walk as named_parameters() without building names: training loops call
        # this every step, and the names cost more than the walk.
        found: list[Value] = []
        under_way = _under_way("parameters")  # (a context manager here cost 16%)
        if id(self) in under_way:  # held by a module inside it, a link back: found already
            return found
        try:
            under_way.add(id(self))
            for item in vars(self).values():
                _gather(item, found)
            for slot in slot_names(type(self)):  # most modules have none
                if hasattr(self, slot):
                    _gather(getattr(self, slot), found)
        finally:
            under_way.discard(id(self))
        return list(dict.fromkeys(found))

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0."""
        for p in self.parameters():
            p.grad = 0.0

    def train(self, mode: bool = True) -> Module:
        """Put this module and every module inside it in training mode (False: evaluation
        mode), as torch's train() does, and return it. ``training`` holds the mode, for a
        module of one's own that computes otherwise in training (a dropout, say); none of
        nn's modules does yet, so the mode changes none of their numbers, and fit leaves it
        as it finds it."""
        if type(mode) is not bool:  # torch refuses 0 and 1 too
            raise ValueError(f"train(): mode must be True or False, got {mode!r}")
        pending, seen = [self], set()
        while pending:
            module = pending.pop()
            if id(module) not in seen:  # a module used twice, or a link back, once
                seen.add(id(module))
                module.training = mode
                pending.extend(child for _, child in module._children())
        return self

    def eval(self) -> Module:
        """``train(False)``: evaluation mode for this module and every module inside it."""
        return self.train(False)

    def state_dict(self) -> dict[str, float]:
        """{name: value} for every parameter, as plain floats."""
        return {name: p.data for name, p in every_named_parameter(self)}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Set every parameter from state: all of them or, on any error, none of them."""
        named = every_named_parameter(self)
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
        first: dict[int, tuple[str, float]] = {}  # a tied parameter's first name and value
        for (name, p), value in zip(named, values):
            other, before = first.setdefault(id(p), (name, value))
            if not agree(before, value, 0.0, 0.0, signed_zero=True):  # one number, nan too
                raise ValueError(
                    f"load_state_dict: {other} and {name} are one parameter (tied), "
                    f"but state gives them {before!r} and {value!r}"
                )
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
            finer = module._units(owner or "(model)")
            if finer is not None and level == "neuron":  # units of its own (filters)
                groups.update(finer)
                continue
            # a module with units of its own is a layer itself; a Neuron's layer its parent
            unit = owner if level == "neuron" or finer is not None else parent
            for _, item in _attributes(module):
                for parameter in _direct_parameters(item):
                    groups.setdefault(parameter, unit or "(model)")  # a tied one: its first
        return groups

    def _units(self, name: str) -> dict[Value, str] | None:
        """{parameter: unit} for a module whose own parameters form several units (None: the
        module is one unit)."""
        return None

    def _modules_with_parents(self) -> list[tuple[str, str, Module]]:
        """(name, parent's name, module) for self ("") and every module inside it, but a
        link back to a module it is inside (a child naming its owner)."""
        found, stack = [], [("", "", self, frozenset())]
        while stack:
            name, parent, module, outer = stack.pop()
            found.append((name, parent, module))
            inside = outer | {id(module)}
            for child_name, child in reversed(list(module._children())):
                if id(child) not in inside:
                    full = f"{name}.{child_name}" if name else child_name
                    stack.append((full, name, child, inside))
        return found

    def num_parameters(self) -> int:
        """How many scalar parameters the module has (a tied one once)."""
        return len(self.parameters())

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
        """(name, module) of every module it holds itself, at any depth of its containers."""
        pending = list(reversed(_attributes(self)))
        while pending:
            name, item = pending.pop()
            if isinstance(item, Module):
                yield name, item
            else:
                inside = _contents(item) or []
                pending.extend((f"{name}.{key}", element) for key, element in reversed(inside))

    def _summary(self) -> str:
        return f"{type(self).__name__}()"

    def __repr__(self) -> str:
        shown = _under_way("repr")
        if id(self) in shown:  # a link back to a module being shown, around this one
            return f"{type(self).__name__}(...)  # a link back"
        try:
            shown.add(id(self))
            return self._summary() + f"  # {self.num_parameters()} parameters"
        finally:
            shown.discard(id(self))


GROUP_LEVELS = ("neuron", "layer")


def _attributes(module: Module) -> list[tuple[str, object]]:
    """(name, value) of module's attributes: its __dict__'s, then its slots' that are set."""
    slots = slot_names(type(module))
    found = list(vars(module).items()) if hasattr(module, "__dict__") else []
    if slots:
        found += [(slot, getattr(module, slot)) for slot in slots if hasattr(module, slot)]
    return found


def _elements(item: object) -> list | tuple | None:
    """The elements of a container attribute: a list, a tuple, a numpy array of objects (as
    nested lists); None for anything else. A dict is none, as torch's plain dicts are not
    walked (hold parameters in a list, or a Module): walking one made a vocabulary of
    100,000 words cost every step, and a dict naming its owner looped forever."""
    if isinstance(item, (list, tuple)):
        return item
    if getattr(getattr(item, "dtype", None), "kind", None) == "O" and item.ndim > 0:
        return item.tolist()
    return None


def _contents(item: object) -> list[tuple[str, object]] | None:
    """(name, element) of a container attribute, by index (see _elements)."""
    elements = _elements(item)
    return None if elements is None else [(str(i), e) for i, e in enumerate(elements)]


def _direct_parameters(item: object) -> list[Value]:
    """The Values an attribute holds itself (a Value, or containers of them), not its
    modules'."""
    if isinstance(item, Value):
        return [item] if item._a is None else []  # a leaf: a result an op made is none
    return [v for element in _elements(item) or () for v in _direct_parameters(element)]


def every_named_parameter(module: Module, prefix: str = "") -> list[tuple[str, Value]]:
    """[(name, parameter)] under every name, a tied parameter under each (as state_dict()
    holds them); a module's own named_parameters, as it wrote it, if it has one."""
    own = module.named_parameters
    if type(module).named_parameters is Module.named_parameters:
        return _named(module, prefix)
    # its own, as it wrote it: maybe a generator, as torch's is; every name where it can say
    takes = signature(own).parameters
    every = {"remove_duplicate": False} if "remove_duplicate" in takes else {}
    if prefix and "prefix" not in takes:  # torch's way of naming it inside another module
        return [(f"{prefix}.{name}", p) for name, p in own(**every)]
    return list(own(prefix=prefix, **every) if prefix else own(**every))


def _named(module: Module, prefix: str) -> list[tuple[str, Value]]:
    found: list[tuple[str, Value]] = []
    under_way = _under_way("parameters")
    if id(module) in under_way:  # a link back to a module being walked: named there
        return found
    try:
        under_way.add(id(module))
        for name, item in _attributes(module):
            _collect(f"{prefix}.{name}" if prefix else name, item, found)
    finally:
        under_way.discard(id(module))
    return found


_walks = threading.local()


def _under_way(walk: str) -> set[int]:
    """The ids of the modules this thread's walk ("parameters", "repr") is inside now: one
    met again inside itself is a link back (a child naming its owner), walked once, as
    torch's."""
    try:
        return getattr(_walks, walk)
    except AttributeError:
        setattr(_walks, walk, set())
        return getattr(_walks, walk)


def _gather(item: object, found: list) -> None:
    # no names: parameters() runs every step (zero_grad), and names cost more than the walk
    if isinstance(item, Value):
        if item._a is None:  # a leaf: a result an op made is no parameter
            found.append(item)
    elif isinstance(item, Module):
        found.extend(item.parameters())
    else:
        for element in _elements(item) or ():
            _gather(element, found)


def _collect(name: str, item: object, found: list) -> None:
    if isinstance(item, Value):
        if item._a is None:  # a leaf: a result an op made is no parameter
            found.append((name, item))
    elif isinstance(item, Module):
        found.extend(every_named_parameter(item, name))
    else:
        for key, element in _contents(item) or []:
            _collect(f"{name}.{key}", element, found)


def _ours(cls: type) -> bool:
    """Whether cls is one of nn's own module classes."""
    package = __name__.rpartition(".")[0]
    return cls.__module__ == package or cls.__module__.startswith(f"{package}.")


def from_config(config: dict) -> Module:
    """The module described by config (as made by Module.config()), parameters all 0."""
    # Children before parents, with a stack of our own rather than recursion: a config read
    # from a file may nest deeper than Python's recursion limit, and must still be a ValueError.
    pending: list[tuple[Any, _Where, bool]] = [(config, None, False)]  # (config, where, ready)
    built: list[Module] = []
    at_path: dict[str, Module] = {}  # every module built so far, by its path
    while pending:
        node, where, ready = pending.pop()
        if ready:  # its modules are the last ones built
            count = len(node["modules"])
            modules, built[len(built) - count :] = built[len(built) - count :], []
            module = _build(node, where, Module.registry["Sequential"], *modules)
        elif isinstance(node, dict) and "same_as" in node:  # a module met before (tied)
            module = _same_as(node, where, at_path)
        elif _config_type(node, where) == "Sequential":
            if set(node) != {"type", "modules"} or not isinstance(node["modules"], list):
                raise _invalid(node, where, "expected exactly one list 'modules'")
            pending.append((node, where, True))
            pending.extend(
                (m, (where, i), False) for i, m in reversed(list(enumerate(node["modules"])))
            )
            continue
        else:
            module = _build(node, where, _build_leaf, node)
        built.append(module)
        at_path.setdefault(_path(where), module)
    return built[0]


def _same_as(config: dict, where: _Where, at_path: dict[str, Module]) -> Module:
    """The module a {"same_as": path} config names: one built before it, at that path."""
    path = config["same_as"]
    if set(config) != {"same_as"} or not isinstance(path, str) or path not in at_path:
        raise ValueError(
            f"a module config{_at(where)}: {_brief(config)}: expected exactly "
            f'{{"same_as": path}}, the path of a module before it, not around it, such as '
            f'"modules.0"; got {_brief(path)}'
        )
    return at_path[path]


_Where = tuple | None
"""Where a config sits in the one from_config was given: None, or (parent's where, index)."""


def _path(where: _Where) -> str:
    """'modules.0.modules.2' for a config inside another, '' for the outermost one."""
    indices = []
    while where is not None:
        where, index = where
        indices.append(index)
    return ".".join(f"modules.{i}" for i in reversed(indices))


def _at(where: _Where) -> str:
    """' at modules.0.modules.2' for a config inside another, '' for the outermost one."""
    path = _path(where)
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
    kind = config["type"]
    if not isinstance(kind, str) or kind not in Module.registry or kind == "Sequential":
        raise ValueError(f"unknown module type {_brief(kind)}")
    return Module.registry[kind].from_fields({k: v for k, v in config.items() if k != "type"})
