"""Argument validation shared by every public function of :mod:`tllab`.

Each helper raises ``TypeError`` for the wrong kind of object and ``ValueError`` for a
value of the right kind that is not acceptable, always naming the argument and what
was expected, in the spirit of scikit-learn's ``check_array``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import torch

from ._scale import max_scale
from .device import as_tensor

__all__ = [
    "check_samples",
    "check_batch",
    "check_labels",
    "check_sample_pair",
    "check_probabilities",
    "check_positive_scalars",
    "check_choice",
    "check_int",
    "check_seeds",
    "check_real",
    "check_precision",
]


def _real_tensor(x, name: str) -> torch.Tensor:
    """``x`` as a real floating tensor (:func:`tllab.as_tensor`), any precision."""
    if isinstance(x, (str, bytes, dict)) or x is None:
        raise TypeError(f"{name} must be an array-like or a torch.Tensor; got {type(x).__name__}")
    try:
        t = as_tensor(x)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(
            f"{name} must be a numeric array-like or a torch.Tensor; got {type(x).__name__}"
        ) from err
    if t.is_complex():
        raise TypeError(f"{name} must be real-valued; got complex dtype {t.dtype}")
    return t


def _to_float_tensor(x, name: str) -> torch.Tensor:
    t = _real_tensor(x, name)
    check_precision(t, name)
    return t


def check_precision(t: torch.Tensor, name: str) -> None:
    """Refuse floating dtypes narrower than float32 (float16, bfloat16) with a TypeError.

    Half precision keeps about 3 significant digits and overflows at 65504: kernel sums,
    squared distances and sums of weights are meaningless in it, and several torch kernels
    (``cdist``) do not exist for it.  The caller casts explicitly (``x.float()``).
    """
    if t.is_floating_point() and torch.finfo(t.dtype).bits < 32:
        raise TypeError(f"{name} must be float32 or float64; got {t.dtype} (too coarse for "
                        f"kernel and weight sums): cast it with {name}.float()")


def _check_finite(t: torch.Tensor, name: str) -> None:
    if not bool(torch.isfinite(t).all()):
        n_nan = int(torch.isnan(t).sum())
        n_inf = int(torch.isinf(t).sum())
        raise ValueError(f"{name} must be finite; found {n_nan} NaN and {n_inf} inf entries")


def check_samples(x, name: str = "x", *, min_samples: int = 1) -> torch.Tensor:
    """Validate a sample matrix of shape ``(n_samples, n_features)``.

    A 1-D input is refused (it is ambiguous: n samples of one feature, or one sample of n
    features); the error says how to reshape it.
    """
    t = _to_float_tensor(x, name)
    if t.ndim == 1:
        raise ValueError(
            f"{name} must be 2-D with shape (n_samples, n_features); got a 1-D array of shape "
            f"{tuple(t.shape)}. Reshape with {name}.reshape(-1, 1) for one feature or "
            f"{name}.reshape(1, -1) for one sample."
        )
    if t.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D with shape (n_samples, n_features); got shape {tuple(t.shape)}"
        )
    if t.shape[1] == 0:
        raise ValueError(f"{name} must have at least one feature; got shape {tuple(t.shape)}")
    if t.shape[0] < min_samples:
        raise ValueError(
            f"{name} must have at least {min_samples} sample(s) for this estimator; "
            f"got {t.shape[0]}"
        )
    _check_finite(t, name)
    return t


def check_batch(
    x,
    name: str = "x",
    *,
    min_samples: int = 1,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Validate a batch of samples of any shape ``(n_samples, ...)``: vectors, images.

    Unlike :func:`check_samples` (feature matrices), any number of dimensions from two up
    is accepted; the batch must be real-valued, hold at least ``min_samples`` samples of at
    least one entry each, and be finite.  Integer and boolean data become the default
    floating dtype (as in :func:`tllab.as_tensor`); tensors stay where they are unless
    ``device`` is given.

    Parameters
    ----------
    x : array-like or torch.Tensor of shape (n_samples, ...)
    name : str, default="x"
        The argument's name, used in the error messages.
    min_samples : int, default=1
    device : torch.device or str, optional
        Move the result there (default: leave a tensor where it is; other inputs on the CPU).
    dtype : torch.dtype, optional
        Cast the result to it (default: keep a floating dtype).

    Returns
    -------
    torch.Tensor of shape (n_samples, ...)

    Raises
    ------
    TypeError
        ``x`` is not a numeric array-like, or is complex.
    ValueError
        ``x`` has fewer than two dimensions, too few samples, samples with no entries, or
        NaN or inf entries.

    Examples
    --------
    >>> import torch
    >>> from tllab._checks import check_batch
    >>> check_batch(torch.zeros(5, 1, 8, 8), "images").shape
    torch.Size([5, 1, 8, 8])
    >>> check_batch([1.0, 2.0], "x")
    Traceback (most recent call last):
    ...
    ValueError: x must have shape (n_samples, ...) with at least 2 dimensions; got shape (2,) \
(reshape a single feature with x.reshape(-1, 1))
    """
    t = _real_tensor(x, name)
    if t.ndim < 2:
        raise ValueError(
            f"{name} must have shape (n_samples, ...) with at least 2 dimensions; got shape "
            f"{tuple(t.shape)} (reshape a single feature with {name}.reshape(-1, 1))"
        )
    if t.shape[0] < min_samples:
        got = f"an empty batch of shape {tuple(t.shape)}" if t.shape[0] == 0 else t.shape[0]
        raise ValueError(f"{name} must have at least {min_samples} sample(s); got {got}")
    if t[0].numel() == 0:
        raise ValueError(f"{name} must have at least one feature; got shape {tuple(t.shape)}")
    _check_finite(t, name)
    return t.to(device=device, dtype=dtype)


