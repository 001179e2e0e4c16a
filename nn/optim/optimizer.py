"""The optimizer base class: param_groups, per-parameter state, step(), zero_grad(), and
state_dict()/load_state_dict() in torch.optim's layout."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from types import SimpleNamespace

from micrograd import Value, enable_grad
from micrograd.floatmath import fdiv, fsqrt

from ..checks import _brief
from .rules import _NON_NEGATIVE, _is_real, _Rule


def _maximum(a: float, b: float) -> float:
    """The larger, nan if either is (as numpy's and torch's maximum)."""
    return a if a >= b or a != a else b


def _lerp(start, end, weight: float):
    """start + weight * (end - start), as torch's lerp computes it: from end when weight is
    0.5 or more (exact at weight 1), so that a running mean is torch's to the last bit."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


# IEEE arithmetic, as numpy's and torch's: 1 / 0.0 is inf and sqrt(-1) nan, where Python's
# float / and math.sqrt raise (and a step would stop halfway through the parameters)
FLOATS = SimpleNamespace(sqrt=fsqrt, div=fdiv, maximum=_maximum, lerp=_lerp)
FLOATS.__doc__ = "The updates' functions on one parameter's floats."


# the settings a scheduler keeps in each param group, as torch's do: initial_lr, the lr a
# scheduler first took; a OneCycleLR's lrs and momenta at the ends of its cycle
SCHEDULE_KEYS = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")


