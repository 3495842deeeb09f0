"""The plugin author's reference stays complete: every hook is documented, in code and in the docs."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from aezoo import hookspecs

PLUGINS_DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
HOOKS = sorted(
    name
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(function, f"{hookspecs.PROJECT}_spec")
)


def test_there_are_hooks():
    assert "aezoo_register_models" in HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook))
    assert doc and doc.strip(), f"hook {hook} in aezoo/hookspecs.py has no docstring"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_in_the_plugin_docs(hook):
    assert PLUGINS_DOC.is_file(), "docs/plugins.md is missing"
    assert hook in PLUGINS_DOC.read_text(encoding="utf-8"), f"docs/plugins.md does not mention {hook}"


def test_the_readme_usage_example_runs(monkeypatch):
    """The README's first Python block is what a newcomer pastes first: it must run as written."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.setenv("AEZOO_MIRRORS", str(Path(__file__).resolve().parent.parent / "weights"))
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own README, the point of the test
    assert namespace["clean"].shape == (8, 1, 28, 28) and namespace["faces"].shape == (16, 3, 64, 64)
    assert namespace["again"].shape == (16, 3, 64, 64) and namespace["scores"].shape == (1000,)
    assert set(namespace["flags"].tolist()) <= {0, 1}
