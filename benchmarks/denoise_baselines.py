"""fc-dae-fashion-mnist against the series' own recipe and three classical denoisers, all on the
Fashion-MNIST test split with the card's noise. Run by hand (results go in docs/denoising.md and
the model card):

    apt-get install dataset-fashion-mnist      # or pass --path a folder holding the four idx files
    OMP_NUM_THREADS=1 python benchmarks/denoise_baselines.py [--json results.json]   # ~17 min, busy 2 cores

Protocol, the same for every denoiser:
- Data: Fashion-MNIST, the official split: 60,000 training and 10,000 test images, 28x28 in [0, 1].
- Test noise: exactly the card's (``DenoisingStep.evaluate``): pixel masking, each pixel zeroed with
  p = 0.5 (no rescaling), drawn batch by batch (256 images) from a generator seeded 0.
- Metrics: PSNR of the MSE pooled over all test pixels (outputs clipped to [0, 1]), and mean SSIM
  (Gaussian window 11, sigma 1.5, data range 1).
- Hyperparameters of the classical denoisers are chosen on a validation part of the training split
  (its last 5,000 images, fitted on the first 55,000), then refitted on all 60,000.
- ridge: a linear map (with bias) from noisy to clean pixels, fitted on two masked copies of every
  training image (seed 1), closed form; alpha chosen on validation.
- PCA: the top-k principal components of the clean training images; a noisy image is rescaled by
  1 / (1 - p) = 2 (an unbiased estimate of the clean one) and projected onto them; k chosen on
  validation.
- kNN: the k nearest clean training images to the noisy one, compared with the noisy image's
  expected value 0.5 * clean (a noisy-to-noisy distance favours dark images), averaged with
  weights 1 / distance; k chosen on validation; all 60,000 training images.
- series recipe: the notebook's model and training (Linear 784->1176, leaky_relu, Linear->784,
  sigmoid; Adam lr 1e-3, batch 100, 8 epochs = 4,800 iterations, MSE, torch seed 0), trained with
  the test's masking noise, and once more with the notebook's nn.Dropout(0.5) noise (which also
  doubles the kept pixels).
- fc-dae-fashion-mnist: the shipped weights (``--no-model`` skips them).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from aezoo.data import load_dataset
from aezoo.metrics import psnr_from_mse, ssim
from aezoo.training.steps import mask_pixels
from aezoo.training.steps.denoising_baselines import (
    apply_pca,
    apply_ridge,
    fit_ridge,
    knn_predict,
    noisy_pairs,
    pca_basis,
)

P = 0.5
VALIDATION = 5_000


def test_noise(clean: torch.Tensor) -> torch.Tensor:
    """The card's test noise, drawn exactly as DenoisingStep.evaluate draws it."""
    generator = torch.Generator().manual_seed(0)
    return torch.cat([mask_pixels(clean[i : i + 256], P, generator) for i in range(0, len(clean), 256)])


def scores(restored: torch.Tensor, clean: torch.Tensor) -> dict[str, float]:
    restored = restored.reshape(clean.shape).clamp(0, 1)
    return {"psnr": psnr_from_mse(float(((restored - clean) ** 2).mean())), "ssim": ssim(restored, clean)}


def psnr(restored: torch.Tensor, clean: torch.Tensor) -> float:
    return psnr_from_mse(float(((restored.reshape(clean.shape).clamp(0, 1) - clean) ** 2).mean()))


# --- ridge: noisy -> clean, closed form ---

def ridge(train: torch.Tensor, noisy_test: torch.Tensor, clean_test: torch.Tensor) -> tuple[dict, str]:
    flat = train.reshape(len(train), -1)
    noisy, clean_pairs = noisy_pairs(flat, P)
    in_fit = np.concatenate([np.arange(len(flat) - VALIDATION)] * 2) + np.repeat([0, len(flat)], len(flat) - VALIDATION)
    val_clean = flat[-VALIDATION:]
    val_noisy = mask_pixels(val_clean, P, torch.Generator().manual_seed(2))
    alphas = [0.1, 1.0, 10.0, 100.0, 1_000.0, 10_000.0]
    fitted = fit_ridge(noisy[in_fit], clean_pairs[in_fit], alphas)
    val = {a: psnr(torch.from_numpy(apply_ridge(w, val_noisy.numpy())).float(), val_clean) for a, w in fitted.items()}
    best = max(val, key=val.get)
    weights = fit_ridge(noisy, clean_pairs, [best])[best]
    restored = torch.from_numpy(apply_ridge(weights, noisy_test.reshape(len(noisy_test), -1).numpy())).float()
    return scores(restored, clean_test), f"alpha={best:g} (validation PSNR {val[best]:.2f} dB)"


# --- PCA of the clean images; project the rescaled noisy image ---

