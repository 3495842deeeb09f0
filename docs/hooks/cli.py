"""The command-line reference, generated at build time from the ``aezoo`` command's own click help,
so the page shows exactly what ``aezoo COMMAND --help`` prints for the installed version.

An MkDocs hook (``hooks:`` in mkdocs.yml): on docs/cli.md, ``on_page_markdown`` puts the help of
``aezoo`` and of every command where the page holds ``{{ aezoo help }}``.
"""

from __future__ import annotations

from typing import Any

import click

PLACEHOLDER = "{{ aezoo help }}"
WIDTH = 80  # columns of the help text: what fits the page, and click's own default


def _context(command: click.Command, name: str, parent: click.Context | None = None) -> click.Context:
    """The context click makes for ``command`` (its settings, e.g. ``-h`` for help), at a fixed width."""
    return click.Context(command, info_name=name, parent=parent,
                         **{"terminal_width": WIDTH, "max_content_width": WIDTH, **command.context_settings})


def reference() -> str:
    """The help of ``aezoo`` and then of each command, by name, each under its own heading."""
    from aezoo.cli import main

    root = _context(main, "aezoo")
    sections = ["## aezoo", "", "```text", main.get_help(root), "```", ""]
    for name in sorted(main.commands):
        command = main.commands[name]
        sections += [f"## aezoo {name}", "", "```text", command.get_help(_context(command, name, root)), "```", ""]
    return "\n".join(sections)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if page.file.src_uri != "cli.md":
        return markdown
    if PLACEHOLDER not in markdown:
        raise click.ClickException(f"docs/cli.md has no {PLACEHOLDER} line for the command reference.")
    return markdown.replace(PLACEHOLDER, reference())
