r"""Fine-tuning a pretrained network on a new domain: a fit loop and the transfer strategies.

* :func:`fit` — a small deterministic supervised training loop (mini-batches, optional
  validation split with early stopping, parameter groups, an extra penalty, progress bar),
  with :func:`evaluate`, :func:`predict` and :func:`predict_proba`;
* strategies (:mod:`tllab.finetune.strategies`) — partial freezing and the linear probe
  (:func:`~tllab.finetune.strategies.freeze_blocks`), discriminative learning rates
  (:func:`~tllab.finetune.strategies.layerwise_param_groups`), staying near the pretrained
  weights (:func:`~tllab.finetune.strategies.l2sp_penalty`,
  :class:`~tllab.finetune.strategies.L2SP`), re-estimating BatchNorm statistics on the target
  without labels (:func:`~tllab.finetune.strategies.adabn`), the from-scratch baseline
  (:func:`~tllab.finetune.strategies.reset_parameters`), and
  :func:`~tllab.finetune.strategies.fine_tune`, which runs one named strategy.

Models are expected to expose ``model.blocks`` (an ``nn.Sequential`` backbone) and
``model.head``, as :class:`~tllab.models.cnn.SmallCNN` and :class:`~tllab.models.cnn.MLP` do.
"""

from ._fit import Evaluation, FitResult, evaluate, fit, predict, predict_proba
from .strategies import (
    L2SP,
    STRATEGIES,
    adabn,
    fine_tune,
    freeze_blocks,
    l2sp_penalty,
    layerwise_param_groups,
    reset_parameters,
)

__all__ = [
    "FitResult",
    "Evaluation",
    "fit",
    "evaluate",
    "predict",
    "predict_proba",
    "STRATEGIES",
    "freeze_blocks",
    "layerwise_param_groups",
    "l2sp_penalty",
    "L2SP",
    "adabn",
    "reset_parameters",
    "fine_tune",
]