_LABELS = "integer class labels 0, 1, 2, ..."


def check_labels(
    y,
    name: str = "y",
    n: int | None = None,
    *,
    x_name: str = "x",
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Validate class labels: a 1-D array of non-negative integer class indices.

    Integer dtypes are accepted; floating labels only when every entry is finite and
    integral-valued (``[0.0, 1.0, 1.0]``), as scikit-learn does; bool and complex are
    refused.  The result is ``torch.long``.

    Parameters
    ----------
    y : array-like or torch.Tensor of shape (n,)
    name : str, default="y"
        The argument's name, used in the error messages.
    n : int, optional
        The number of samples the labels belong to (None: any length).
    x_name : str, default="x"
        The name of those samples, for the length-mismatch message.
    device : torch.device or str, optional
        Move the result there (default: leave a tensor where it is; other inputs on the CPU).

    Returns
    -------
    torch.Tensor of shape (n,), dtype torch.long

    Raises
    ------
    TypeError
        ``y`` is not an array-like of numbers, or holds bool or complex values.
    ValueError
        ``y`` is not 1-D, does not have ``n`` entries, holds non-integral or non-finite
        floats, or negative labels.

    Examples
    --------
    >>> import numpy as np
    >>> from tllab._checks import check_labels
    >>> check_labels(np.array([0.0, 2.0, 1.0]), "y", 3)
    tensor([0, 2, 1])
    >>> check_labels([0, 1], "ys", 3, x_name="xs")
    Traceback (most recent call last):
    ...
    ValueError: ys must have one label per sample of xs: expected shape (3,), got (2,)
    """
    if isinstance(y, (str, bytes, dict)) or y is None:
        raise TypeError(f"{name} must be an array-like of class labels; got {type(y).__name__}")
    try:
        t = y if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y))
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{name} must be an array-like of {_LABELS}; "
                        f"got {type(y).__name__}") from err
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{name} must hold {_LABELS}; got dtype {t.dtype}")
    if t.ndim != 1:
        hint = f"; flatten it with {name}.reshape(-1)" if t.ndim == 2 and 1 in t.shape else ""
        raise ValueError(f"{name} must be 1-D with shape (n_samples,); got shape "
                         f"{tuple(t.shape)}{hint}")
    if n is not None and t.shape[0] != n:
        raise ValueError(f"{name} must have one label per sample of {x_name}: expected "
                         f"shape ({n},), got {tuple(t.shape)}")
    if t.is_floating_point():
        bad = ~torch.isfinite(t) | (t != t.round())
        if bool(bad.any()):
            raise ValueError(f"{name} must hold {_LABELS}; got {float(t[bad][0]):g} "
                             f"in a {t.dtype} array")
    if t.numel() and bool((t < 0).any()):
        raise ValueError(f"{name} must be non-negative class indices; smallest is "
                         f"{int(t.min())}")
    return t.to(device=device, dtype=torch.long)


def check_sample_pair(
    x, y, names: Sequence[str] = ("x", "y"), *, min_samples: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate two samples: same number of features, same device, a common float dtype."""
    tx = check_samples(x, names[0], min_samples=min_samples)
    ty = check_samples(y, names[1], min_samples=min_samples)
    if tx.shape[1] != ty.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same number of features; "
            f"got {tx.shape[1]} and {ty.shape[1]}"
        )
    if tx.device != ty.device:
        if not isinstance(y, torch.Tensor):
            ty = ty.to(tx.device)
        elif not isinstance(x, torch.Tensor):
            tx = tx.to(ty.device)
        else:
            raise ValueError(
                f"{names[0]} and {names[1]} must be on the same device; "
                f"got {tx.device} and {ty.device}"
            )
    dtype = torch.promote_types(tx.dtype, ty.dtype)
    return tx.to(dtype), ty.to(dtype)


