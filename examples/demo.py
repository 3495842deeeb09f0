"""`make demo`: load the shipped denoiser by name, clean up noisy held-out digits, save a grid.

Runs offline: in a source checkout the weights resolve from ./weights (verified by sha256)."""

from __future__ import annotations

from pathlib import Path

import torch

import aezoo
from aezoo.data import load_dataset
from aezoo.metrics import psnr_from_mse
from aezoo.plots import plot_image_rows
from aezoo.training.steps import mask_pixels

OUTPUT = Path("demo-output/denoised_digits.png")


def main() -> None:
    model = aezoo.load("fc-dae-mnist", device="cpu")
    print(f"loaded fc-dae-mnist from {model.aezoo.path}")

    test = load_dataset("mnist-5k").test  # held out: never seen in training
    clean = torch.stack([test[digit * 100 + k][0] for k in range(2) for digit in range(10)])
    noisy = mask_pixels(clean, 0.5, torch.Generator().manual_seed(1))  # half the pixels zeroed
    restored = model.denoise(noisy)

    before = psnr_from_mse(float(((noisy - clean) ** 2).mean()))
    after = psnr_from_mse(float(((restored - clean) ** 2).mean()))
    plot_image_rows([clean, noisy, restored], ["clean", "noisy", "denoised"], OUTPUT,
                    title=f"half the pixels zeroed: PSNR {before:.1f} dB noisy, {after:.1f} dB denoised")
    print(f"denoised {len(clean)} held-out digits: PSNR {before:.1f} dB noisy -> {after:.1f} dB denoised")
    print(f"labelled grid (rows: clean, noisy, denoised): {OUTPUT.resolve()}")


if __name__ == "__main__":
    main()
