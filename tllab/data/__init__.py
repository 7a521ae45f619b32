r"""Data sets with a known distribution shift: toy generators and digit domains.

Two families, both seeded and returning torch tensors:

* **Toy generators** in two dimensions, one per kind of shift between a source law
  ``p_s(x, y)`` and a target law ``p_t(x, y)``:

  - :func:`~tllab.data.toy.covariate_shift`: ``p(x)`` moves, ``p(y | x)`` is shared;
  - :func:`~tllab.data.toy.prior_shift` (label shift): ``p(y)`` changes, ``p(x | y)`` is shared;
  - :func:`~tllab.data.toy.concept_shift`: ``p(x)`` is shared, ``p(y | x)`` changes;
  - :func:`~tllab.data.toy.gaussian_shift_pair`: unlabelled samples whose target can be moved,
    spread, rotated and blurred by noise (the distribution-shift explorer's data);
  - :func:`~tllab.data.toy.rotated_moons`: two half-moons, the target rotated (feature
    alignment).

  Each labelled generator returns a :class:`DomainPair` ``(xs, ys, xt, yt)``.

* **Digit domains** built on scikit-learn's bundled 8×8 handwritten digits
  (``sklearn.datasets.load_digits``, 1 797 images, nothing downloaded), with
  deterministic torch image transforms that mimic the usual causes of shift: sensor noise
  (:func:`~tllab.data.corruptions.add_sensor_noise`), lighting
  (:func:`~tllab.data.corruptions.adjust_brightness_contrast`), slowly drifting orientation
  (:func:`~tllab.data.corruptions.rotate_images`) and defocus
  (:func:`~tllab.data.corruptions.gaussian_blur`).
  :func:`~tllab.data.digits.load_digits_domain` applies them to one half of the images,
  :func:`~tllab.data.digits.digit_domains` returns a clean source half and a transformed
  target half for a named cause.

* **Rendered digits** (:func:`~tllab.data.rendered.render_digits`): 0–9 printed in the fonts
  that ship with matplotlib and jittered like handwriting — a synthetic source domain for the
  real handwritten digits (:mod:`tllab.data.rendered`).

Random draws use a CPU ``torch.Generator`` seeded by ``seed`` and are then moved to
``device``, so the same seed gives the same numbers on every device.

The covariate-shift problems of the instance-weighting chapter (Shimodaira's regression and
its classification analogue) live in :mod:`tllab.data.covariate`; the generalisation
chapter's regression between two Beta laws on [−1, 1] in :mod:`tllab.data.interval`, and
label-preserving random image transforms for data augmentation in :mod:`tllab.data.augment`;
the selective-transfer problems with a known answer (which features transfer, which source
points are relevant, two related tasks) in :mod:`tllab.data.selective`.
"""

from ._common import DomainPair
from .augment import augment_images, random_crop, random_rotation, random_scaling
from .corruptions import (
    add_sensor_noise,
    adjust_brightness_contrast,
    gaussian_blur,
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
from .interval import (
    INTERVAL_SHIFT,
    beta_density_ratio,
    beta_law_quadrature,
    make_interval_shift_regression,
    wiggly_function,
)
from .rendered import DIGIT_FONTS, render_digits
from .selective import (
    FeatureShiftData,
    MixedSourceData,
    RelatedTasks,
    make_feature_shift,
    make_mixed_source,
    make_related_tasks,
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
    "INTERVAL_SHIFT",
    "wiggly_function",
    "beta_law_quadrature",
    "beta_density_ratio",
    "make_interval_shift_regression",
    "rotate_images",
    "adjust_brightness_contrast",
    "add_sensor_noise",
    "random_rotation",
    "random_scaling",
    "random_crop",
    "augment_images",
    "gaussian_blur",
    "DIGIT_CAUSES",
    "load_digits_domain",
    "digit_shift_params",
    "digit_domains",
    "DIGIT_FONTS",
    "render_digits",
    "FeatureShiftData",
    "make_feature_shift",
    "MixedSourceData",
    "make_mixed_source",
    "RelatedTasks",
    "make_related_tasks",
]
