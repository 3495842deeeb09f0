"""``aezoo export``: one part of a model as an ONNX file, checked with onnxruntime (imports torch)."""

from __future__ import annotations

from pathlib import Path

import click

from .options import hub_options, json_option, model_argument
from .output import echo_json


@click.command("export")
@model_argument()
@click.option("--format", "fmt", type=click.Choice(["onnx"]), default="onnx", show_default=True,
              help="The file format (ONNX is the one supported).")
@click.option("--part", help="encoder, decoder, denoiser, generator, discriminator or detector, as the model has "
                             "them (default: the model's main task).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write (default: NAME-PART.onnx, NAME-PART-fp16.onnx with --half).")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Compare onnxruntime with PyTorch on batches of 1 and 5; nothing is written beyond tolerance.")
@click.option("--half", is_flag=True, help="Weights and computation in float16 (checked against float32).")
@click.option("--opset", type=int, help="The ONNX opset, 18 or later (default: the exporter's, 20).")
@click.option("--overwrite", is_flag=True, help="Replace the output file if it exists.")
@json_option
@hub_options
def export_command(name: str, fmt: str, part: str | None, output: Path | None, check: bool, half: bool,
                   opset: int | None, overwrite: bool, as_json: bool, hub: dict) -> None:
    """Export a part of NAME (a model name, checkpoint folder or hf:// reference) as an ONNX file with a
    dynamic batch axis; prints the file's path and the check's largest errors."""
    from ..export import export_onnx, require_exporter

    require_exporter()  # before the model is loaded
    report = export_onnx(name, output, part=part, opset=opset, check=check,
                         half=half, overwrite=overwrite, hub=hub)
    if as_json:
        echo_json(report.to_dict())
        return
    click.echo(report.path)
    if report.checked:
        click.echo(f"{report.part} ({report.dtype}, opset {report.opset}): onnxruntime vs PyTorch at batch sizes "
                   f"{', '.join(map(str, report.batch_sizes))}: max abs error {report.max_abs_error:.3g}, max rel "
                   f"error {report.max_rel_error:.3g}, within |error| <= {report.tolerance['abs']:g} + "
                   f"{report.tolerance['rel']:g} x |torch|", err=True)
    else:
        click.echo(f"{report.part} ({report.dtype}, opset {report.opset}): not checked (--no-check)", err=True)


COMMANDS = [export_command]
