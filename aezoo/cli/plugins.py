"""``aezoo plugins``: what was discovered, from which distribution, and what failed."""

from __future__ import annotations

from dataclasses import asdict

import click

from ..registry import get_registry
from .output import echo_json, echo_table


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def plugins_command(as_json: bool) -> None:
    """List plugins: distribution, version, status, and what each registers (or its error)."""
    records = get_registry().plugins()
    if as_json:
        echo_json([asdict(r) for r in records])
        return
    echo_table(
        ["PLUGIN", "DISTRIBUTION", "VERSION", "STATUS", "PROVIDES"],
        [
            [r.name, r.distribution, r.version or "-", "ok" if r.ok else "broken",
             ", ".join(r.models + r.datasets) if r.ok else r.error]
            for r in records
        ],
    )


COMMANDS = [plugins_command]
