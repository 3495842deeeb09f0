"""``aezoo train`` and ``aezoo finetune``: the one-call training API from the shell (imports torch).

``--nproc N`` runs the same command on N processes of this machine under torchrun; a command that
torchrun started (``torchrun ... -m aezoo train NAME``, on one machine or several) sets up its
process group itself, and only rank 0 writes and reports.
"""

from __future__ import annotations

from pathlib import Path

import click

from .options import device_option, hub_options, json_option, model_argument
from .output import echo_json

DATA_HELP = ("A data set name (aezoo datasets), NAME:PATH for one read from a file or folder "
             "(celeba:~/img_align_celeba), a folder of images or a CSV file")
FINETUNE_EPOCHS = 5  # aezoo.finetune's default (a test keeps them equal): a few epochs, not the recipe's run


def _common(function):
    options = [
        click.option("-o", "--output", "output_dir", type=click.Path(path_type=Path), help="Checkpoint folder."),
        device_option,
        click.option("--seed", type=int, help="Seed (default: the recipe's)."),
        click.option("--lr", type=float, help="Learning rate (default: the recipe's; for finetune a tenth of it)."),
        click.option("--batch-size", type=click.IntRange(min=1), help="Batch size (default: the recipe's)."),
        click.option("--no-resume", is_flag=True, help="Start over even if the output folder holds a training state."),
        click.option("--force-resume", is_flag=True, help="Resume even if the saved state was made with other "
                     "settings (lr, batch size, seed, recipe options, config); the card records both."),
        click.option("--overwrite", is_flag=True, help="Write into an output folder that holds files aezoo did not "
                     "write, replacing any that have the names of aezoo's outputs (nothing is deleted)."),
        click.option("--nproc", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Train data-parallel on this many processes of this machine (one per GPU on a GPU "
                     "machine; gloo on the CPU), launched with torchrun. Each takes --batch-size: the global "
                     "batch is nproc times it. Several machines: run torchrun yourself (docs/training.md)."),
        click.option("--tensorboard", is_flag=True, help="Also write TensorBoard events into OUTPUT/tensorboard "
                     "(the metrics.csv rows and the training losses every 50 steps; needs: pip install tensorboard)."),
        json_option,
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _overrides(seed: int | None, lr: float | None, batch_size: int | None) -> dict:
    given = {"seed": seed, "lr": lr, "batch_size": batch_size}
    return {k: v for k, v in given.items() if v is not None}


@click.command("train")
@model_argument()
@click.option("--data", help=f"{DATA_HELP} (default: the recipe's data set).")
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs (default: the recipe's).")
@_common
@click.option("--config", "config", help="JSON object overriding the architecture config, e.g. "
              "'{\"image_size\": 64, \"channels\": 3}'.")
def train_command(name, data, epochs, output_dir, device, seed, lr, batch_size, no_resume, force_resume,
                  overwrite, nproc, tensorboard, as_json, config) -> None:
    """Train NAME from scratch with its recipe; prints the checkpoint folder (metrics on stderr).

    \b
    Examples:
      aezoo train fc-dae-mnist -o runs/dae              # the recipe as the card states it
      aezoo train conv-vae-faces --data celeba:~/data/img_align_celeba --nproc 4
    """
    import json

    try:
        parsed = json.loads(config) if config else None
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--config") from exc
    if parsed is not None and not isinstance(parsed, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--config")
    if nproc > 1:
        return _launch(nproc)
    from ..training import train
    from ..training.distributed import rank_and_world, worker

    with worker(device) as rank_device:  # under torchrun: this rank's process group and device
        model = train(name, data=data, epochs=epochs, output_dir=output_dir, device=rank_device,
                      resume=not no_resume, config=parsed, overwrite=overwrite, force_resume=force_resume,
                      tensorboard=tensorboard, **_overrides(seed, lr, batch_size))
        if rank_and_world()[0] == 0:
            _report(model, as_json)


@click.command("finetune")
@model_argument()
@click.option("--data", required=True, help=f"{DATA_HELP}: the data to adapt the model to.")
@click.option("--epochs", type=click.IntRange(min=1), default=FINETUNE_EPOCHS, show_default=True, help="Epochs.")
@_common
@hub_options
def finetune_command(name, data, epochs, output_dir, device, seed, lr, batch_size, no_resume,
                     force_resume, overwrite, nproc, tensorboard, as_json, hub) -> None:
    """Fine-tune NAME (a name, org/name or hf:// hub repo, or a ./folder) from its pretrained weights on
    --data, with its recipe's other settings; prints the checkpoint folder (metrics on stderr).

    \b
    Example:
      aezoo finetune fc-dae-mnist --data ./my-digits --epochs 10 -o runs/mine
    """
    if nproc > 1:
        return _launch(nproc)
    from ..training import finetune
    from ..training.distributed import rank_and_world, worker

    with worker(device) as rank_device:  # under torchrun: this rank's process group and device
        model = finetune(name, data=data, epochs=epochs, output_dir=output_dir, device=rank_device,
                         resume=not no_resume, overwrite=overwrite, force_resume=force_resume,
                         tensorboard=tensorboard, **_overrides(seed, lr, batch_size), **hub)
        if rank_and_world()[0] == 0:
            _report(model, as_json)


def _launch(nproc: int) -> None:
    """Run this command again, without --nproc, on ``nproc`` processes under torchrun."""
    from ..training.distributed import launch, under_torchrun

    if under_torchrun():
        raise click.UsageError("--nproc launches torchrun, and this process already runs under it: leave --nproc out.")
    launch(nproc, _arguments(click.get_current_context()))


def _arguments(ctx: click.Context) -> list[str]:
    """The command line of ``ctx``'s command as given (every value that differs from its default), without --nproc."""
    args = [ctx.info_name or ctx.command.name or ""]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if param.name == "nproc" or value is None or (isinstance(param, click.Option) and value == param.default):
            continue
        if isinstance(param, click.Argument):
            args.append(str(value))
        elif isinstance(param, click.Option) and param.is_flag:
            if value:  # an unset flag's default is click's UNSET sentinel, not False: pass only flags given
                args.append(max(param.opts, key=len))
        elif isinstance(param, click.Option):
            args += [max(param.opts, key=len), str(value)]
    return args


def _report(model, as_json: bool) -> None:
    metrics = model.aezoo.card.metrics if model.aezoo.card else ()
    if as_json:
        echo_json({"output": str(model.aezoo.path), "metrics": {m.name: m.value for m in metrics}})
        return
    for metric in metrics:
        click.echo(f"{metric.name}: {metric.value:.4g}{' ' + metric.unit if metric.unit else ''}", err=True)
    click.echo(str(model.aezoo.path))


COMMANDS = [train_command, finetune_command]