def pca(train: torch.Tensor, noisy_test: torch.Tensor, clean_test: torch.Tensor) -> tuple[dict, str]:
    val_clean = train[-VALIDATION:]
    val_noisy = mask_pixels(val_clean, P, torch.Generator().manual_seed(2))
    mean, basis = pca_basis(train[:-VALIDATION].flatten(1))
    ks = [5, 10, 15, 20, 30, 40, 50, 60, 80, 100, 150, 200]
    val = {k: psnr(apply_pca(mean, basis, k, val_noisy.flatten(1), P), val_clean) for k in ks}
    best = max(val, key=val.get)
    mean, basis = pca_basis(train.flatten(1))
    restored = apply_pca(mean, basis, best, noisy_test.flatten(1), P)
    return scores(restored, clean_test), f"k={best} (validation PSNR {val[best]:.2f} dB)"


# --- kNN regression: nearest clean training images to the noisy one ---

def knn(train: torch.Tensor, noisy_test: torch.Tensor, clean_test: torch.Tensor) -> tuple[dict, str]:
    val_clean = train[-VALIDATION:]
    val_noisy = mask_pixels(val_clean, P, torch.Generator().manual_seed(2))
    ks = [1, 3, 5, 10, 20, 40]
    predicted = knn_predict(train[:-VALIDATION].flatten(1), val_noisy.flatten(1), ks, P)
    val = {k: psnr(r, val_clean) for k, r in predicted.items()}
    best = max(val, key=val.get)
    restored = knn_predict(train.flatten(1), noisy_test.flatten(1), [best], P)[best]
    setting = f"k={best}, 1/distance weights, 60,000 references (validation PSNR {val[best]:.2f} dB)"
    return scores(restored, clean_test), setting


# --- the series' recipe, retrained on the same split ---

def series_recipe(
    train: torch.Tensor, noisy_test: torch.Tensor, clean_test: torch.Tensor, noise: str
) -> tuple[dict, str]:
    from aezoo_fc_dae_mnist.model import build
    from torch import nn

    torch.manual_seed(0)
    model = build()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    dropout = nn.Dropout(P)
    started = time.perf_counter()
    for _epoch in range(8):
        order = torch.randperm(len(train))
        for i in range(0, len(train), 100):
            clean = train[order[i : i + 100]]
            noisy = dropout(clean) if noise == "dropout" else mask_pixels(clean, P)
            loss = nn.functional.mse_loss(model(noisy), clean)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        restored = torch.cat([model(noisy_test[i : i + 256]) for i in range(0, len(noisy_test), 256)])
    seconds = time.perf_counter() - started
    return scores(restored, clean_test), f"4,800 iterations, trained with {noise} noise, {seconds:.0f} s"


def shipped(noisy_test: torch.Tensor, clean_test: torch.Tensor) -> tuple[dict, str]:
    import aezoo

    model = aezoo.load("fc-dae-fashion-mnist", device="cpu")
    with torch.no_grad():
        restored = torch.cat([model(noisy_test[i : i + 256]) for i in range(0, len(noisy_test), 256)])
    return scores(restored, clean_test), "the shipped weights"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--path", help="folder with the four Fashion-MNIST idx files (default: aezoo's search)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["ridge", "pca", "knn", "series", "series-dropout", "model"])
    args = parser.parse_args(argv)

    splits = load_dataset("fashion-mnist", **({"path": args.path} if args.path else {}))
    train, clean_test = splits.train.tensors[0], splits.test.tensors[0]
    noisy_test = test_noise(clean_test)
    rows: dict[str, dict] = {"noisy input": {**scores(noisy_test, clean_test), "setting": "no denoising"}}
    runs = {
        "ridge": lambda: ridge(train, noisy_test, clean_test),
        "pca": lambda: pca(train, noisy_test, clean_test),
        "knn": lambda: knn(train, noisy_test, clean_test),
        "series": lambda: series_recipe(train, noisy_test, clean_test, "mask"),
        "series-dropout": lambda: series_recipe(train, noisy_test, clean_test, "dropout"),
        "model": lambda: shipped(noisy_test, clean_test),
    }
    names = {"series": "series recipe (masking noise)", "series-dropout": "series recipe (nn.Dropout noise)",
             "model": "fc-dae-fashion-mnist"}
    for key, run in runs.items():
        if key in args.skip:
            continue
        started = time.perf_counter()
        result, setting = run()
        rows[names.get(key, key)] = {**result, "setting": setting, "seconds": round(time.perf_counter() - started, 1)}
        print(f"{names.get(key, key):34s} PSNR {result['psnr']:6.2f} dB  SSIM {result['ssim']:.4f}  ({setting})",
              file=sys.stderr, flush=True)

    print("\n| denoiser | PSNR (dB) | SSIM | setting |\n| --- | --- | --- | --- |")
    for name, row in rows.items():
        print(f"| {name} | {row['psnr']:.2f} | {row['ssim']:.4f} | {row['setting']} |")
    if args.json:
        args.json.write_text(json.dumps({
            "data": splits.description, "split": splits.split, "noise": f"pixel masking p={P}, seed 0",
            "torch": torch.__version__, "python": platform.python_version(), "results": rows,
        }, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