class Optimizer:
    """Base class: param_groups, per-parameter state, step() and zero_grad()."""

    # every setting of a param group, with what it may hold (a scheduler's too); a subclass
    # adds its own
    _settings: dict[str, _Rule] = dict.fromkeys(("lr", *SCHEDULE_KEYS), _NON_NEGATIVE)
    # every field of a parameter's state that step() keeps, with what it may hold; a
    # subclass that keeps state lists it here, or load_state_dict refuses that state
    _state_fields: dict[str, _Rule] = {}

    def __init__(self, params: Iterable, defaults: dict) -> None:
        name = type(self).__name__
        groups = _param_groups(name, params)
        self._check(name, defaults)  # as PyTorch checks its arguments, even ones groups override
        self.defaults = defaults
        self.param_groups: list[dict] = []
        self.state: dict[Value, dict] = {}
        for number, group in enumerate(groups):
            self._add_group(name if len(groups) == 1 else f"{name}: group {number}", group)

    def add_param_group(self, param_group: dict) -> None:
        """One more group, its settings the defaults but those it gives (as torch.optim's)."""
        name = f"{type(self).__name__}.add_param_group"
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError(f"{name}: expected a dict with 'params', got {param_group!r}")
        self._add_group(f"{name}: group {len(self.param_groups)}", param_group)

    def _add_group(self, owner: str, group: dict) -> None:
        """group, checked, with the defaults filled in, as the last of param_groups."""
        group = {**self.defaults, **group, "params": _param_list(owner, group["params"])}
        self._check(owner, group)
        number = len(self.param_groups)
        group_of = {id(q): k for k, other in enumerate(self.param_groups) for q in other["params"]}
        for p in group["params"]:
            # one parameter in two groups would step twice and save under one position
            if id(p) in group_of:
                raise ValueError(
                    f"{type(self).__name__}: a parameter is in more than one group "
                    f"({group_of[id(p)]} and {number}); give each parameter to one group"
                )
        self.param_groups.append(group)

    def _check(self, owner: str, group: dict) -> None:
        """Raise TypeError or ValueError, naming owner and the setting, unless every setting
        in group holds what its rule allows. The constructor and load_state_dict both call
        this, so the two accept the same settings."""
        for field, rule in self._settings.items():
            if field in group:
                rule.check(owner, field, group[field])
                # a real number as a float, as torch computes with it: lr_decay=10**308 made
                # Adagrad's int arithmetic overflow mid-step
                group[field] = float(group[field]) if rule.real else _plain(group[field])

    def _check_state(self, owner: str, entry: dict) -> None:
        """Raise TypeError or ValueError unless entry holds only fields this optimizer keeps,
        each with a value step() can run from."""
        for field, value in entry.items():
            if field not in self._state_fields:
                raise ValueError(
                    f"{owner}: {field!r} is no state {type(self).__name__} keeps "
                    f"(it keeps {', '.join(self._state_fields) or 'none'})"
                )
            self._state_fields[field].check(owner, field, value)

    def zero_grad(self, set_to_none: bool = False) -> None:
        """Set the grad of every parameter to 0. A Value's grad is always a number, so there
        is no set_to_none=True (torch's default, whose step then skips a parameter no
        backward reached): here such a parameter steps with grad 0, its momentum and weight
        decay acting, as in torch with set_to_none=False."""
        if set_to_none is not False:
            raise ValueError(
                f"{type(self).__name__}.zero_grad: set_to_none must be False: a Value's grad "
                "is a number, 0.0 after zero_grad, never None"
            )
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = 0.0

    def step(self, closure=None):
        """Update every parameter from its grad, without recording a graph. closure, if
        given, is called first (with gradients recorded) and its loss returned, as in torch.
        Every grad is checked first: one that is not a number fails the step before any
        parameter or state has moved."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._step()
        return loss

    def _step(self) -> None:
        # every grad read and checked first: one that is no number fails the step before any
        # parameter or state moved (a half-applied step left state its own load refused)
        grads = [self._grads(number, group) for number, group in enumerate(self.param_groups)]
        for group, group_grads in zip(self.param_groups, grads):
            maximize = group.get("maximize")
            for p, grad in zip(group["params"], group_grads):
                state = self.state.setdefault(p, {})
                # the slot itself, the checked .data setter doubling a small model's step; a
                # numpy lr makes a numpy number, stored as a float64
                value = self._update(FLOATS, p._data, -grad if maximize else grad, group, state)
                p._data = value if type(value) is float else float(value)

    def _grads(self, number: int, group: dict) -> list[float]:
        """The group's grads as floats: a Value's (backward(create_graph=True)) its number,
        as torch steps a detached grad, so that no state holds a graph; anything but a real
        number is a TypeError naming the parameter."""
        grads = [p.grad for p in group["params"]]
        if set(map(type, grads)) == {float}:  # the usual case, checked at C speed
            return grads
        for k, g in enumerate(grads):
            plain = g._data if isinstance(g, Value) else g
            if isinstance(plain, bool) or not isinstance(plain, numbers.Real):
                raise TypeError(
                    f"{type(self).__name__}.step: parameter {k} of group {number} has grad "
                    f"{_brief(g)}, not a number"
                )
            grads[k] = float(plain)
        return grads

    def _update(self, F, param, grad, group: dict, state: dict):
        """param's new value from its gradient and its state (updated in place): written once
        against F (FLOATS, or nn.optim.arrays.ARRAYS for all of a group's parameters at once),
        in PyTorch's order of operations (its CPU kernels fuse some multiply-adds, which
        Python cannot: the numbers agree with torch's to about 1e-14, not to the bit)."""
        raise NotImplementedError

    def state_dict(self) -> dict:
        """The hyperparameters and per-parameter state as plain data (json.dumps-ready), laid
        out as torch.optim's: {"state": {i: {...}}, "param_groups": [{..., "params": [i]}]},
        a parameter named by its position across the groups."""
        positions = self._positions()
        groups = [
            {
                **{key: _plain(value) for key, value in group.items() if key != "params"},
                "params": [positions[p] for p in group["params"]],
            }
            for group in self.param_groups
        ]
        state = {positions[p]: dict(entry) for p, entry in self.state.items() if entry}
        return {"state": state, "param_groups": groups}

    def _positions(self) -> dict[Value, int]:
        positions: dict[Value, int] = {}
        for group in self.param_groups:
            for p in group["params"]:
                positions.setdefault(p, len(positions))
        return positions

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what state_dict() returned, for the same parameters in the same order
        (state keys may be strings, as after a JSON round trip). Every setting and state
        field must pass the checks the constructor makes; on any fault this raises
        ValueError and leaves the optimizer as it was."""
        try:
            self.param_groups, self.state = self._read(state_dict)
        except TypeError as error:
            # a value of the wrong kind is bad data here, not a bad call: one error type
            raise ValueError(str(error)) from None

    def _read(self, state_dict: dict) -> tuple[list[dict], dict[Value, dict]]:
        """The param groups and state that state_dict describes, checked in full."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if not isinstance(saved_groups, list) or len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the saved state has {_count(saved_groups)} parameter groups, "
                f"this optimizer {len(self.param_groups)}"
            )
        groups = []
        for number, (ours, saved) in enumerate(zip(self.param_groups, saved_groups)):
            owner = f"{name}: group {number}"
            # a scheduler's settings are in either or neither, as in torch
            keys = set(ours).difference(SCHEDULE_KEYS)
            saved_keys = set(saved).difference(SCHEDULE_KEYS) if isinstance(saved, dict) else set()
            if not isinstance(saved, dict) or saved_keys != keys:
                missing = sorted(keys - saved_keys) if isinstance(saved, dict) else "all"
                extra = sorted(saved_keys - keys)
                raise ValueError(
                    f"{owner} has other settings than this optimizer's "
                    f"(missing {missing}, unexpected {extra})"
                )
            if not isinstance(saved["params"], list) or len(saved["params"]) != len(ours["params"]):
                raise ValueError(
                    f"{owner} holds {_count(saved['params'])} parameters in the "
                    f"saved state, {len(ours['params'])} here"
                )
            saved = dict(saved)  # _check puts numpy numbers in Python's: not the caller's
            self._check(owner, saved)
            own_keys = [key for key in saved if key != "params" and key not in self._settings]
            for key in own_keys:  # the user's, which have no rule: as ours, at least in kind
                if not _same_kind(ours[key], saved[key]):
                    raise ValueError(
                        f"{owner} has {key} = {saved[key]!r}, where this has {ours[key]!r}"
                    )
            group = {
                key: _plain(_restored(value, like=ours.get(key))) for key, value in saved.items()
            }
            for key in set(ours).intersection(SCHEDULE_KEYS):  # a scheduler's, made before
                group.setdefault(key, ours[key])  # the load: it stays
            group["params"] = ours["params"]
            groups.append(group)
        if not isinstance(state_dict["state"], dict):
            raise ValueError(f"{name}: 'state' must be a dict, got {state_dict['state']!r}")
        # as torch.optim: the k-th id the saved groups list is the k-th parameter here, and
        # the state's keys are those ids
        param_of: dict[int, tuple[Value, dict]] = {}
        for number, (saved, group) in enumerate(zip(saved_groups, groups)):
            for saved_id, p in zip(saved["params"], group["params"]):
                position = _position(saved_id)
                if position is None or position in param_of:
                    raise ValueError(
                        f"{name}: group {number} lists parameter {saved_id!r}, which is no "
                        "parameter number or is listed twice"
                    )
                param_of[position] = (p, group)
        state: dict[Value, dict] = {}
        for key, entry in state_dict["state"].items():
            position = _position(key)
            if position not in param_of:
                raise ValueError(f"{name}: state for parameter {key!r}, which does not exist")
            owner = f"{name}: state of parameter {position}"
            p, group = param_of[position]
            if p in state:  # 1 and "1", say
                raise ValueError(f"{owner} is given twice")
            if not isinstance(entry, dict):
                raise ValueError(f"{owner} is {entry!r}; expected a dict")
            self._check_state(owner, entry)
            missing = sorted(self._required_state(group) - set(entry)) if entry else []
            if missing:  # step() would start them afresh, mid-run
                raise ValueError(f"{owner} lacks {', '.join(missing)}, which step() keeps")
            state[p] = {key: _plain(value) for key, value in entry.items()}
        return groups, state

    def _required_state(self, group: dict) -> set[str]:
        """The state fields a parameter of group holds once it has stepped."""
        return set()


