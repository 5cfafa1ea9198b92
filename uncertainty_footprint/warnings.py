"""Warning classes of the package.

The test suite turns :class:`FootprintWarning` into errors (see ``pyproject.toml``), so every warning the
package emits is either expected by a test or a bug.
"""


__all__ = ["FootprintWarning", "ConvergenceWarning", "SubsetWarning"]


class FootprintWarning(UserWarning):
    """Base class of every warning emitted by :mod:`uncertainty_footprint`."""


class ConvergenceWarning(FootprintWarning):
    """A Monte Carlo or Sobol estimate has not converged to the requested precision."""


class SubsetWarning(FootprintWarning):
    """A result comes from fewer samples than the run has (e.g. the balance of a streamed run)."""
