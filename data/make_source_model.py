"""Build data/source_cnn.pt: the pretrained source CNN of the image-recognition chapter.

A SmallCNN trained on printed digits rendered from matplotlib's fonts
(tllab.data.render_digits), by the recipe tllab.studies.image_recognition.SOURCE_RECIPE:
seeded rendering, seeded initialisation, seeded batch order, one CPU thread. Regenerate with

    python data/make_source_model.py            # from the repository root, ~2-5 min on a CPU

The file stores the model's constructor arguments, its state_dict and metadata (the recipe,
the scores, fingerprints of the rendered training images and of the initial weights); it is
loaded with torch.load(..., weights_only=True) by tllab.models.load_source_cnn.
tests/test_image_recognition.py checks that the stored file loads and that the first steps of
a regeneration (rendered data, initial weights) reproduce its fingerprints.

Options: --out PATH (default data/source_cnn.pt), --progress (a progress bar).
"""

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tllab.models import SOURCE_CNN_PATH, save_source_cnn  # noqa: E402
from tllab.studies.image_recognition import train_source_cnn  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=SOURCE_CNN_PATH)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)  # reproducible reductions, and faster for these small layers
    start = time.perf_counter()
    model, meta = train_source_cnn(progress=args.progress)
    meta["build_seconds"] = round(time.perf_counter() - start, 1)
    path = save_source_cnn(model, args.out, meta)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB) in {meta['build_seconds']} s: "
          f"{meta['epochs_run']} epochs, rendered-validation accuracy "
          f"{meta['source_val_accuracy']:.4f}, target test accuracy (source only) "
          f"{meta['target_test_accuracy']:.4f}")


if __name__ == "__main__":
    main()
