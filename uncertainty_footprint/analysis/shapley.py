"""Shapley effects: variance shares of the inputs that stay meaningful when inputs are dependent.

The Shapley effect of input (or group of inputs) ``i`` among the players ``D`` is (Owen 2014; Song, Nelson &
Staum 2016)

    ``Sh_i = (1 / d) sum_{J subset of D - {i}} C(d - 1, |J|)^-1 (c(J + {i}) - c(J)) / Var(Y)``

with ``d`` players and any of two cost functions that give the same values: ``c(J) = Var(E[Y | X_J])`` or
``c(J) = E[Var(Y | X_-J)]``. The effects are non-negative and sum to 1 with or without dependence between the
inputs; for independent inputs ``Sh_i`` splits each Sobol' interaction share equally between its members, so
``S_i <= Sh_i <= ST_i`` (Owen 2014; Iooss & Prieur 2019).

:func:`shapley_effects` estimates them by Algorithm 1 of Song, Nelson & Staum (2016): ``n_perm`` random
permutations of the players; along each permutation the cost ``E[Var(Y | X_-J)]`` of every prefix ``J`` is
estimated with ``n_outer`` outer draws of ``X_-J`` and, for each, the sample variance of ``n_inner`` model runs at
draws of ``X_J`` given ``X_-J`` (the "conditional elements" of the paper); the increment of the cost is
credited to the player just added. ``Var(Y)`` is estimated from ``n_var`` separate plain draws and closes every
permutation, so the effects of each permutation sum to 1. Song et al. recommend ``n_outer = 1`` and
``n_inner = 3`` for a fixed budget of ``n_var + n_perm n_outer n_inner (d - 1)`` model runs.

By default the prefixes of a permutation share its draws (common random numbers): one outer draw of every input
and, for each inner run, one more draw of every input (its "innovation"); prefix J takes the inputs outside J from
the outer draw and those in J from the innovations (the members in J of a correlated block are drawn given its
members outside J, with the innovations as the noise). Each prefix's cost estimate has exactly the distribution
it has in Algorithm 1, so the estimator stays unbiased and the permutations independent, but the estimates along a
permutation are strongly correlated: the increment credited to a player that does not change an output is exactly
0 (except as the last player, against ``Var(Y)``). When each output depends on a few of many inputs (the
components of a footprint) the intervals are several times narrower for the same runs. With
``common_random_numbers=False`` every prefix draws afresh, as in the paper.

Dependence is a Gaussian copula (:mod:`~uncertainty_footprint.inputs.copula`): in normal-score space
``z = Phi^-1(u)`` the inputs are jointly normal with correlation ``R``, so ``z_J`` given ``z_-J`` is normal with
mean ``R_J,-J R_-J,-J^-1 z_-J`` and covariance ``R_JJ - R_J,-J R_-J,-J^-1 R_-J,J``; each input's value is its
marginal inverse CDF of ``Phi(z)``. ``R`` is block diagonal (the connected groups of declared pairs): only the
members of a block condition on each other, the other inputs are resampled independently, and the conditional
factors of a block are cached per subset of its members.

All draws of a permutation are generated in fixed, permutation-major order from streams of one
:class:`numpy.random.SeedSequence`, every row is computed on its own and the sums run in a fixed order, so the
result does not depend on ``batch_rows`` (given a model that computes each row on its own); the same seed gives
the same bytes. Confidence intervals are bootstrap percentile intervals: the permutations are cut into at most
:data:`BOOT_GROUPS` consecutive groups (independent and identically distributed up to one permutation in size,
because the permutations are), the plain draws of the variance likewise, and the groups are resampled with
replacement.

:func:`shapley_linear_gaussian` gives the exact effects of a linear model of Gaussian inputs, by enumeration
of the subsets (Owen & Prieur 2017; Iooss & Prieur 2019), to check the estimator.

References
----------
Owen, A. B. (2014). Sobol' indices and Shapley value. SIAM/ASA Journal on Uncertainty Quantification 2(1),
245-251. https://doi.org/10.1137/130936233

Song, E., Nelson, B. L., Staum, J. (2016). Shapley effects for global sensitivity analysis: theory and
computation. SIAM/ASA Journal on Uncertainty Quantification 4(1), 1060-1083. https://doi.org/10.1137/15M1048070

Owen, A. B., Prieur, C. (2017). On Shapley value for measuring importance of dependent inputs. SIAM/ASA Journal
on Uncertainty Quantification 5(1), 986-1002. https://doi.org/10.1137/16M1097717

Iooss, B., Prieur, C. (2019). Shapley effects for sensitivity analysis with correlated inputs: comparisons with
Sobol' indices, numerical estimation and applications. International Journal for Uncertainty Quantification
9(5), 493-514. https://doi.org/10.1615/Int.J.UncertaintyQuantification.2019028372

Efron, B., Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall, ch. 13 (percentile
intervals).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtr

from ..inputs.copula import UNIT_HIGH, UNIT_LOW, fixed_order_product
from .sobol import check_int

if TYPE_CHECKING:
    from ..inputs.copula import CorrelationSpec

__all__ = ["ShapleyResult", "shapley_effects", "shapley_linear_gaussian", "ESTIMATOR", "BOOT_GROUPS",
           "BATCH_ROWS", "MAX_EXACT_PLAYERS", "MAX_CACHED_BLOCK"]

#: Most groups of permutations (and of variance draws) the bootstrap resamples.
BOOT_GROUPS = 256
#: Default number of model rows per call of the model in :func:`shapley_effects` (memory only: the results do
#: not depend on it).
BATCH_ROWS = 2**15
#: Largest block of mutually correlated inputs whose conditional factors are kept (up to 2**s of them, a few MB);
#: a larger block's are computed again at every use (time, not memory, grows with it).
MAX_CACHED_BLOCK = 12
#: Most players :func:`shapley_linear_gaussian` enumerates the subsets of.
MAX_EXACT_PLAYERS = 16
#: The estimator, as recorded in :attr:`ShapleyResult.estimator`.
ESTIMATOR = ("Shapley effects, Song, Nelson & Staum (2016) Algorithm 1: random permutations, cost "
             "E[Var(Y | X_-J)] by conditional sampling (Gaussian copula); bootstrap percentile intervals over "
             "groups of permutations")
_DRAWS = {True: "; common random numbers along each permutation", False: "; fresh draws for every prefix"}

# Seed-sequence spawn keys of the independent streams (with the index of an input where there is one).
_PERMUTATIONS, _VARIANCE, _OUTER, _INNER, _BOOTSTRAP = range(5)


@dataclass(frozen=True, eq=False)
class ShapleyResult:
    """Estimated Shapley effects with bootstrap intervals, and the settings that produced them.

    Attributes
    ----------
    players : tuple of str
        The players: the input names, or the group names with ``groups``.
    members : tuple of tuple of str
        The inputs of each player.
    shapley : numpy.ndarray, shape (players, outputs)
        Estimated Shapley effects; every column sums to 1 [1]. NaN for an output of zero variance.
    conf_low, conf_high : numpy.ndarray, shape (players, outputs)
        Bootstrap percentile interval at ``conf_level`` [1].
    variance : numpy.ndarray, shape (outputs,)
        Estimated ``Var(Y)`` from the ``n_var`` plain draws [output unit squared].
    n_perm, n_outer, n_inner, n_var, n_boot : int
        The sample sizes used.
    common_random_numbers : bool
        Whether the prefixes of a permutation shared its draws.
    conf_level : float
        Confidence level of the intervals [1].
    seed : int
        The seed.
    n_evaluations : int
        Model rows evaluated: ``n_var + n_perm n_outer n_inner (players - 1)``.
    estimator : str
        :data:`ESTIMATOR` and the kind of draws.
    """

    players: tuple[str, ...]
    members: tuple[tuple[str, ...], ...]
    shapley: np.ndarray
    conf_low: np.ndarray
    conf_high: np.ndarray
    variance: np.ndarray
    n_perm: int
    n_outer: int
    n_inner: int
    n_var: int
    n_boot: int
    common_random_numbers: bool
    conf_level: float
    seed: int
    n_evaluations: int
    estimator: str = ESTIMATOR

    def __post_init__(self):
        for name in ("shapley", "conf_low", "conf_high", "variance"):
            value = np.array(getattr(self, name), dtype=float)
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @property
    def half_width(self) -> np.ndarray:
        """Half the width of each interval, ``(conf_high - conf_low) / 2`` [1]."""
        return (self.conf_high - self.conf_low) / 2.0


# --------------------------------------------------------------------------------------------------------
# exact effects of a linear Gaussian model
# --------------------------------------------------------------------------------------------------------
def shapley_linear_gaussian(beta, cov, groups: Sequence[Sequence[int]] | None = None) -> tuple[np.ndarray, float]:
    """Exact Shapley effects of the linear model ``Y = beta @ X`` with ``X ~ N(mu, cov)``, by enumeration.

    The cost of a set ``u`` of inputs is ``c(u) = Var(Y) - Var(Y | X_u)`` with
    ``Var(Y | X_u) = beta_-u' (cov_-u,-u - cov_-u,u cov_uu^+ cov_u,-u) beta_-u`` (a pseudo-inverse, so a singular
    ``cov`` is allowed); the effect of player ``i`` is the average of ``c(u + {i}) - c(u)`` over the sets u of
    the other players with the Shapley weights ``|u|! (p - |u| - 1)! / p!``.

    Parameters
    ----------
    beta : array_like, shape (d,)
        Coefficients [output unit / input unit].
    cov : array_like, shape (d, d)
        Covariance of X, symmetric positive semi-definite [input unit squared].
    groups : sequence of sequence of int, optional
        Players made of several inputs (indices into ``beta``; every input in exactly one group). Conditioning
        is on all the inputs of a group (not on their sum). By default every input is a player.

    Returns
    -------
    effects : numpy.ndarray, shape (p,)
        Shapley effects of the p players, summing to 1 (NaN if ``Var(Y) = 0``) [1].
    variance : float
        ``Var(Y) = beta' cov beta`` [output unit squared].

    Examples
    --------
    >>> effects, variance = shapley_linear_gaussian([1.0, 1.0], [[1.0, 0.5], [0.5, 1.0]])
    >>> effects.tolist(), variance
    ([0.5, 0.5], 3.0)
    """
    beta = np.asarray(beta, dtype=float)
    cov = np.asarray(cov, dtype=float)
    if beta.ndim != 1:
        raise ValueError(f"beta must be one-dimensional, got shape {beta.shape}")
    d = beta.size
    if cov.shape != (d, d):
        raise ValueError(f"cov must have shape ({d}, {d}), got {cov.shape}")
    if groups is None:
        groups = [[i] for i in range(d)]
    groups = [np.asarray(g, dtype=int).reshape(-1) for g in groups]
    members = np.concatenate(groups) if groups else np.zeros(0, dtype=int)
    if members.size != d or set(members.tolist()) != set(range(d)) or any(g.size == 0 for g in groups):
        raise ValueError(f"groups must split the inputs 0..{d - 1}, each in exactly one non-empty group")
    p = len(groups)
    if not 1 <= p <= MAX_EXACT_PLAYERS:
        raise ValueError(f"between 1 and {MAX_EXACT_PLAYERS} players can be enumerated, got {p}")
    if not (np.all(np.isfinite(cov)) and np.all(np.isfinite(beta))):
        raise ValueError("beta and cov must be finite")
    if not np.allclose(cov, cov.T, rtol=1e-12, atol=0.0):
        raise ValueError("cov must be symmetric")
    scale = max(float(np.max(np.abs(np.diag(cov)))), np.finfo(float).tiny)
    if np.linalg.eigvalsh(cov)[0] < -1e-10 * scale:
        raise ValueError("cov must be positive semi-definite")
    variance = float(beta @ cov @ beta)
    everything = np.arange(d)
    cost = np.empty(2**p)
    for mask in range(2**p):
        inside = np.zeros(d, dtype=bool)
        for k in range(p):
            inside[groups[k]] = (mask >> k) & 1
        u, o = everything[inside], everything[~inside]
        if o.size == 0:
            cost[mask] = variance
        elif u.size == 0:
            cost[mask] = 0.0
        else:
            s_ou = cov[np.ix_(o, u)]
            residual = cov[np.ix_(o, o)] - s_ou @ np.linalg.pinv(cov[np.ix_(u, u)], hermitian=True) @ s_ou.T
            cost[mask] = variance - float(beta[o] @ residual @ beta[o])
    masks = np.arange(2**p)
    size = np.array([bin(m).count("1") for m in masks])
    weight = np.array([math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p) for s in range(p)])
    effects = np.empty(p)
    for i in range(p):
        without = masks[(masks >> i) & 1 == 0]
        effects[i] = np.sum(weight[size[without]] * (cost[without | (1 << i)] - cost[without]))
    with np.errstate(invalid="ignore", divide="ignore"):
        return effects / variance, variance


# --------------------------------------------------------------------------------------------------------
# argument checks and set-up
# --------------------------------------------------------------------------------------------------------
def _players(names: tuple[str, ...], groups: Mapping[str, Sequence[str]] | None):
    """Player names, their members and the player of each input."""
    if groups is None:
        return names, tuple((n,) for n in names), np.arange(len(names))
    position = {n: i for i, n in enumerate(names)}
    player_of = np.full(len(names), -1)
    players, members = [], []
    for p, (group, inputs) in enumerate(groups.items()):
        inputs = (inputs,) if isinstance(inputs, str) else tuple(inputs)
        if not inputs:
            raise ValueError(f"group {group!r} has no inputs")
        for name in inputs:
            if name not in position:
                raise ValueError(f"group {group!r}: unknown input {name!r}")
            if player_of[position[name]] >= 0:
                raise ValueError(f"input {name!r} is in more than one group")
            player_of[position[name]] = p
        players.append(str(group))
        members.append(inputs)
    alone = [n for n, p in zip(names, player_of) if p < 0]
    if alone:
        raise ValueError(f"inputs in no group: {', '.join(alone)}")
    return tuple(players), tuple(members), player_of


@dataclass(frozen=True)
class _Block:
    """Inputs that are correlated with each other (a connected set of declared pairs)."""

    inputs: np.ndarray  # indices into names, in names order
    normal: np.ndarray  # normal-score correlation (s, s)
    cholesky: np.ndarray


def _blocks(names: tuple[str, ...], corr) -> list[_Block]:
    """The connected blocks of the normal-score correlation (blocks of one input are left out: independent)."""
    if corr is None or not len(corr.names):
        return []
    position = {n: i for i, n in enumerate(names)}
    missing = [n for n in corr.names if n not in position]
    if missing:
        raise ValueError(f"correlated inputs missing from names: {', '.join(missing)}")
    normal = np.asarray(corr.normal, dtype=float)
    linked = (normal != 0.0) & ~np.eye(len(corr.names), dtype=bool)
    seen = np.zeros(len(corr.names), dtype=bool)
    blocks = []
    for start in range(len(corr.names)):
        if seen[start]:
            continue
        component, stack = [], [start]
        seen[start] = True
        while stack:
            k = stack.pop()
            component.append(k)
            for j in np.flatnonzero(linked[k] & ~seen):
                seen[j] = True
                stack.append(int(j))
        if len(component) > 1:
            component.sort(key=lambda k: position[corr.names[k]])
            sub = normal[np.ix_(component, component)]
            blocks.append(_Block(np.array([position[corr.names[k]] for k in component]), sub,
                                 np.linalg.cholesky(sub)))
    return blocks


def _conditional(normal: np.ndarray, inner: list[int], outer: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Regression matrix ``A`` and a factor ``F`` of the covariance of ``z_inner`` given ``z_outer`` (standard
    normal scores with correlation ``normal``): ``z_inner = A z_outer + F w`` with ``w`` standard normal."""
    s_ii = normal[np.ix_(inner, inner)]
    if not outer:
        return np.zeros((len(inner), 0)), np.linalg.cholesky(s_ii)
    regression = np.linalg.solve(normal[np.ix_(outer, outer)], normal[np.ix_(outer, inner)]).T
    cov = s_ii - regression @ normal[np.ix_(outer, inner)]
    cov = (cov + cov.T) / 2.0
    try:
        factor = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:  # numerically singular: a square root from the eigenvalues clipped at 0
        values, vectors = np.linalg.eigh(cov)
        factor = vectors * np.sqrt(np.clip(values, 0.0, None))
    return regression, factor