def _param_groups(name: str, params) -> list[dict]:
    """params as param-group dicts: the user's, or one group holding all of params."""
    items = _listed(name, params)
    if not items:
        raise ValueError(f"{name} got an empty parameter list")
    if not isinstance(items[0], dict):
        return [{"params": items}]
    for number, group in enumerate(items):
        if not isinstance(group, dict):
            raise TypeError(f"{name}: parameter group {number} must be a dict, got {group!r}")
        if "params" not in group:
            raise ValueError(
                f"{name}: parameter group {number} has no 'params'; "
                "expected a dict like {'params': [...], 'lr': 0.1}"
            )
    return items


def _param_list(owner: str, params) -> list[Value]:
    """params as a list, if it holds only Values, each once."""
    params = _listed(owner, params)
    seen: set[Value] = set()
    for k, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"{owner}: every parameter must be a Value, got {p!r}")
        if p._a is not None:  # a step would move the result, never what it was made from
            raise ValueError(
                f"{owner}: parameter {k} was made by op {p._op.name!r}; an optimizer steps "
                "leaves, Values no op made (as torch's refuses a non-leaf tensor)"
            )
        if p in seen:  # it would step twice, and save its state under one position
            raise ValueError(
                f"{owner}: parameter {k} is in params twice; give each parameter once "
                "(model.parameters() does, tied weights included)"
            )
        seen.add(p)
    return params