def check_probabilities(
    p, name: str = "p", *, dim: int = -1, normalize: bool = False, atol: float | None = None
) -> torch.Tensor:
    """Validate probability vectors along ``dim``.

    Entries must be finite and non-negative.  With ``normalize=False`` each vector must
    already sum to one (within ``atol``: 1e-6 in float64, 1e-4 in lower precision);
    with ``normalize=True`` any non-negative vector with a positive sum is rescaled
    (scale-safely: entries of order 1e308 or 1e-308 are fine).
    """
    t = _to_float_tensor(p, name)
    if t.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension; got a scalar")
    try:
        size = t.shape[dim]
    except IndexError as err:
        raise ValueError(
            f"dim={dim} is out of range for {name} with shape {tuple(t.shape)}"
        ) from err
    if size == 0:
        raise ValueError(f"{name} must not be empty along dim={dim}; got shape {tuple(t.shape)}")
    _check_finite(t, name)
    if bool((t < 0).any()):
        raise ValueError(f"{name} must be non-negative; smallest entry is {float(t.min()):.4g}")
    if normalize:
        # Divided by a power of two near each vector's largest entry first (exact), so that
        # the sum of huge counts cannot overflow (1e308 + 1e308) nor tiny ones underflow.
        t = t / max_scale(t, dim=dim, keepdim=True)
        sums = t.sum(dim=dim, keepdim=True)
        if bool((sums <= 0).any()):
            raise ValueError(f"{name} must have a positive sum along dim={dim} to be normalised")
        return t / sums
    sums = t.sum(dim=dim, keepdim=True)
    if atol is None:
        atol = 1e-6 if t.dtype == torch.float64 else 1e-4
    worst = float((sums - 1).abs().max())
    if worst > atol:
        raise ValueError(
            f"{name} must sum to 1 along dim={dim} (within {atol:g}); the largest deviation is "
            f"{worst:.3g}. Pass normalize=True to rescale counts or unnormalised weights."
        )
    return t


