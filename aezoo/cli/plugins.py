"""``aezoo plugins``: what was discovered, from which distribution, what failed, and how long each took."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..settings import SLOW_PLUGIN_SECONDS
from .output import echo_json, echo_table

if TYPE_CHECKING:
    from ..registry import PluginRecord


def _status(record: PluginRecord) -> str:
    if not record.ok:
        return "broken"
    return "partial" if record.skipped else "ok"


def _provides(record: PluginRecord) -> str:
    if not record.ok:
        return record.error
    provided = ", ".join(record.models + record.datasets) or "-"
    if record.skipped:
        provided += "; skipped " + "; ".join(record.skipped)
    return provided


def _as_json(record: PluginRecord, timings: bool) -> dict[str, Any]:
    from dataclasses import asdict

    data = asdict(record)
    if not record.skipped:
        del data["skipped"]
    if timings:
        data["seconds"] = round(record.seconds, 4)
    else:
        del data["seconds"]
    return data


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.option(
    "--timings", is_flag=True,
    help=f"Show how long each plugin took to import and register, slowest first (over {SLOW_PLUGIN_SECONDS:g} s "
    "is slow).",
)
def plugins_command(as_json: bool, timings: bool) -> None:
    """List plugins: distribution, version, status, and what each registers (or its error)."""
    from ..registry import get_registry

    records = get_registry().plugins()
    if timings:
        records = sorted(records, key=lambda r: -r.seconds)
    if as_json:
        echo_json([_as_json(r, timings) for r in records])
        return
    header = ["PLUGIN", "DISTRIBUTION", "VERSION", "STATUS"] + (["SECONDS"] if timings else []) + ["PROVIDES"]
    echo_table(
        header,
        [
            [r.name, r.distribution, r.version or "-", _status(r)]
            + ([f"{r.seconds:.3f}" + (" slow" if r.seconds > SLOW_PLUGIN_SECONDS else "")] if timings else [])
            + [_provides(r)]
            for r in records
        ],
    )


COMMANDS = [plugins_command]