def _unit(z: np.ndarray) -> np.ndarray:
    return np.clip(ndtr(z), UNIT_LOW, UNIT_HIGH)


class _GroupSums:
    """Sums over consecutive groups of items (permutations or plain draws) that arrive in batches of any size.

    A group is summed once all its items are there, over one contiguous array of the group's own shape, so the
    sums do not depend on how the items were batched."""

    def __init__(self, n_items: int, n_groups: int, width: int):
        base, extra = divmod(n_items, n_groups)
        self.sizes = np.array([base + (g < extra) for g in range(n_groups)], dtype=float)
        self.sums = np.zeros((n_groups, width))
        self._pending: list[np.ndarray] = []
        self._n_pending = 0
        self._group = 0

    def add(self, items: np.ndarray) -> None:
        self._pending.append(items)
        self._n_pending += len(items)
        while self._group < len(self.sizes) and self._n_pending >= self.sizes[self._group]:
            take = int(self.sizes[self._group])
            block = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending)
            self.sums[self._group] = np.ascontiguousarray(block[:take]).sum(axis=0)
            rest = block[take:]
            self._pending = [rest] if len(rest) else []
            self._n_pending -= take
            self._group += 1


def _bootstrap_counts(rng: np.random.Generator, n_boot: int, n_groups: int) -> np.ndarray:
    """How often each group is drawn in each of ``n_boot`` resamples with replacement, shape (n_boot, n_groups)."""
    draws = rng.integers(0, n_groups, size=(n_boot, n_groups))
    flat = (np.arange(n_boot)[:, None] * n_groups + draws).ravel()
    return np.bincount(flat, minlength=n_boot * n_groups).reshape(n_boot, n_groups).astype(float)


