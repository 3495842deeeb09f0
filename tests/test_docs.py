"""The plugin author's reference stays complete: every hook is documented, in code and in the docs."""

from __future__ import annotations

import dataclasses
import inspect
import re
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


# -- the plugin author's guide: its files are the scaffold's, its commands are the CLI's -------------
GUIDE_FILES = re.compile(r"<!-- scaffold: (?P<path>\S+) -->\n```\w*\n(?P<code>.*?)^```", re.DOTALL | re.MULTILINE)


def shell_lines(markdown: str) -> list[str]:
    """The lines of the code blocks without a language (the shell commands)."""
    lines, fence = [], None
    for line in markdown.splitlines():
        if line.startswith("```"):
            fence = line[3:] if fence is None else None
        elif fence == "":
            lines.append(line)
    return lines


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory):
    from aezoo.scaffold import new_plugin

    return new_plugin("my-dae", tmp_path_factory.mktemp("guide") / "aezoo-my-dae")


def test_every_file_the_plugin_guide_shows_is_the_file_new_plugin_writes(scaffolded):
    shown = {m["path"]: m["code"] for m in GUIDE_FILES.finditer(PLUGINS_DOC.read_text(encoding="utf-8"))}
    assert {"pyproject.toml", "src/aezoo_my_dae/plugin.py", "src/aezoo_my_dae/model.py",
            "tests/test_conformance.py"} <= shown.keys()
    for path, code in shown.items():
        assert code == (scaffolded / path).read_text(encoding="utf-8"), f"docs/plugins.md shows another {path}"


def test_every_aezoo_command_in_the_plugin_guide_exists_with_its_options():
    from aezoo.cli import main

    commands = [line.split("#")[0].split() for line in shell_lines(PLUGINS_DOC.read_text(encoding="utf-8"))
                if line.startswith("aezoo ")]
    assert {words[1] for words in commands} >= {"new-plugin", "list", "train", "push"}
    for words in commands:
        command = main.commands.get(words[1])
        assert command is not None, f"docs/plugins.md runs 'aezoo {words[1]}', which does not exist"
        known = {opt for param in command.params for opt in getattr(param, "opts", [])}
        for word in words[2:]:
            assert not word.startswith("-") or word in known, f"'aezoo {words[1]}' has no option {word}"


def test_the_plugin_guide_names_every_check_of_the_kit_and_every_exported_record():
    import aezoo
    from aezoo import testing

    guide = PLUGINS_DOC.read_text(encoding="utf-8")
    for name in testing.__all__:
        if name.startswith("check_"):
            assert f"`{name}" in guide, f"docs/plugins.md does not document {name}"
    for record in ("ModelSpec", "Recipe", "CardData", "Metric", "Release", "WeightsManifest", "WeightsFile",
                   "DatasetSpec"):
        assert record in aezoo.__all__ and f"| `{record}` |" in guide
        documented = inspect.getdoc(getattr(aezoo, record))
        for field in dataclasses.fields(getattr(aezoo, record)):
            assert f"``{field.name}``" in documented, f"aezoo.{record}'s docstring does not list {field.name}"
