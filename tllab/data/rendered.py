r"""A synthetic source domain for the digits: 0–9 rendered from the fonts that ship with
matplotlib, jittered like handwriting, at the resolution of scikit-learn's digits.

scikit-learn's 8×8 digits (the target domain, :mod:`tllab.data.digits`) were made by
counting the ink pixels of 32×32 binary scans in 4×4 blocks (16 grey levels).
:func:`render_digits` follows the same recipe on printed digits: each glyph is drawn by
matplotlib's Agg rasteriser on a fine grid (``4·size`` pixels a side), moved by a random
affine map (rotation, shear, scale, aspect, shift), thickened or thinned (stroke width),
blurred, averaged down to ``size × size`` blocks, given sensor noise and quantised to
``levels`` grey levels.  Nothing is downloaded: the fonts are matplotlib's own files
(:data:`DIGIT_FONTS`), so the images are the same wherever the same matplotlib is installed.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import torch

from .._checks import check_int, check_real
from ._common import _check_dtype, _generator
from .corruptions import gaussian_blur

__all__ = ["DIGIT_FONTS", "render_digits"]

#: The matplotlib font files the digits are rendered from (``mpl-data/fonts/ttf``): DejaVu
#: Sans, Sans Mono and Serif and STIX General in four styles each, and five Computer Modern
#: faces (roman, bold, sans, typewriter, text italic) — 21 faces of printed digits.
DIGIT_FONTS: tuple[str, ...] = tuple(
    [f"DejaVu{family}{style}.ttf" for family in ("Sans", "SansMono")
     for style in ("", "-Bold", "-Oblique", "-BoldOblique")]
    + [f"DejaVuSerif{style}.ttf" for style in ("", "-Bold", "-Italic", "-BoldItalic")]
    + [f"STIXGeneral{style}.ttf" for style in ("", "Bol", "Italic", "BolIta")]
    + ["cmr10.ttf", "cmb10.ttf", "cmss10.ttf", "cmtt10.ttf", "cmti10.ttf"]
)

_OVERSAMPLE = 4  # raster pixels per output pixel, as sklearn's 32×32 scans for 8×8 digits
_GLYPH_HEIGHT = 1.0  # glyph height as a fraction of the frame before the random scale


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@functools.lru_cache(maxsize=8)
def _glyphs(fonts: tuple[str, ...], raster: int) -> np.ndarray:
    """Coverage masks ``(n_fonts, 10, raster, raster)`` in [0, 1], glyphs centred and scaled
    so that the taller side fills ``_GLYPH_HEIGHT`` of the frame."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    out = np.zeros((len(fonts), 10, raster, raster))
    box = _GLYPH_HEIGHT * raster
    for i, name in enumerate(fonts):
        path = _font_dir() / name
        if not path.is_file():
            raise ValueError(f"font {name!r} is not among matplotlib's fonts in {path.parent}")
        prop = FontProperties(fname=str(path))
        for digit in range(10):
            glyph = TextPath((0, 0), str(digit), prop=prop, size=1)
            ext = glyph.get_extents()
            s = box / max(ext.height, ext.width)
            tr = (Affine2D().translate(-(ext.x0 + ext.x1) / 2, -(ext.y0 + ext.y1) / 2)
                  .scale(s).translate(raster / 2, raster / 2))
            renderer = RendererAgg(raster, raster, 72)
            gc = renderer.new_gc()
            gc.set_antialiased(True)
            gc.set_linewidth(0)
            renderer.draw_path(gc, glyph, tr, (0, 0, 0, 1))
            out[i, digit] = np.asarray(renderer.buffer_rgba())[:, :, 3] / 255.0
    return out


def _uniform(gen: torch.Generator, n: int, low: float, high: float) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=gen, dtype=torch.float64)


def _range(value, name: str, *, low: float = -math.inf) -> tuple[float, float]:
    if isinstance(value, (tuple, list)) and len(value) == 2:
        a = check_real(value[0], f"{name}[0]", low=low)
        b = check_real(value[1], f"{name}[1]", low=low)
        if a > b:
            raise ValueError(f"{name} must be a (low, high) pair with low <= high; got {value}")
        return a, b
    raise TypeError(f"{name} must be a (low, high) pair of numbers; got {value!r}")


