r"""Data sets with a known distribution shift: toy generators and digit domains.

Two families, both seeded and returning torch tensors:

* **Toy generators** in two dimensions, one per kind of shift between a source law
  ``p_s(x, y)`` and a target law ``p_t(x, y)``:

  - :func:`covariate_shift`: ``p(x)`` moves, ``p(y | x)`` is shared;
  - :func:`prior_shift` (label shift): ``p(y)`` changes, ``p(x | y)`` is shared;
  - :func:`concept_shift`: ``p(x)`` is shared, ``p(y | x)`` changes;
  - :func:`gaussian_shift_pair`: unlabelled samples whose target can be moved, spread,
    rotated and blurred by noise (the distribution-shift explorer's data);
  - :func:`~tllab.data.toy.rotated_moons`: two half-moons, the target rotated (feature
    alignment).

  Each labelled generator returns a :class:`DomainPair` ``(xs, ys, xt, yt)``.

* **Digit domains** built on scikit-learn's bundled 8×8 handwritten digits
  (``sklearn.datasets.load_digits``, 1 797 images, nothing downloaded), with
  deterministic torch image transforms that mimic the usual causes of shift: sensor noise
  (:func:`add_sensor_noise`), lighting (:func:`adjust_brightness_contrast`) and slowly
  drifting orientation (:func:`rotate_images`).  :func:`load_digits_domain` applies them to
  one half of the images, :func:`digit_domains` returns a clean source half and a
  transformed target half for a named cause.

Random draws use a CPU ``torch.Generator`` seeded by ``seed`` and are then moved to
``device``, so the same seed gives the same numbers on every device.

The covariate-shift problems of the instance-weighting chapter (Shimodaira's regression and
its classification analogue) live in :mod:`tllab.data.covariate`.
"""

from ._common import DomainPair
from .corruptions import (
    add_sensor_noise,
    adjust_brightness_contrast,
    rotate_images,
)
from .covariate import (
    SHIMODAIRA,
    ShiftData,
    class_probability,
    cubic_function,
    gaussian_density_ratio,
    make_covariate_shift_classification,
    make_covariate_shift_regression,
)
from .digits import (
    DIGIT_CAUSES,
    digit_domains,
    digit_shift_params,
    load_digits_domain,
)
from .toy import (
    concept_shift,
    covariate_label_probability,
    covariate_shift,
    gaussian_shift_pair,
    prior_shift,
    rotated_moons,
)

__all__ = [
    "DomainPair",
    "covariate_label_probability",
    "covariate_shift",
    "prior_shift",
    "concept_shift",
    "gaussian_shift_pair",
    "rotated_moons",
    "SHIMODAIRA",
    "ShiftData",
    "cubic_function",
    "make_covariate_shift_regression",
    "class_probability",
    "make_covariate_shift_classification",
    "gaussian_density_ratio",
    "rotate_images",
    "adjust_brightness_contrast",
    "add_sensor_noise",
    "DIGIT_CAUSES",
    "load_digits_domain",
    "digit_shift_params",
    "digit_domains",
]
