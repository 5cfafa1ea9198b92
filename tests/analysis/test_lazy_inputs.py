"""The sampled inputs of an in-memory run are regenerated from the design when read: the same doubles as a run
that holds them, and no memory (or time) when nobody reads them."""

import numpy as np
import pytest

from uncertainty_footprint.analysis.propagate import run_monte_carlo
from uncertainty_footprint.analysis.sizes import LAZY_INPUTS_MIN


@pytest.mark.parametrize("design,n,chunk", [("mc", 5000, 777), ("lhs", 4096, 1000), ("sobol", 3000, 4096)])
def test_lazy_inputs_are_the_held_inputs_bit_for_bit(kws_model, design, n, chunk):
    lazy = run_monte_carlo(kws_model, n=n, design=design, seed=4, chunk_size=chunk, inputs="lazy")
    held = run_monte_carlo(kws_model, n=n, design=design, seed=4, inputs="memory", chunk_size=1 << 12)
    assert lazy["inputs"].chunks is not None and held["inputs"].chunks is None
    assert lazy["inputs"].values.tobytes() == held["inputs"].values.tobytes()
    assert lazy["footprint"].values.tobytes() == held["footprint"].values.tobytes()
    name = "li_ion_battery_mass"
    np.testing.assert_array_equal(lazy["inputs"].sel(parameter=name).values, held["inputs"].sel(parameter=name).values)


def test_large_runs_regenerate_and_small_ones_hold_their_inputs(kws_model):
    assert run_monte_carlo(kws_model, n=LAZY_INPUTS_MIN, design="mc", seed=1)["inputs"].chunks is not None
    assert run_monte_carlo(kws_model, n=1000, design="mc", seed=1)["inputs"].chunks is None


def test_an_unknown_inputs_mode_is_refused(kws_model):
    with pytest.raises(ValueError, match="lazy"):
        run_monte_carlo(kws_model, n=10, inputs="disk")
