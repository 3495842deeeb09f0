"""The documentation stays true: the site builds with ``mkdocs build --strict``, the plugin author's
reference names every hook, the API reference covers the public API, and every code example of the
site and the README runs as written, offline, against the weights shipped in ``weights/``.

Which examples run: every block labelled ``python`` (the blocks of a page run in order in one
namespace, in a fresh working directory, like a reader pasting them), and every ``aezoo ...`` line of
a block labelled ``sh``, ``bash``, ``console`` or ``shell`` (through the real CLI, in the same
directory, so it can read what the Python above wrote). A block whose first line is
``# not run in CI: <reason>`` is skipped, and the page shows the reason. Unlabelled blocks are text
(synopses, file trees) and are not run.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import aezoo
from aezoo import hookspecs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PLUGINS_DOC = DOCS / "plugins.md"
NOT_RUN = re.compile(r"# not run in CI: (\S.*)")
SHELLS = ("sh", "bash", "console", "shell")
FENCE = re.compile(r"(?P<scaffold><!-- scaffold: \S+ -->\n)?^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[^\n]*\n"
                   r"(?P<code>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
# Pages whose examples cannot run yet and that another change owns: page -> why (shown as a skip).
PENDING = {
}
HOOKS = sorted(
    name
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(function, f"{hookspecs.PROJECT}_spec")
)


def _hook(name: str):
    """docs/hooks/NAME.py, an MkDocs hook that generates pages, imported as a module."""
    spec = importlib.util.spec_from_file_location(f"aezoo_docs_{name}", DOCS / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    """Each fenced block of a page as (label, code), its indentation removed. A block under
    ``<!-- scaffold: PATH -->`` is a file of ``aezoo new-plugin``'s plugin, not an example to run: the
    guide's tests below check it is that file, and tests/test_scaffold.py runs the plugin."""
    blocks = []
    for match in FENCE.finditer(markdown):
        if match["scaffold"]:
            continue
        indent = len(match["indent"])
        code = "".join(line[indent:] for line in match["code"].splitlines(keepends=True))
        blocks.append((match["lang"].lower(), code))
    return blocks


def runnable(blocks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The blocks that run: Python and shell blocks not marked as not run."""
    return [(lang, code) for lang, code in blocks
            if (lang == "python" or lang in SHELLS) and not NOT_RUN.match(code.lstrip().split("\n", 1)[0])]


def aezoo_commands(lang: str, code: str) -> list[list[str]]:
    """The ``aezoo`` command lines of a shell block, as words; in a ``console`` block only the lines
    after a ``$ `` prompt are commands (the others are their output)."""
    commands = []
    for line in code.splitlines():
        if lang == "console":
            if not line.startswith("$ "):
                continue
            line = line[2:]
        words = shlex.split(line, comments=True)
        if words[:1] == ["aezoo"]:
            commands.append(words[1:])
    return commands


# Collected without the registry: the written pages, and the generated ones by the checkpoints that ship.
WRITTEN = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
GENERATED = ["models/index.md", *sorted(f"models/{p.name}.md" for p in (ROOT / "weights").iterdir()
                                        if (p / "config.json").is_file())]


@pytest.fixture
def reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A reader's fresh working directory, with the shipped weights as the mirror and no network."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))
    return tmp_path


def run_examples(name: str, markdown: str) -> dict:
    """Run a page's examples in order; returns the namespace the Python blocks share."""
    from aezoo.cli import main
    from aezoo.testing import offline

    namespace: dict = {"__name__": "__docs__"}
    blocks = runnable(code_blocks(markdown))
    with offline():
        for number, (lang, code) in enumerate(blocks, 1):
            if lang == "python":
                exec(compile(code, f"{name}, block {number}", "exec"), namespace)
                continue
            for words in aezoo_commands(lang, code):
                result = CliRunner().invoke(main, words, catch_exceptions=False)
                assert result.exit_code == 0, f"{name}, block {number}: aezoo {shlex.join(words)}\n{result.output}"
    return namespace


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


def test_the_readme_usage_example_runs(reader):
    """The README's "Use it" block is what a newcomer pastes first: it runs as written, and so does
    every other example of the README that is not marked as not run."""
    namespace = run_examples("README.md", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert namespace["clean"].shape == (8, 1, 28, 28) and namespace["faces"].shape == (16, 3, 64, 64)
    assert namespace["again"].shape == (16, 3, 64, 64) and namespace["scores"].shape == (1000,)
    assert set(namespace["flags"].tolist()) <= {0, 1}


@pytest.mark.parametrize("page", WRITTEN)
def test_every_example_of_the_page_runs(page, reader):
    if page in PENDING:
        pytest.skip(f"{page}: {PENDING[page]}")
    run_examples(page, (DOCS / page).read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", GENERATED)
def test_every_example_of_the_generated_page_runs(page, reader):
    run_examples(page, _hook("models").model_pages()[page])


def test_a_failing_example_fails_the_page(reader):
    """The runner is not a no-op: an error in a block, or a command that exits non-zero, is a failure."""
    with pytest.raises(ZeroDivisionError):
        run_examples("python page", "```python\nx = 1\n```\n\n```python\nx / 0\n```\n")
    with pytest.raises(AssertionError, match="no-such-model"):
        run_examples("shell page", "```sh\naezoo info no-such-model\n```\n")
    assert "x" not in run_examples("marked page", "```python\n# not run in CI: needs a GPU\nx = 1 / 0\n```\n")


def test_indented_blocks_are_found_and_dedented():
    markdown = "1. step\n\n    ```python\n    x = 1\n    if x:\n        y = 2\n    ```\n"
    assert code_blocks(markdown) == [("python", "x = 1\nif x:\n    y = 2\n")]


def test_the_api_reference_covers_the_public_api():
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^::: ([\w.]+)", api, re.M))
    assert {f"aezoo.{name}" for name in aezoo.__all__} - {"aezoo.AezooError"} <= documented
    assert {"aezoo.errors", "aezoo.publish", "aezoo.scoring", "aezoo.testing"} <= documented


def test_every_shipped_checkpoint_has_a_model_page():
    assert set(_hook("models").model_pages()) == set(GENERATED)


def test_the_cli_reference_is_what_help_prints():
    from aezoo.cli import main

    reference = _hook("cli").reference()
    for words in ([], *([name] for name in main.commands)):
        printed = CliRunner().invoke(main, [*words, "--help"], prog_name="aezoo", terminal_width=80).output
        assert f"## {shlex.join(['aezoo', *words])}\n\n```text\n{printed}" in reference


def test_the_site_builds_strictly(tmp_path):
    """``mkdocs build --strict`` (a warning is an error: a broken link, a missing page, an API name that
    does not resolve), offline; the generated model pages and their gallery images are in the site."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "AEZOO_MIRRORS": str(ROOT / "weights")}
    site = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for spec in _hook("models").documented_models():
        page = (site / "models" / spec.name / "index.html").read_text(encoding="utf-8")
        assert all(f"<td>{m.name}</td>" in page for m in spec.card.metrics)
        for image in (ROOT / "weights" / spec.name).glob("*.png"):
            assert image.name in page
            assert (site / "models" / spec.name / image.name).read_bytes() == image.read_bytes()
    assert "aezoo finetune" in (site / "cli" / "index.html").read_text(encoding="utf-8")
    assert "aezoo.load" in (site / "api" / "index.html").read_text(encoding="utf-8")


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
