"""karpathy/micrograd's PyPI release 0.1.0, fetched at run time and loaded under another name.

That release imports as ``micrograd`` too, so it is never installed: its wheel and sdist are
downloaded with pip into a cache folder, and its two modules are loaded from the wheel as
``karpathy_micrograd.engine`` and ``karpathy_micrograd.nn``. None of its code is committed here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import types
import zipfile
from pathlib import Path

RELEASE = "micrograd==0.1.0"
PACKAGE = "karpathy_micrograd"
CACHE = Path(os.environ.get("MICROGRAD_CACHE", Path(__file__).resolve().parent.parent / ".cache"))


def _download(kind: str) -> Path:
    """Path of the release's wheel (kind="wheel") or sdist (kind="sdist"), downloading once."""
    folder = CACHE / f"karpathy-{kind}"
    pattern = "*.whl" if kind == "wheel" else "*.tar.gz"
    found = sorted(folder.glob(pattern))
    if not found:
        folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", RELEASE]
        command += ["--only-binary", ":all:"] if kind == "wheel" else ["--no-binary", ":all:"]
        subprocess.run([*command, "-d", str(folder)], check=True)
        found = sorted(folder.glob(pattern))
    return found[0]


def wheel_path() -> Path:
    """The downloaded wheel: put it first on a subprocess's sys.path to import it as micrograd."""
    return _download("wheel")


def test_engine_source() -> str:
    """The text of the release's own test/test_engine.py, from its sdist."""
    with tarfile.open(_download("sdist")) as archive:
        for member in archive.getmembers():
            if member.name.endswith("test/test_engine.py"):
                return archive.extractfile(member).read().decode()
    raise FileNotFoundError(f"{RELEASE}'s sdist has no test/test_engine.py")


def load() -> types.ModuleType:
    """The release as the package ``karpathy_micrograd`` (with .engine and .nn), in-process."""
    if PACKAGE in sys.modules:
        return sys.modules[PACKAGE]
    package = types.ModuleType(PACKAGE)
    package.__path__ = []
    sys.modules[PACKAGE] = package
    with zipfile.ZipFile(wheel_path()) as wheel:
        for name in ("engine", "nn"):
            source = wheel.read(f"micrograd/{name}.py").decode()
            source = source.replace("from micrograd.", f"from {PACKAGE}.")
            module = types.ModuleType(f"{PACKAGE}.{name}")
            module.__file__ = f"<{RELEASE}>/micrograd/{name}.py"
            sys.modules[module.__name__] = module
            exec(compile(source, module.__file__, "exec"), module.__dict__)
            setattr(package, name, module)
    return package
