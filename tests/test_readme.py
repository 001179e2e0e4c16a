"""Every ```python block in README.md runs, and prints what the README says it prints.

A python block immediately followed by a ```text block is an example with its output: the
text block must equal what the code printed. Each block runs on its own, in a fresh namespace
and a scratch folder, as a reader who copies just that one block would run it. Printed
numbers are compared to 1e-10, relative (see tests/printed.py).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from printed import same_printout

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)


def examples(markdown: str) -> list[tuple[int, str, str | None]]:
    """(line number, code, expected output or None) for each python block."""
    blocks = [
        (markdown.count("\n", 0, m.start()) + 1, m.group(1), m.group(2), m.start(), m.end())
        for m in FENCE.finditer(markdown)
    ]
    found = []
    for i, (line, language, body, _, end) in enumerate(blocks):
        if language != "python":
            continue
        expected = None
        if i + 1 < len(blocks):
            _, next_language, next_body, next_start, _ = blocks[i + 1]
            between = markdown[end:next_start]
            # an output block follows its code directly, with at most a short line between
            if next_language == "text" and len(between.strip().splitlines()) <= 1:
                expected = next_body
        found.append((line, body, expected))
    return found


EXAMPLES = examples(README.read_text()) if README.exists() else []


def _normalised(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def test_readme_has_examples():
    assert EXAMPLES, "README.md has no ```python blocks"
    assert any(expected is not None for _, _, expected in EXAMPLES), "no example shows output"


def test_fence_parser_pairs_code_with_output():
    markdown = "x\n```python\nprint(1)\n```\nprints:\n```text\n1\n```\n```python\npass\n```\n"
    assert examples(markdown) == [(2, "print(1)\n", "1\n"), (9, "pass\n", None)]


@pytest.mark.parametrize(
    "line, code, expected", EXAMPLES, ids=[f"README.md:{line}" for line, _, _ in EXAMPLES]
)
def test_readme_block(line: int, code: str, expected: str | None, tmp_path: Path):
    printed = io.StringIO()
    cwd = os.getcwd()
    os.chdir(tmp_path)  # blocks that save files save them here
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__readme__"})
    finally:
        os.chdir(cwd)
    if expected is not None:
        # numbers to 1e-10 relative: PyTorch's last digit may differ on another CPU
        now, then = _normalised(printed.getvalue()), _normalised(expected)
        assert same_printout(now, then), f"README.md:{line} printed\n{now}\ninstead of\n{then}"


def _svg_texts(path: Path) -> list[str]:
    return [node.text or "" for node in ET.parse(path).iter() if node.tag.endswith("text")]


def test_docs_figures_are_what_make_figures_draws_now(tmp_path: Path):
    spec = importlib.util.spec_from_file_location("make_figures", ROOT / "docs" / "make_figures.py")
    make_figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_figures)
    for fresh in make_figures.main(tmp_path):
        committed = ROOT / "docs" / fresh.name
        assert fresh.name in README.read_text(), f"docs/{fresh.name} is not used by the README"
        # every label, number and gradient in the committed picture is today's
        assert _svg_texts(committed) == _svg_texts(fresh), "re-run docs/make_figures.py"


def test_every_make_command_in_the_readme_is_a_makefile_target():
    commands = re.findall(r"^make ([\w-]+)", README.read_text(), re.MULTILINE)
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    assert {"demo", "test"} <= set(commands)
    assert set(commands) <= targets
