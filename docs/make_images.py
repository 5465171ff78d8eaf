"""Make the README's pictures small: shrink the browser tests' screenshots into docs/images/.

The browser tests (tests/test_browser.py, tests/test_jupyterlab.py) take the
screenshots into tests/artifacts/; ``make images`` runs them and then this
script, which keeps the top of each page at 1,000 px wide in 128 colours.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
IMAGES = ROOT / "docs" / "images"
#: screenshot -> (README picture, at most this many pixels tall once 1,000 px wide)
PICTURES = {
    "dashboard-index.png": ("dashboard-index.png", 1100),
    "dashboard-run-page.png": ("dashboard-run-page.png", 1300),
    "jupyterlab-01_train.png": ("workbench-panels.png", 900),
}


def main() -> int:
    from PIL import Image

    IMAGES.mkdir(parents=True, exist_ok=True)
    missing = [name for name in PICTURES if not (ARTIFACTS / name).is_file()]
    for name, (target, max_height) in PICTURES.items():
        if name in missing:
            continue
        with Image.open(ARTIFACTS / name) as shot:
            shot = shot.convert("RGB")
            scale = 1000 / shot.width
            small = shot.resize((1000, round(shot.height * scale)), Image.LANCZOS)
            small = small.crop((0, 0, 1000, min(small.height, max_height)))
            small.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(IMAGES / target, optimize=True)
        print(f"{IMAGES / target}: {(IMAGES / target).stat().st_size / 1024:.0f} KiB")
    if missing:
        print(f"missing screenshots (run the browser tests first): {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
