"""`make demo` (examples/demo.py), the README's first command: it runs offline on the shipped weights,
denoises for real and writes its labelled grid."""

from __future__ import annotations

import re
import subprocess

from PIL import Image

from tests.conftest import PYTHON, ROOT, python_env


def test_the_demo_denoises_held_out_digits_with_the_shipped_weights(tmp_path):
    done = subprocess.run([PYTHON, str(ROOT / "examples" / "demo.py")], cwd=tmp_path, capture_output=True, text=True,
                          env=python_env(AEZOO_MIRRORS=str(ROOT / "weights"), HF_HUB_OFFLINE="1"), timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    noisy, denoised = map(float, re.search(r"PSNR ([\d.]+) dB noisy -> ([\d.]+) dB denoised", done.stdout).groups())
    assert denoised > noisy + 6
    with Image.open(tmp_path / "demo-output" / "denoised_digits.png") as grid:
        assert grid.width > 20 * 28 * 2 and grid.height > 3 * 28 * 2  # twenty digits in three labelled rows