def _listed(owner: str, params) -> list:
    """The items of an ordered iterable; state_dict() names parameters by their order."""
    if isinstance(params, Value):
        raise TypeError(f"{owner}: params must be an iterable of Values, got one Value")
    if isinstance(params, (set, frozenset)):
        raise TypeError(
            f"{owner}: params must be an ordered iterable of Values, not a set, whose order "
            "changes from run to run"
        )
    try:
        iterator = iter(params)
    except TypeError:
        raise TypeError(f"{owner}: params must be an iterable of Values, got {params!r}") from None
    return list(iterator)


def _position(key) -> int | None:
    """The parameter position a state key names: an int, or one's decimal string as JSON
    writes it. Not '²' (str.isdigit() is True for it), '١' (int() reads it) or '01'."""
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        return int(key)  # numpy's too
    if isinstance(key, str) and key.isascii() and key.isdigit() and str(int(key)) == key:
        return int(key)
    return None


def _count(items) -> str:
    return str(len(items)) if isinstance(items, list) else "no list of"


def _same_kind(ours, saved) -> bool:
    """Whether a saved setting that has no rule can stand where ours stands: a number for a
    number, a list of the same length for a tuple (JSON has no tuples), else the same type."""
    if _is_real(ours):
        return _is_real(saved)
    if isinstance(ours, tuple):
        return isinstance(saved, (list, tuple)) and len(saved) == len(ours)
    return type(saved) is type(ours)


def _restored(saved, like):
    """A copy of a saved setting, a tuple again where ours is one (JSON has no tuples)."""
    if isinstance(like, tuple):
        return tuple(saved)
    return list(saved) if isinstance(saved, list) else saved


def _plain(value):
    """A numpy number (lr=np.float32(0.1), a loaded momentum buffer) as the Python number
    torch computes with: in its own type, each step would round in float32 and leave a
    numpy number in .data (and in state_dict(), which json.dump refuses)."""
    if isinstance(value, tuple):  # betas
        return tuple(_plain(v) for v in value)
    if isinstance(value, list):  # a schedule's milestones, base_lrs
        return [_plain(v) for v in value]
    if isinstance(value, (bool, int, float)) or not isinstance(value, numbers.Real):
        return value
    return int(value) if isinstance(value, numbers.Integral) else float(value)
