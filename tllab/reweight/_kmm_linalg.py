"""Linear algebra of the KMM solvers: the source Gram matrix as an operator and an
in-place Cholesky factorisation (one matrix of memory, not two)."""

from __future__ import annotations

import torch

from ..kernels import _kernel_matvec_centred, _tile


class _Gram:
    """The source Gram matrix ``K`` as an operator: cached (``dense``) or tiled.

    Inputs are the centred source points; products come back in the ``work`` dtype.
    ``products`` counts the kernel products (full or partial) used so far.

    With ``exact`` (the second-order solver) every tiled product and every block copy
    evaluates ``K`` in the same row tiles (``rows × n`` points) and accumulates in the work
    dtype, so the operator, its copies and a cached ``K`` agree on one matrix: float32
    kernel values are then a fixed perturbation of the problem, not rounding noise that
    an interior point cannot reduce.  Otherwise (first order) products use
    :func:`~tllab.kernels.kernel_matvec`'s symmetric ``block × block`` tiles.
    """

    def __init__(self, x, kernel, bandwidths, block, dense, work, exact=True):
        self.x, self.kernel, self.bandwidths, self.block = x, kernel, bandwidths, block
        self.work, self.n, self.exact = work, x.shape[0], exact
        # rows per tile: ``rows × n`` values stay within one ``block × block`` tile
        self.rows = max(1, min(512, block * block // max(self.n, 1)))
        self.sq = (x * x).sum(1)
        self.diag = float(len(bandwidths))  # k(x, x) = 1 for each bandwidth
        self.products = 0
        # Relative rounding noise of the products: float64 accumulation of the stored or
        # re-evaluated values is exact for them up to the work dtype's rounding.
        self.eps = torch.finfo(work if dense or exact else x.dtype).eps
        self.K = None
        if dense:
            self.K = torch.empty(self.n, self.n, dtype=x.dtype, device=x.device)
            for r0 in range(0, self.n, self.rows):
                r1 = min(r0 + self.rows, self.n)
                self.K[r0:r1] = self._rows(x, self.sq, r0, r1)
            self.K.diagonal().fill_(self.diag)

    def _rows(self, x, sq, r0, r1):
        """Kernel values of rows ``r0:r1`` of ``x`` against all of ``x`` (input dtype)."""
        return _tile(x[r0:r1], x, sq[r0:r1], sq, self.kernel, self.bandwidths)

    def _tiled_product(self, v):
        """``K v`` by row tiles, accumulated in the work dtype."""
        out = torch.empty(self.n, dtype=self.work, device=v.device)
        for r0 in range(0, self.n, self.rows):
            r1 = min(r0 + self.rows, self.n)
            k = self._rows(self.x, self.sq, r0, r1)
            i = torch.arange(r1 - r0, device=k.device)
            k[i, i + r0] = self.diag
            out[r0:r1] = k.to(self.work) @ v
        return out

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        """``K v``."""
        self.products += 1
        if self.K is not None:
            if self.K.dtype == self.work:
                return self.K @ v
            rows = max(1, 2**22 // self.n)  # float64 copies of a few rows at a time
            out = torch.empty(self.n, dtype=self.work, device=v.device)
            for r0 in range(0, self.n, rows):
                out[r0:r0 + rows] = self.K[r0:r0 + rows].to(self.work) @ v
            return out
        if self.exact:
            return self._tiled_product(v)
        out = _kernel_matvec_centred(self.x, None, v.to(self.x.dtype).unsqueeze(1), self.kernel,
                                     self.bandwidths, self.block, False)
        return out.squeeze(1).to(self.work)

    def _scatter(self, idx: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """The length-``n`` vector that is ``v`` on ``idx`` and 0 elsewhere."""
        full = torch.zeros(self.n, dtype=self.work, device=v.device)
        full[idx] = v
        return full

    def cols_matvec(self, idx: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """``K[:, idx] v`` (one full product)."""
        return self.matvec(self._scatter(idx, v))

    def sub_matvec(self, idx: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """``K[idx][:, idx] v``."""
        if idx.numel() == self.n:
            return self.matvec(v)
        return self.matvec(self._scatter(idx, v))[idx]

    def sub_operator(self, idx: torch.Tensor):
        """``v ↦ K[idx][:, idx] v`` for repeated use: for a proper subset ``idx``, a
        work-dtype copy of the block (:meth:`sub`) makes each product ``O(|idx|²)`` and
        equal to the matrix that is factorised."""
        if idx.numel() == self.n:
            return self.matvec
        q = self.sub(idx)

        def apply(v):
            self.products += 1
            return q @ v

        return apply

    def sub(self, idx: torch.Tensor) -> torch.Tensor:
        """A new ``work``-dtype copy of ``K[idx][:, idx]`` (to be factorised in place).

        Gathered from the cache; otherwise evaluated by row tiles, the same tiles as
        :meth:`matvec` when ``idx`` is the whole sample.
        """
        m = idx.numel()
        out = torch.empty(m, m, dtype=self.work, device=self.x.device)
        xi, si = (self.x, self.sq) if m == self.n else (self.x[idx], self.sq[idx])
        for r0 in range(0, m, self.rows):
            r1 = min(r0 + self.rows, m)
            if self.K is not None:
                out[r0:r1] = self.K[idx[r0:r1, None], idx]
            else:
                out[r0:r1] = self._rows(xi, si, r0, r1)
        out.diagonal().fill_(self.diag)
        return out


def _cholesky_inplace(a: torch.Tensor, nb: int = 512):
    """Lower Cholesky factor of ``a`` written over ``a``; None if ``a`` is not positive definite.

    Right-looking blocked algorithm on views of ``a`` (diagonal blocks factorised by
    torch, panels by triangular solves, the lower trailing blocks updated in place by
    GEMM), so that the only extra memory is one ``n × nb`` panel:
    ``torch.linalg.cholesky`` would hold a second ``n × n`` matrix.
    """
    n = a.shape[0]
    for k in range(0, n, nb):
        e = min(k + nb, n)
        lkk, info = torch.linalg.cholesky_ex(a[k:e, k:e])
        if int(info) != 0:
            return None
        a[k:e, k:e] = lkk
        if e == n:
            break
        l21 = torch.linalg.solve_triangular(lkk.mT, a[e:, k:e], upper=True, left=False)
        a[e:, k:e] = l21
        for j in range(e, n, nb):
            je = min(j + nb, n)
            a[j:, j:je].addmm_(l21[j - e:], l21[j - e:je - e].mT, alpha=-1.0)
    return a.tril_()


def _chol_solve(chol: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``(L Lᵀ)⁻¹ b`` for a lower factor ``L`` (``b`` of shape (m,) or (m, k))."""
    col = b.unsqueeze(1) if b.ndim == 1 else b
    y = torch.linalg.solve_triangular(chol, col, upper=False)
    x = torch.linalg.solve_triangular(chol.mT, y, upper=True)
    return x.squeeze(1) if b.ndim == 1 else x
