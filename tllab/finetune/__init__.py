r"""Fine-tuning a pretrained network on a new domain: a fit loop and the transfer strategies.

* :func:`fit` — a small deterministic supervised training loop (mini-batches, optional
  validation split with early stopping, parameter groups, an extra penalty, progress bar),
  with :func:`evaluate`, :func:`predict` and :func:`predict_proba`.
"""

from ._fit import Evaluation, FitResult, evaluate, fit, predict, predict_proba

__all__ = ["FitResult", "Evaluation", "fit", "evaluate", "predict", "predict_proba"]
