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