def check_positive_scalars(value, name: str) -> list[float]:
    """Validate one positive number or a non-empty sequence of them; return a list of floats."""
    if isinstance(value, torch.Tensor):
        values = value.detach().reshape(-1).cpu().tolist()
    elif isinstance(value, np.ndarray):
        values = value.reshape(-1).tolist()
    elif isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        values = list(value)
    else:
        values = [value]
    if not values:
        raise ValueError(f"{name} must not be empty")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a positive number or a list of them; got {v!r}")
        v = float(v)
        if not math.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be positive and finite; got {v!r}")
        out.append(v)
    return out


def check_choice(value, name: str, options: Iterable[str]) -> str:
    """Validate that ``value`` is one of ``options`` (strings)."""
    options = tuple(options)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {options}; got {value!r}")
    if value not in options:
        raise ValueError(f"{name} must be one of {options}; got {value!r}")
    return value


def check_int(value, name: str, *, min_value: int | None = None) -> int:
    """Validate an integer (not a bool), optionally with a lower bound."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {value!r}")
    value = int(value)
    if min_value is not None and value < min_value:
        raise ValueError(f"{name} must be >= {min_value}; got {value}")
    return value


def check_seeds(seeds, name: str = "seeds", *, min_count: int = 1, why: str = "") -> list[int]:
    """Validate the random seeds of a study: a sequence of non-negative ints.

    Parameters
    ----------
    seeds : sequence of int
        A list, tuple, range or 1-D integer array.
    name : str, default="seeds"
        The argument's name, used in the error messages.
    min_count : int, default=1
        The fewest seeds the study needs.
    why : str, optional
        Why it needs ``min_count`` of them, appended to the message.

    Returns
    -------
    list of int

    Examples
    --------
    >>> from tllab._checks import check_seeds
    >>> check_seeds(range(3))
    [0, 1, 2]
    >>> check_seeds([0], min_count=2, why="a variance needs repetitions")
    Traceback (most recent call last):
    ...
    ValueError: seeds must hold at least 2 seeds (a variance needs repetitions); got 1
    """
    if isinstance(seeds, (str, bytes)) or not isinstance(
        seeds, (Sequence, range, np.ndarray, torch.Tensor)
    ):
        raise TypeError(f"{name} must be a sequence of ints; got {type(seeds).__name__}")
    out = [check_int(s.item() if isinstance(s, torch.Tensor) else s, name, min_value=0)
           for s in seeds]
    if not out:
        raise ValueError(f"{name} must not be empty")
    if len(out) < min_count:
        reason = f" ({why})" if why else ""
        raise ValueError(f"{name} must hold at least {min_count} seeds{reason}; got {len(out)}")
    return out


def check_real(
    value,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Validate a finite real number within optional bounds."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number; got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        raise ValueError(f"{name} must be {'>=' if low_inclusive else '>'} {low}; got {value}")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        raise ValueError(f"{name} must be {'<=' if high_inclusive else '<'} {high}; got {value}")
    return value


def check_vector(y, name: str, n: int | None = None) -> torch.Tensor:
    if isinstance(y, (str, bytes, dict)) or y is None:
        raise TypeError(f"{name} must be an array-like or a torch.Tensor; got {type(y).__name__}")
    try:
        t = as_tensor(y)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{name} must be a numeric array-like; got {type(y).__name__}") from err
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1:
        raise ValueError(f"{name} must be 1-D with shape (n,); got shape {tuple(t.shape)}")
    if n is not None and t.shape[0] != n:
        raise ValueError(f"{name} must have {n} entries to match x; got {t.shape[0]}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must be finite")
    return t


def check_weight_vector(w, n: int, like: torch.Tensor) -> torch.Tensor:
    if w is None:
        return like.new_ones(n)
    t = check_vector(w, "w", n).to(device=like.device, dtype=like.dtype)
    if bool((t < 0).any()):
        raise ValueError(f"w must be non-negative; smallest entry is {float(t.min()):.4g}")
    if float(t.sum()) <= 0:
        raise ValueError("w must have a positive sum")
    return t
