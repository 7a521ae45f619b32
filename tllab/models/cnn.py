r"""Small image classifiers for the deep-transfer chapters: a CNN and an MLP baseline.

Both are organised the same way, so that transfer strategies can name their parts:

* ``model.blocks`` — an :class:`torch.nn.Sequential` of blocks that maps images to the
  penultimate features (the *backbone*); "freeze the first ``k`` blocks" means
  ``model.blocks[:k]``;
* ``model.head`` — the classifier on top of the features (dropout, then one linear layer);
* ``model.features(x)`` — the penultimate features, ``model.head(model.features(x))`` equals
  ``model(x)``.

They train on a CPU in seconds per epoch on 8×8 digits.  Build them after
``torch.manual_seed`` (or :func:`tllab.seed_everything`) for reproducible initial weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .._checks import check_int, check_real

__all__ = ["SmallCNN", "MLP"]


def _check_dropout(dropout) -> float:
    return check_real(dropout, "dropout", low=0.0, high=1.0, high_inclusive=False)


class SmallCNN(nn.Module):
    r"""A three-block convolutional network for small grey-level images (8×8 digits and up).

    ======  ==========================================================  ===========
    block   layers                                                      output
    ======  ==========================================================  ===========
    0       conv 3×3 (``width``), [BatchNorm], ReLU                     ``h × w``
    1       conv 3×3 (``2·width``), [BatchNorm], ReLU, max-pool 2×2     ``h/2 × w/2``
    2       conv 3×3 (``4·width``), [BatchNorm], ReLU, global average   ``4·width``
    head    dropout(``dropout``), linear ``4·width → n_classes``        logits
    ======  ==========================================================  ===========

    All convolutions are padded ("same" size); the global average pool makes the network
    accept any image size of at least 2×2, so the same class serves the 8×8 digits and the
    larger renders of ``FULL_SCALE`` runs.  Block 0 sees 3×3 patches (strokes and edges),
    block 2 sees the whole digit (parts and shapes): the layers a transfer strategy freezes
    first are the generic ones.

    Parameters
    ----------
    n_classes : int >= 2, default=10
    in_channels : int >= 1, default=1
    width : int >= 1, default=16
        Channels of the first block (the others have ``2·width`` and ``4·width``).
    dropout : float in [0, 1), default=0.0
        Dropout probability before the linear head.
    batch_norm : bool, default=True
        BatchNorm after each convolution (the statistics AdaBN re-estimates).  Without it
        the convolutions carry a bias.

    Notes
    -----
    ``forward`` takes ``(n, in_channels, h, w)`` images; with ``in_channels=1`` a batch of
    ``(n, h, w)`` images is also accepted (the channel axis is added).

    Examples
    --------
    >>> import torch, tllab
    >>> _ = torch.manual_seed(0)
    >>> model = tllab.models.SmallCNN(width=8)
    >>> x = torch.rand(5, 1, 8, 8)
    >>> model(x).shape, model.features(x).shape, len(model.blocks)
    (torch.Size([5, 10]), torch.Size([5, 32]), 3)
    >>> bool(torch.allclose(model.head(model.features(x)), model(x)))
    True
    """

    def __init__(self, n_classes: int = 10, in_channels: int = 1, width: int = 16,
                 dropout: float = 0.0, batch_norm: bool = True) -> None:
        super().__init__()
        n_classes = check_int(n_classes, "n_classes", min_value=2)
        self.in_channels = check_int(in_channels, "in_channels", min_value=1)
        width = check_int(width, "width", min_value=1)
        dropout = _check_dropout(dropout)
        if not isinstance(batch_norm, bool):
            raise TypeError(f"batch_norm must be a bool; got {batch_norm!r}")

        def conv(c_in: int, c_out: int) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=not batch_norm)]
            if batch_norm:
                layers.append(nn.BatchNorm2d(c_out))
            return [*layers, nn.ReLU()]

        self.blocks = nn.Sequential(
            nn.Sequential(*conv(in_channels, width)),
            nn.Sequential(*conv(width, 2 * width), nn.MaxPool2d(2)),
            nn.Sequential(*conv(2 * width, 4 * width), nn.AdaptiveAvgPool2d(1), nn.Flatten()),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(4 * width, n_classes))
        self.n_features = 4 * width

    def _images(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3 and self.in_channels == 1:
            return x.unsqueeze(1)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"x must have shape (n, {self.in_channels}, height, width)"
                + (" or (n, height, width)" if self.in_channels == 1 else "")
                + f"; got {tuple(x.shape)}"
            )
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``(n, 4·width)``: the output of ``self.blocks``."""
        return self.blocks(self._images(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(n, n_classes)``."""
        return self.head(self.features(x))


class MLP(nn.Module):
    r"""A fully connected baseline: flatten, then ``Linear → ReLU → Dropout`` per hidden layer.

    ``model.blocks`` holds one block per hidden layer (the first one also flattens the
    input, so images of any shape with ``in_features`` pixels are accepted);
    ``model.head`` is the final linear layer.  With ``hidden=()`` the model is a
    multinomial logistic regression and ``blocks`` only flattens.

    Parameters
    ----------
    in_features : int >= 1
        Number of inputs per example (64 for 8×8 images).
    hidden : int or sequence of int, default=(128,)
        Widths of the hidden layers.
    n_classes : int >= 2, default=10
    dropout : float in [0, 1), default=0.0
        Dropout probability after each hidden activation.

    Examples
    --------
    >>> import torch, tllab
    >>> _ = torch.manual_seed(0)
    >>> model = tllab.models.MLP(64, hidden=(32, 16))
    >>> x = torch.rand(5, 8, 8)
    >>> model(x).shape, model.features(x).shape, len(model.blocks)
    (torch.Size([5, 10]), torch.Size([5, 16]), 2)
    """

    def __init__(self, in_features: int, hidden: int | Sequence[int] = (128,),
                 n_classes: int = 10, dropout: float = 0.0) -> None:
        super().__init__()
        in_features = check_int(in_features, "in_features", min_value=1)
        n_classes = check_int(n_classes, "n_classes", min_value=2)
        dropout = _check_dropout(dropout)
        if isinstance(hidden, (int,)) and not isinstance(hidden, bool):
            hidden = (hidden,)
        if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
            raise TypeError(f"hidden must be an int or a sequence of ints; got {hidden!r}")
        widths = [check_int(h, "hidden", min_value=1) for h in hidden]
        self.in_features = in_features
        blocks: list[nn.Module] = []
        prev = in_features
        for i, h in enumerate(widths):
            layers = [nn.Flatten()] if i == 0 else []
            layers += [nn.Linear(prev, h), nn.ReLU(), nn.Dropout(dropout)]
            blocks.append(nn.Sequential(*layers))
            prev = h
        self.blocks = nn.Sequential(*blocks) if blocks else nn.Sequential(nn.Flatten())
        self.head = nn.Linear(prev, n_classes)
        self.n_features = prev

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Output of the last hidden layer ``(n, hidden[-1])`` (the flattened input if none)."""
        if x.ndim < 2 or x[0].numel() != self.in_features:
            raise ValueError(
                f"x must have shape (n, ...) with {self.in_features} values per example; "
                f"got {tuple(x.shape)}"
            )
        return self.blocks(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(n, n_classes)``."""
        return self.head(self.features(x))