def _affine(images: torch.Tensor, gen: torch.Generator, rotation, shear, scale, aspect,
            translate) -> torch.Tensor:
    n = images.shape[0]
    angle = torch.deg2rad(_uniform(gen, n, -rotation, rotation))
    sh = _uniform(gen, n, -shear, shear)
    s = _uniform(gen, n, *scale)
    sx = s * _uniform(gen, n, *aspect)
    t = _uniform(gen, 2 * n, -translate, translate).reshape(2, n)
    c, si = torch.cos(angle), torch.sin(angle)
    # forward map (glyph -> image): rotate · shear · diag(sx, s); grid_sample needs its inverse
    fwd = torch.stack([torch.stack([c * sx, (c * sh - si) * s], 1),
                       torch.stack([si * sx, (si * sh + c) * s], 1)], 1)
    inv = torch.linalg.inv(fwd)
    theta = torch.cat([inv, -(inv @ (2 * t.T).unsqueeze(2))], 2).to(images.dtype)
    grid = torch.nn.functional.affine_grid(theta, list(images.shape), align_corners=False)
    return torch.nn.functional.grid_sample(images, grid, mode="bilinear", padding_mode="zeros",
                                           align_corners=False)


def _stroke(images: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """Grey-level dilation (radius > 0) or erosion (radius < 0) by a square of side 2|r|+1."""
    out = images.clone()
    for r in radius.unique().tolist():
        if r == 0:
            continue
        sel = radius == r
        k = 2 * abs(r) + 1
        x = images[sel]
        pooled = torch.nn.functional.max_pool2d(x if r > 0 else -x, k, stride=1, padding=abs(r))
        out[sel] = pooled if r > 0 else -pooled
    return out


def render_digits(
    n: int,
    *,
    size: int = 8,
    fonts: tuple[str, ...] | list[str] | None = None,
    rotation: float = 12.0,
    shear: float = 0.3,
    scale: tuple[float, float] = (0.85, 1.0),
    aspect: tuple[float, float] = (0.8, 1.15),
    translate: float = 0.04,
    stroke: tuple[int, int] = (0, 1),
    blur: float = 1.0,
    noise: float = 0.05,
    levels: int | None = 16,
    seed: int = 0,
    flatten: bool = False,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Printed digits 0–9 from matplotlib's fonts, jittered like handwriting (the source domain).

    Each image picks a digit (balanced: every class appears ``n // 10`` or ``n // 10 + 1``
    times, in a random order), a font from ``fonts`` uniformly at random, and independent
    random draws of every jitter below.  On a raster of ``4·size`` pixels a side the glyph,
    centred with its taller side filling the frame, is

    1. moved by an affine map: rotation ``U(−rotation, rotation)`` degrees, horizontal
       shear ``U(−shear, shear)``, scale ``U(scale)``, horizontal aspect ``U(aspect)`` and a
       shift ``U(−translate, translate)`` of the frame width along each axis;
    2. thickened or thinned by a grey-level dilation/erosion of integer radius
       ``r ∈ {stroke[0], …, stroke[1]}`` raster pixels (uniform; negative thins);
    3. blurred by a Gaussian of standard deviation ``U(0, blur)`` raster pixels
       (:func:`~tllab.data.gaussian_blur`);
    4. averaged over ``4 × 4`` raster blocks to ``size × size`` pixels in ``[0, 1]``;
    5. given Gaussian sensor noise of standard deviation ``U(0, noise)``, clipped to
       ``[0, 1]`` and rounded to ``levels`` grey levels (``round(levels·x) / levels``, as
       scikit-learn's digits, whose intensities are counts 0–16), unless ``levels=None``.

    The draws come from a CPU generator seeded by ``seed`` and the work is done on the CPU,
    so a seed gives the same images on every device.  The defaults were tuned so that the
    mean intensity and ink fraction match scikit-learn's digits (about 0.31 and 0.29).

    Parameters
    ----------
    n : int >= 1
        Number of images.
    size : int >= 4, default=8
        Output side in pixels (8 matches scikit-learn's digits; larger for ``FULL_SCALE``).
    fonts : sequence of str, optional
        Font file names from :data:`DIGIT_FONTS` (default: all of them).
    rotation, shear, translate : float >= 0
    scale, aspect : (float, float) with 0 < low <= high
    stroke : (int, int) with low <= high
    blur, noise : float >= 0
    levels : int >= 1 or None, default=16
    seed : int >= 0, default=0
    flatten : bool, default=False
        Return ``(n, size²)`` feature vectors instead of ``(n, size, size)`` images.
    dtype : torch.dtype, default=torch.float64
    device : torch.device or str, optional

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        Images in ``[0, 1]`` and labels (``torch.long``, digits 0–9).

    Examples
    --------
    >>> import tllab
    >>> x, y = tllab.data.render_digits(30, seed=1)
    >>> x.shape, y.bincount().tolist()
    (torch.Size([30, 8, 8]), [3, 3, 3, 3, 3, 3, 3, 3, 3, 3])
    >>> bool(((x * 16) == (x * 16).round()).all())  # 17 grey levels, like load_digits
    True
    """
    n = check_int(n, "n", min_value=1)
    size = check_int(size, "size", min_value=4)
    if fonts is None:
        fonts = DIGIT_FONTS
    if isinstance(fonts, str) or not isinstance(fonts, (tuple, list)) or not fonts:
        raise TypeError(f"fonts must be a non-empty sequence of font file names; got {fonts!r}")
    unknown = [f for f in fonts if f not in DIGIT_FONTS]
    if unknown:
        raise ValueError(f"fonts must be names from DIGIT_FONTS; unknown: {unknown}")
    rotation = check_real(rotation, "rotation", low=0.0)
    shear = check_real(shear, "shear", low=0.0)
    translate = check_real(translate, "translate", low=0.0)
    scale = _range(scale, "scale", low=1e-3)
    aspect = _range(aspect, "aspect", low=1e-3)
    if (not isinstance(stroke, (tuple, list)) or len(stroke) != 2):
        raise TypeError(f"stroke must be a (low, high) pair of ints; got {stroke!r}")
    s_lo, s_hi = (check_int(v, "stroke", min_value=-4 * size) for v in stroke)
    if s_lo > s_hi:
        raise ValueError(f"stroke must be a (low, high) pair with low <= high; got {stroke}")
    blur = check_real(blur, "blur", low=0.0)
    noise = check_real(noise, "noise", low=0.0)
    if levels is not None:
        levels = check_int(levels, "levels", min_value=1)
    if not isinstance(flatten, bool):
        raise TypeError(f"flatten must be a bool; got {flatten!r}")
    dtype = _check_dtype(dtype)
    gen = _generator(seed)

    raster = _OVERSAMPLE * size
    base = torch.as_tensor(_glyphs(tuple(fonts), raster), dtype=torch.float32)
    labels = (torch.arange(n) % 10)[torch.randperm(n, generator=gen)]
    font = torch.randint(len(fonts), (n,), generator=gen)
    x = base[font, labels].unsqueeze(1)
    x = _affine(x, gen, rotation, shear, scale, aspect, translate)
    x = _stroke(x, torch.randint(s_lo, s_hi + 1, (n,), generator=gen))
    x = gaussian_blur(x[:, 0], _uniform(gen, n, 0.0, blur)).unsqueeze(1)
    x = torch.nn.functional.avg_pool2d(x, _OVERSAMPLE)[:, 0]
    sd = _uniform(gen, n, 0.0, noise).reshape(n, 1, 1)
    x = (x.double() + sd * torch.randn(x.shape, generator=gen, dtype=torch.float64)).clamp(0, 1)
    if levels is not None:
        x = torch.round(x * levels) / levels
    if flatten:
        x = x.reshape(n, -1)
    return x.to(device=device, dtype=dtype), labels.to(device=device)
