"""Feature alignment: make source and target representations meet.

* Deep, differentiable losses added to a network's training objective
  (:mod:`tllab.align.losses`): :func:`coral_loss` / :class:`CORALLoss` (Deep CORAL) and
  :func:`mmd_loss` / :class:`MMDLoss` (DDC, DAN).  The adversarial alternative is in
  :mod:`tllab.adversarial` and the training loop in :mod:`tllab.adapt`.
"""

from .losses import CORALLoss, MMDLoss, coral_loss, mmd_loss

__all__ = ["coral_loss", "mmd_loss", "CORALLoss", "MMDLoss"]
