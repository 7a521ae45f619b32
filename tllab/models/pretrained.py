r"""The stored pretrained source CNN: save and load with ``torch.load(..., weights_only=True)``.

The file ``data/source_cnn.pt`` of the repository holds a :class:`~tllab.models.cnn.SmallCNN`
trained on rendered digits (:func:`~tllab.data.rendered.render_digits`) by
``data/make_source_model.py``.  It is a plain dictionary — the model's constructor
arguments, its ``state_dict`` and a ``metadata`` dictionary (training recipe, scores,
fingerprints) — so it loads without unpickling arbitrary objects.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .cnn import SmallCNN

__all__ = ["SOURCE_CNN_PATH", "REBUILD_COMMAND", "save_source_cnn", "load_source_cnn"]

#: Where the repository keeps the pretrained source model.
SOURCE_CNN_PATH = Path(__file__).resolve().parents[2] / "data" / "source_cnn.pt"

#: The command that regenerates it (from the repository root).
REBUILD_COMMAND = "python data/make_source_model.py"

_FORMAT = "tllab-source-cnn"
_VERSION = 1


def save_source_cnn(model: SmallCNN, path: str | Path, metadata: dict | None = None) -> Path:
    """Write ``model`` (a :class:`~tllab.models.cnn.SmallCNN`) and ``metadata`` to ``path``.

    The model's constructor arguments are read from the model itself; ``metadata`` may hold
    only what ``torch.load(..., weights_only=True)`` accepts (numbers, strings, lists, dicts,
    tensors).  Tensors are saved from the CPU.

    Examples
    --------
    >>> import tempfile, pathlib, tllab
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "cnn.pt"
    >>> _ = tllab.models.save_source_cnn(tllab.models.SmallCNN(width=4), path, {"note": "demo"})
    >>> tllab.models.load_source_cnn(path).metadata["note"]
    'demo'
    """
    if not isinstance(model, SmallCNN):
        raise TypeError(f"model must be a tllab.models.SmallCNN; got {type(model).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict; got {type(metadata).__name__}")
    path = Path(path)
    blob = {
        "format": _FORMAT,
        "version": _VERSION,
        "config": dict(model.config),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "metadata": dict(metadata or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.save(blob, path)
        torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - whatever the pickler or unpickler refuses
        path.unlink(missing_ok=True)
        raise TypeError("metadata must hold only numbers, strings, lists, dicts and tensors "
                        f"(what torch.load(..., weights_only=True) accepts): {err}") from err
    return path


def _corrupt(path: Path, why: str) -> ValueError:
    return ValueError(f"{path} is not a valid tllab source model ({why}); rebuild it with "
                      f"`{REBUILD_COMMAND}` from the repository root")


def load_source_cnn(path: str | Path | None = None, *,
                    device: torch.device | str | None = None) -> SmallCNN:
    """Load the pretrained source CNN (in eval mode), with its ``metadata`` attached.

    Parameters
    ----------
    path : str or Path, optional
        Default: :data:`SOURCE_CNN_PATH` (``data/source_cnn.pt`` of the repository).
    device : torch.device or str, optional
        Where to put the model (default: :func:`tllab.default_device`).

    Returns
    -------
    SmallCNN
        With an extra attribute ``metadata`` (dict): the training recipe, the scores
        measured when it was made and fingerprints of its data and initial weights.

    Raises
    ------
    FileNotFoundError
        If the file does not exist; the message says how to rebuild it.
    ValueError
        If the file is not a readable source model (truncated, wrong format, weights that do
        not fit the architecture); the message says how to rebuild it.

    Examples
    --------
    >>> import tllab
    >>> model = tllab.models.load_source_cnn(device="cpu")
    >>> model.config["width"], model.metadata["recipe"]["n_train"]
    (16, 20000)
    """
    from ..device import default_device

    path = SOURCE_CNN_PATH if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"the pretrained source model {path} is missing; build it with "
                                f"`{REBUILD_COMMAND}` from the repository root (a few minutes "
                                "on a CPU)")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file gets the same advice
        raise _corrupt(path, f"unreadable: {type(err).__name__}") from err
    if not isinstance(blob, dict) or blob.get("format") != _FORMAT:
        raise _corrupt(path, "unknown format")
    if blob.get("version") != _VERSION:
        raise _corrupt(path, f"format version {blob.get('version')!r}, expected {_VERSION}")
    try:
        model = SmallCNN(**blob["config"])
        model.load_state_dict(blob["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise _corrupt(path, f"weights do not fit: {err}") from err
    model.metadata = dict(blob.get("metadata", {}))
    model.to(default_device() if device is None else device)
    return model.eval()

