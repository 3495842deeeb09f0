"""``aezoo datasets``: the registered data sets and where each comes from (no torch)."""

from __future__ import annotations

import click

from .output import echo_json, echo_table


@click.command("datasets")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def datasets_command(as_json: bool) -> None:
    """List data sets usable as --data: name, kind, offline or not, source."""
    from ..data import list_datasets

    specs = list_datasets()
    if as_json:
        from dataclasses import asdict

        echo_json([asdict(s) for s in specs])
        return
    echo_table(["NAME", "KIND", "OFFLINE", "SOURCE"], [[s.name, s.kind, "yes" if s.offline else "no",
                                                        s.source] for s in specs])


COMMANDS = [datasets_command]
