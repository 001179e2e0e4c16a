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
* ``architecture`` is ``Module.config()``: a ``type`` (``"Neuron"``, ``"Layer"``, ``"MLP"``
  or ``"Sequential"``) and its constructor arguments; a Sequential lists its modules'
  architectures under ``"modules"``.
* ``parameters`` maps every name of ``named_parameters()`` to its value, in that order.
  Floats are written as the shortest text that reads back to the same float64, so a
  save and load round trip is exact. Non-finite parameters (nan, inf) cannot be saved.

Writes go to a temporary file in the same folder that is then renamed over the target
(``os.replace``), so a reader sees the old file or the new one, never half of one, and a
failed save leaves the old file intact. The new file keeps the mode of the one it replaces;
a file that did not exist gets the mode ``open()`` would give it (0o666 less the umask).
Reading checks everything before touching a model.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import secrets
import stat

from .module import Module, from_config

FORMAT = "micrograd.nn"
VERSION = 1

__all__ = ["save", "load", "load_into", "FORMAT", "VERSION"]


def save(model: Module, path: str | os.PathLike) -> None:
    """Write model's architecture and parameters to path as JSON, atomically."""
    named = model.named_parameters()
    for name, p in named:
        if not math.isfinite(p.data):
            raise ValueError(f"save: parameter {name} is {p.data}; only finite values can be saved")
    document = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": model.config(),
        "parameters": {name: p.data for name, p in named},
    }
    text = json.dumps(document, indent=1, allow_nan=False) + "\n"
    _write_atomically(os.fspath(path), text)


def _write_atomically(path: str, text: str) -> None:
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = None  # a new file keeps the mode the kernel gave the temporary one
    handle, temporary = _create_temporary(os.path.dirname(os.path.abspath(path)))
    try:
        try:
            file = os.fdopen(handle, "w", encoding="utf-8")
        except BaseException:
            os.close(handle)
            raise
        with file:
            if mode is not None:
                os.fchmod(file.fileno(), mode)
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _create_temporary(folder: str) -> tuple[int, str]:
    """(descriptor, path) of a new empty file in folder, created with mode 0o666 less the umask.

    Not tempfile.mkstemp, which always gives 0o600; and not os.umask(), which reads the umask
    only by changing it for every thread of the process.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = os.path.join(folder, f".tmp-{secrets.token_hex(8)}.json")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "save: no free temporary file name", folder)


def _read(path: str | os.PathLike) -> tuple[dict, dict]:
    """(architecture, parameters) from a model file, after checking its format and version."""
    try:
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{os.fspath(path)}: not a model file (corrupt or truncated JSON: {error})"
        ) from None
    except UnicodeDecodeError:
        raise ValueError(f"{os.fspath(path)}: not a model file (not UTF-8 text)") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f'{os.fspath(path)}: not a model file (no "format": {FORMAT!r})')
    version = document.get("version")
    if version != VERSION:
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


def load(path: str | os.PathLike) -> Module:
    """The model saved at path, rebuilt from its architecture with its parameters."""
    architecture, parameters = _read(path)
    declared = _declared_size(architecture)
    if declared is not None and declared != len(parameters):
        # checked before building, so a corrupt size cannot make us allocate a huge model
        raise ValueError(
            f"{os.fspath(path)}: the architecture has {declared} parameters "
            f"but the file lists {len(parameters)}"
        )
    try:
        model = from_config(architecture)
    except ValueError as error:
        raise ValueError(f"{os.fspath(path)}: {error}") from None
    _load_parameters(model, parameters, path)
    return model


def _declared_size(architecture: dict) -> int | None:
    """How many parameters the architecture has, or None if it cannot tell."""
    try:
        kind = architecture["type"]
        if kind == "Neuron":
            return int(architecture["nin"]) + 1
        if kind == "Layer":
            return (int(architecture["nin"]) + 1) * int(architecture["nout"])
        if kind == "MLP":
            sizes = [int(architecture["nin"])] + [int(n) for n in architecture["nouts"]]
            return sum((nin + 1) * nout for nin, nout in zip(sizes, sizes[1:]))
        if kind == "Sequential":
            return sum(_declared_size(module) for module in architecture["modules"])
    except (TypeError, KeyError, ValueError):
        return None
    return None


def load_into(model: Module, path: str | os.PathLike) -> None:
    """Set model's parameters from path; the file's architecture must equal model.config()."""
    architecture, parameters = _read(path)
    if architecture != model.config():
        raise ValueError(
            f"{os.fspath(path)}: architecture {architecture} does not match the model's "
            f"{model.config()}"
        )
    _load_parameters(model, parameters, path)


def _load_parameters(model: Module, parameters: dict, path) -> None:
    for name, value in parameters.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise ValueError(
                f"{os.fspath(path)}: parameter {name} is {value!r}, not a finite number"
            )
    try:
        model.load_state_dict(parameters)
    except ValueError as error:
        raise ValueError(f"{os.fspath(path)}: {error}") from None
