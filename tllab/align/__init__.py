"""Feature alignment: make source and target representations meet.

* Shallow, closed-form or spectral maps fitted on ``(xs, xt)`` in the spirit of
  scikit-learn (``fit`` / ``transform`` / ``fit_transform``), on torch tensors on any device:
  :class:`~tllab.align.coral.CORAL`, :class:`~tllab.align.subspace.SubspaceAlignment` and
  :class:`~tllab.align.tca.TCA` (exact and with landmarks), plus the functional forms
  :func:`~tllab.align.coral.coral` and :func:`~tllab.align.subspace.subspace_alignment`.
* Deep, differentiable losses added to a network's training objective
  (:mod:`tllab.align.losses`): :func:`~tllab.align.losses.coral_loss` /
  :class:`~tllab.align.losses.CORALLoss` (Deep CORAL) and
  :func:`~tllab.align.losses.mmd_loss` / :class:`~tllab.align.losses.MMDLoss` (DDC, DAN).
  The adversarial alternative is in :mod:`tllab.adversarial` and the training loop in
  :mod:`tllab.adapt`.
"""

from .coral import CORAL, coral
from .losses import CORALLoss, MMDLoss, coral_loss, mmd_loss
from .subspace import SubspaceAlignment, subspace_alignment
from .tca import TCA

__all__ = [
    "CORAL",
    "coral",
    "SubspaceAlignment",
    "subspace_alignment",
    "TCA",
    "coral_loss",
    "mmd_loss",
    "CORALLoss",
    "MMDLoss",
]