# --------------------------------------------------------------------------------------------------------
# the estimator
# --------------------------------------------------------------------------------------------------------
class _Sampler:
    """Draws model inputs and evaluates the model, batch by batch."""

    def __init__(self, model, ppf, names, blocks, seed):
        self.model, self.ppf, self.names, self.blocks = model, ppf, names, blocks
        in_block = {int(i) for b in blocks for i in b.inputs}
        self.independent = [i for i in range(len(names)) if i not in in_block]
        self.seed = seed
        self.cache: dict[frozenset, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        self.n_outputs: int | None = None
        # one stream per kind of draw and per independent input or block (keyed by its first input)
        units = self.independent + [int(b.inputs[0]) for b in blocks]
        self.streams = {(kind, unit): self._rng(kind, unit) for kind in (_VARIANCE, _OUTER, _INNER) for unit in units}

    def _rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=key))

    def evaluate(self, values: dict[str, np.ndarray], n: int) -> np.ndarray:
        y = np.asarray(self.model(values), dtype=float)
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2 or y.shape[0] != n:
            raise ValueError(f"the model must return an array of shape ({n}, k) for {n} rows, got {y.shape}")
        if self.n_outputs is None:
            self.n_outputs = y.shape[1]
        elif y.shape[1] != self.n_outputs:
            raise ValueError(f"the model returned {y.shape[1]} outputs, earlier {self.n_outputs}")
        if not np.all(np.isfinite(y)):
            raise ValueError("the model returned non-finite values")
        return y

    def _physical(self, name: str, u: np.ndarray) -> np.ndarray:
        x = np.asarray(self.ppf(name, u), dtype=float)
        if x.shape != u.shape:
            raise ValueError(f"ppf({name!r}, u) must return an array of the shape of u {u.shape}, got {x.shape}")
        return x

    def plain(self, n: int) -> np.ndarray:
        """Model outputs at the next n plain draws of the inputs (the variance sample), shape (n, k)."""
        values = {}
        for i in self.independent:
            u = np.clip(self.streams[_VARIANCE, i].random(n), UNIT_LOW, UNIT_HIGH)
            values[self.names[i]] = self._physical(self.names[i], u)
        for block in self.blocks:
            w = self.streams[_VARIANCE, int(block.inputs[0])].standard_normal((n, len(block.inputs)))
            z = fixed_order_product(block.cholesky, w.T)
            for k, i in enumerate(block.inputs):
                values[self.names[i]] = self._physical(self.names[i], _unit(z[k]))
        return self.evaluate(values, n)

    def conditional(self, inside: np.ndarray, n_outer: int, n_inner: int, common: bool) -> np.ndarray:
        """Model outputs for the prefixes of a batch of permutations.

        ``inside`` (permutations, d, prefixes) tells which inputs are in each prefix J. Returns the outputs of shape
        (permutations, n_outer, n_inner, prefixes, k): for each prefix and outer draw of ``X_-J``, the runs at
        ``n_inner`` draws of ``X_J`` given ``X_-J``. With ``common``, the prefixes of a permutation share one
        outer draw of every input and one innovation per input and inner run; otherwise each prefix draws its
        own. (The prefixes are the last axis of the rows, so that the spreading of the draws over them runs in
        long inner loops.)"""
        n_perm, _, n_prefix = inside.shape
        units = 1 if common else n_prefix  # draws per permutation and (outer, inner) run
        n = n_perm * n_outer * n_inner * n_prefix
        values = {}
        for i in self.independent:
            name = self.names[i]
            outer = np.clip(self.streams[_OUTER, i].random((n_perm, n_outer, 1, units)), UNIT_LOW, UNIT_HIGH)
            inner = np.clip(self.streams[_INNER, i].random((n_perm, n_outer, n_inner, units)), UNIT_LOW,
                            UNIT_HIGH)
            # the inverse CDF is elementwise: apply it to the draws, then spread them over the prefixes
            outer = self._physical(name, outer.reshape(-1)).reshape(outer.shape)
            inner = self._physical(name, inner.reshape(-1)).reshape(inner.shape)
            values[name] = np.where(inside[:, None, None, i], inner, outer).reshape(n)
        for block in self.blocks:
            z, column = self._block(block, inside[:, block.inputs], n_outer, n_inner, common)
            for k, i in enumerate(block.inputs):
                x = self._physical(self.names[i], _unit(z[k]).reshape(-1)).reshape(z.shape[1:])
                if column is not None:  # spread the values of each stage over its prefixes
                    x = np.take_along_axis(x, column[:, None, None, :], axis=-1)
                values[self.names[i]] = x.reshape(n)
        return self.evaluate(values, n).reshape((n_perm, n_outer, n_inner, n_prefix, -1))

    def _block(self, block: _Block, inside: np.ndarray, n_outer: int, n_inner: int,
               common: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Normal scores of a block's members, shape (s, permutations, n_outer, n_inner, columns), and the column of
        each prefix, shape (permutations, prefixes).

        Without ``common`` every prefix is a column with draws of its own (the column index is None: the
        identity). With ``common`` the draws are per permutation and a column is a *stage*: the prefixes along
        which the members in J stay the same (at most s + 1 per permutation, as members only join), so the
        inverse CDFs of the members run once per stage, not once per prefix."""
        s = len(block.inputs)
        n_perm, _, n_prefix = inside.shape
        codes = (inside.astype(np.int64) << np.arange(s)[:, None]).sum(axis=1)  # (permutations, prefixes)
        if common:
            change = np.empty(codes.shape, dtype=bool)
            change[:, 0] = codes[:, 0] != 0
            change[:, 1:] = codes[:, 1:] != codes[:, :-1]
            column = np.cumsum(change, axis=1)
            stages = np.zeros((n_perm, int(column.max()) + 1), dtype=np.int64)
            stages[np.arange(n_perm)[:, None], column] = codes
            codes, units = stages, 1
        else:
            column, units = None, n_prefix
        key = int(block.inputs[0])
        outer = self.streams[_OUTER, key].standard_normal((n_perm, n_outer, units, s))
        outer = fixed_order_product(block.cholesky, np.moveaxis(outer, -1, 0))  # (s, perms, n_outer, units)
        noise = np.moveaxis(self.streams[_INNER, key].standard_normal((n_perm, n_outer, n_inner, units, s)), -1, 0)
        z = np.empty((s, n_perm, n_outer, n_inner, codes.shape[1]))
        z[...] = outer[:, :, :, None, :]
        for code in np.unique(codes[codes != 0]):  # the members in J are drawn given the others
            perm, col = np.nonzero(codes == code)
            unit = col if units > 1 else np.zeros_like(col)
            members = frozenset(int(block.inputs[k]) for k in range(s) if (code >> k) & 1)
            entry = self.cache.get(members)
            if entry is None:
                inner_k = [k for k in range(s) if (code >> k) & 1]
                outer_k = [k for k in range(s) if not (code >> k) & 1]
                entry = (np.array(inner_k), np.array(outer_k, dtype=int)) + _conditional(block.normal, inner_k,
                                                                                       outer_k)
                if s <= MAX_CACHED_BLOCK:  # at most 2**s subsets: a larger block's would not fit in memory
                    self.cache[members] = entry
            inner_k, outer_k, regression, factor = entry
            draw = fixed_order_product(factor, noise[inner_k[:, None], perm, :, :, unit])  # (|J|, picked, o, i)
            if outer_k.size:
                draw += fixed_order_product(regression, outer[outer_k[:, None], perm, :, unit])[..., None]
            z[inner_k[:, None], perm, :, :, col] = draw
        return z, column


def shapley_effects(
    model: Callable[[dict[str, np.ndarray]], np.ndarray],
    ppf: Callable[[str, np.ndarray], np.ndarray],
    names: Sequence[str],
    corr: CorrelationSpec | None = None,
    *,
    n_perm: int = 1000,
    n_outer: int = 1,
    n_inner: int = 3,
    n_var: int | None = None,
    seed: int,
    n_boot: int = 1000,
    conf_level: float = 0.95,
    groups: Mapping[str, Sequence[str]] | None = None,
    common_random_numbers: bool = True,
    batch_rows: int = BATCH_ROWS,
) -> ShapleyResult:
    """Shapley effects of every input (or group of inputs) on every output, by random permutations.

    Song, Nelson & Staum (2016) Algorithm 1 with inputs of any marginals joined by a Gaussian copula; see the
    module docstring. The model is called on batches of about ``batch_rows`` rows.

    Parameters
    ----------
    model : callable
        ``model(values)`` with ``values`` a dict of every name in ``names`` to an array of m values returns the
        outputs, shape (m, k) (or (m,) for one output); all outputs are analysed at once. Must be finite. For a
        result that does not depend on ``batch_rows`` bit for bit, each row of the outputs must depend on the same
        row of the inputs only, to the last bit (elementwise operations; a BLAS product such as ``beta @ x`` may
        round a row differently for another number of rows).
    ppf : callable
        ``ppf(name, u)``: the inverse CDF of the marginal of input ``name`` at probabilities ``u`` (an array in
        ``[2**-53, 1 - 2**-53]`` [1]), returning an array of the shape of ``u`` [input unit].
    names : sequence of str
        The d random inputs.
    corr : CorrelationSpec, optional
        Rank correlations from :func:`~uncertainty_footprint.inputs.copula.correlation_matrix` (its names must
        be in ``names``); ``None`` for independent inputs.
    n_perm : int
        Random permutations of the players (>= 1). The half-width of the intervals falls like ``1 / sqrt(n_perm)``.
    n_outer, n_inner : int
        Outer draws of ``X_-J`` (>= 1) and inner draws of ``X_J`` given them (>= 2) per prefix J of a permutation.
        Song et al. recommend 1 and 3.
    n_var : int, optional
        Plain draws for ``Var(Y)`` (>= 2); by default the larger of 10 000 and a tenth of the conditional runs.
    seed : int
        Seed (>= 0) of every random stream: the same seed gives the same result, bit for bit.
    n_boot : int
        Bootstrap resamples for the intervals (>= 0; 0 gives NaN intervals).
    conf_level : float
        Confidence level of the intervals, in (0, 1) [1].
    groups : mapping of str to sequence of str, optional
        Players made of several inputs (e.g. the inputs of each component): every input in exactly one group.
        By default every input is a player.
    common_random_numbers : bool
        Share the draws of a permutation between its prefixes (see the module docstring): the same expected
        value, usually much narrower intervals. False draws every prefix afresh (Song et al.'s Algorithm 1 as
        published).
    batch_rows : int
        Model rows per call, about (at least the runs of one permutation). Memory only: the result does not
        depend on it (see ``model``).

    Returns
    -------
    ShapleyResult
        Effects of shape (players, k), summing to 1 over the players, their intervals and ``Var(Y)``.

    Notes
    -----
    The model runs ``n_var + n_perm n_outer n_inner (p - 1)`` rows for p players. The width of the intervals
    grows with the tails of the outputs: each cost estimate is a sample variance of ``n_inner`` runs, whose
    variance involves the fourth moment, so an output that is a product of several wide lognormal inputs needs
    many more permutations than a sum. For a block of s mutually correlated inputs, up to ``2**s`` conditional
    factors are computed (and cached up to :data:`MAX_CACHED_BLOCK` members); large blocks make it slow.
    """
    names = tuple(names)
    if len(set(names)) != len(names) or not names:
        raise ValueError("names must be distinct and not empty")
    n_perm = check_int(n_perm, "n_perm", 1)
    n_outer = check_int(n_outer, "n_outer", 1)
    n_inner = check_int(n_inner, "n_inner", 2)
    seed = check_int(seed, "seed", 0)
    n_boot = check_int(n_boot, "n_boot", 0)
    batch_rows = check_int(batch_rows, "batch_rows", 1)
    if not (isinstance(conf_level, numbers.Real) and 0.0 < conf_level < 1.0):
        raise ValueError(f"conf_level must be in (0, 1), got {conf_level!r}")
    players, members, player_of = _players(names, groups)
    n_players = len(players)
    rows_per_perm = (n_players - 1) * n_outer * n_inner
    if n_var is None:
        n_var = max(10_000, n_perm * rows_per_perm // 10)
    n_var = check_int(n_var, "n_var", 2)
    sampler = _Sampler(model, ppf, names, _blocks(names, corr), seed)

    # Var(Y) from plain draws, summed per group of rows (shifted by the first row's outputs for accuracy)
    var_groups = shift = None
    for start in range(0, n_var, batch_rows):
        y = sampler.plain(min(batch_rows, n_var - start))
        if shift is None:
            shift = y[0].copy()
            var_groups = _GroupSums(n_var, min(n_var, BOOT_GROUPS), 2 * y.shape[1])
        dev = y - shift
        var_groups.add(np.concatenate([dev, dev * dev], axis=1))
    k = len(shift)
    s1, s2 = var_groups.sums[:, :k], var_groups.sums[:, k:]
    variance = (s2.sum(axis=0) - s1.sum(axis=0) ** 2 / n_var) / (n_var - 1)

    # the permutations: per permutation, the cost increments credited to each player (a, players x k) and
    # which player closes it (e, players)
    perm_groups = _GroupSums(n_perm, min(n_perm, BOOT_GROUPS), n_players * k + n_players)
    perm_rng = sampler._rng(_PERMUTATIONS)
    per_batch = max(1, batch_rows // max(rows_per_perm, 1))
    last = n_players - 1
    for start in range(0, n_perm, per_batch):
        nb = min(per_batch, n_perm - start)
        order = np.argsort(perm_rng.random((nb, n_players)), axis=1, kind="stable")
        position = np.argsort(order, axis=1, kind="stable")  # position[b, player]
        increments = np.zeros((nb, n_players, k))
        if n_players > 1:
            # prefix J_j holds the players at positions 0..j, j = 0..p-2; inputs inherit their player's position
            inside = position[:, player_of, None] <= np.arange(last)  # (nb, d, p - 1)
            y = sampler.conditional(inside, n_outer, n_inner, common_random_numbers)  # (nb, n_o, n_i, p - 1, k)
            mean = y[:, :, 0].copy()
            for h in range(1, n_inner):
                mean += y[:, :, h]
            mean /= n_inner
            spread = (y[:, :, 0] - mean) ** 2
            for h in range(1, n_inner):
                spread += (y[:, :, h] - mean) ** 2
            spread /= n_inner - 1  # (nb, n_outer, p - 1, k): sample variance of the inner runs
            cost = spread[:, 0].copy()
            for o in range(1, n_outer):
                cost += spread[:, o]
            cost /= n_outer  # (nb, p - 1, k): E[Var(Y | X_-J)] of each prefix
            by_position = np.empty((nb, n_players, k))
            by_position[:, 0] = cost[:, 0]
            by_position[:, 1:last] = cost[:, 1:] - cost[:, :-1]
            by_position[:, last] = -cost[:, last - 1]  # + Var(Y), added with the closing player below
            increments = np.take_along_axis(by_position, position[:, :, None], axis=1)
        closes = (position == last).astype(float)
        perm_groups.add(np.concatenate([increments.reshape(nb, -1), closes], axis=1))

    pk = n_players * k
    n_groups = len(perm_groups.sizes)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = (perm_groups.sums[:, :pk].sum(axis=0).reshape(n_players, k) / n_perm / variance
                  + perm_groups.sums[:, pk:].sum(axis=0)[:, None] / n_perm)
        low = np.full_like(shares, np.nan)
        high = np.full_like(shares, np.nan)
        if n_boot:
            boot_rng = sampler._rng(_BOOTSTRAP)
            counts = _bootstrap_counts(boot_rng, n_boot, n_groups)
            var_counts = _bootstrap_counts(boot_rng, n_boot, len(var_groups.sizes))
            n_star = counts @ perm_groups.sizes
            inc_star = (counts @ perm_groups.sums[:, :pk]).reshape(n_boot, n_players, k) / n_star[:, None, None]
            close_star = (counts @ perm_groups.sums[:, pk:]) / n_star[:, None]
            nv_star = var_counts @ var_groups.sizes
            var_star = ((var_counts @ s2) - (var_counts @ s1) ** 2 / nv_star[:, None]) / (nv_star[:, None] - 1)
            boot = inc_star / var_star[:, None, :] + close_star[:, :, None]
            alpha = (1.0 - float(conf_level)) / 2.0
            low, high = np.quantile(boot, [alpha, 1.0 - alpha], axis=0)
    return ShapleyResult(players=players, members=members, shapley=shares, conf_low=low, conf_high=high,
                         variance=variance, n_perm=n_perm, n_outer=n_outer, n_inner=n_inner, n_var=n_var,
                         n_boot=n_boot, common_random_numbers=bool(common_random_numbers),
                         conf_level=float(conf_level), seed=seed, n_evaluations=n_var + n_perm * rows_per_perm,
                         estimator=ESTIMATOR + _DRAWS[bool(common_random_numbers)])
