"""The lifecycle model: pure, vectorized functions, one per stage or block type.

Every function takes keyword-only arguments named like the parameters they consume (the same snake_case names
used in ``distributions/``, experiment files and the ``parameter`` coordinate of results), accepts scalars or
numpy arrays that broadcast against each other, and returns kg CO2-eq. They do no I/O and know nothing of YAML,
xarray or files. The only constants are unit conversions between the units the docstrings state (the units of
the data catalog), taken once at import from the package's pint registry
(:mod:`uncertainty_footprint.inputs.units`), never per sample.

References
----------
.. [1] Pirson, T. & Bol, D. (2021). Assessing the embodied carbon footprint of IoT edge devices with a bottom-up
   life-cycle approach. Journal of Cleaner Production 322, 128966.
.. [2] Prakash, S. et al. (2023). Is TinyML Sustainable? Communications of the ACM 66(11). arXiv:2301.11899.
.. [3] Dodge, J. et al. (2022). Measuring the Carbon Intensity of AI in Cloud Instances. ACM FAccT 2022.
"""

from __future__ import annotations

import numpy as np

from ..inputs.units import conversion_factor

__all__ = [
    "items_footprint",
    "transport_footprint",
    "average_power_from_inference",
    "use_stage_footprint",
    "training_footprint",
    "end_of_life_footprint",
    "method_mixture",
    "ic_footprint_act",
    "truncation_gap",
]

#: Unit conversions (definitions, not data) [target unit per source unit].
GRAMS_PER_TONNE = conversion_factor("t", "g")
MW_PER_UJ_HZ = conversion_factor("uJ*Hz", "mW")  # energy per inference x inference rate -> power
MM2_PER_CM2 = conversion_factor("cm2", "mm2")  # die areas are in mm2, per-area fab data per cm2
KWH_PER_MW_YR = conversion_factor("mW*yr", "kWh")  # yr = 365 d: the published 1 mW x 3 yr = 26.28 Wh


def items_footprint(*, quantities, factors):
    r"""Embodied footprint of a functional block as a sum of quantity x unit factor (Pirson & Bol 2021).

    .. math:: F = \sum_i q_i \, f_i

    Parameters
    ----------
    quantities : sequence of array_like
        Physical quantity of each item [g, mm2, cm2, count, ... as the item's unit].
    factors : sequence of array_like
        Unit emission factor of each item [kg CO2-eq per item unit], same length as ``quantities``.

    Returns
    -------
    numpy.ndarray
        Block footprint [kg CO2-eq]; 0 for a block with no items.
    """
    if len(quantities) != len(factors):
        raise ValueError("quantities and factors must have the same length")
    total = np.float64(0.0)
    for q, f in zip(quantities, factors):
        total = total + np.multiply(q, f)
    # numbers become an array; a duck array (the symbols of model/expansion.py) is returned as it is
    return np.asarray(total, dtype=float) if isinstance(total, (np.ndarray, np.generic)) else total


def transport_footprint(*, shipped_mass, truck_distance, plane_distance, transport_truck_factor,
                        transport_plane_factor):
    r"""Transport of the device from factory to user by truck and plane (Pirson & Bol 2021).

    .. math:: F = \frac{m}{10^6} (d_{truck} f_{truck} + d_{plane} f_{plane})

    Parameters
    ----------
    shipped_mass : array_like
        Total shipped mass per device, packaging included [g].
    truck_distance, plane_distance : array_like
        Distances by road and by air [km].
    transport_truck_factor, transport_plane_factor : array_like
        Freight emission factors [kg CO2-eq/(t*km)].

    Returns
    -------
    numpy.ndarray
        Transport footprint [kg CO2-eq].
    """
    tonnes = np.divide(shipped_mass, GRAMS_PER_TONNE)
    return tonnes * (np.multiply(truck_distance, transport_truck_factor)
                     + np.multiply(plane_distance, transport_plane_factor))


def average_power_from_inference(*, energy_per_inference, inference_rate, sleep_power):
    r"""Average device power from the energy per inference, the inference rate and a floor.

    .. math:: P = E_{inf} \, r / 10^3 + P_{sleep}

    Parameters
    ----------
    energy_per_inference : array_like
        Energy of one inference [uJ] (MLPerf Tiny energy runs).
    inference_rate : array_like
        Inferences per second averaged over the life [Hz].
    sleep_power : array_like
        Sleep and sensor floor power [mW].

    Returns
    -------
    numpy.ndarray
        Average power [mW].
    """
    return np.multiply(energy_per_inference, inference_rate) * MW_PER_UJ_HZ + sleep_power


def use_stage_footprint(*, average_power, lifetime, charging_efficiency, grid_carbon_intensity):
    r"""Operational footprint of recharging the device from the grid (Prakash et al. 2023).

    .. math:: F = \frac{P \, T \, 8760}{10^6 \, \eta} \, c_{grid}

    Parameters
    ----------
    average_power : array_like
        Average electrical power of the device [mW].
    lifetime : array_like
        Service life [yr].
    charging_efficiency : array_like
        Grid-to-load efficiency of the charger and battery [1], in (0, 1].
    grid_carbon_intensity : array_like
        Carbon intensity of the charging electricity [kg CO2-eq/kWh].

    Returns
    -------
    numpy.ndarray
        Use-stage footprint [kg CO2-eq].

    Examples
    --------
    The published 1 mW for 3 years on the US grid (27.0 Wh charged, 0.401 kg/kWh):

    >>> round(float(use_stage_footprint(average_power=1.0, lifetime=3.0, charging_efficiency=26.28 / 27.0,
    ...                                 grid_carbon_intensity=0.40107)), 4)
    0.0108
    """
    energy_kwh = np.multiply(average_power, lifetime) * KWH_PER_MW_YR
    return energy_kwh / charging_efficiency * grid_carbon_intensity


def training_footprint(*, training_energy_per_run, training_runs, training_pue, training_grid_intensity):
    r"""ML training footprint from energy per run, number of runs, PUE and grid intensity (Dodge et al. 2022).

    .. math:: F = E_{run} \, n_{runs} \, PUE \, c_{grid}

    Parameters
    ----------
    training_energy_per_run : array_like
        Accelerator energy of one training run [kWh].
    training_runs : array_like
        Number of runs per deployed model [1].
    training_pue : array_like
        Power usage effectiveness of the data centre [1].
    training_grid_intensity : array_like
        Carbon intensity of the training region's electricity [kg CO2-eq/kWh].

    Returns
    -------
    numpy.ndarray
        Training footprint [kg CO2-eq].
    """
    return (np.multiply(training_energy_per_run, training_runs) * training_pue) * training_grid_intensity


def end_of_life_footprint(*, embodied, end_of_life_fraction):
    r"""End-of-life footprint as a fraction of the embodied footprint (Prakash et al. 2023).

    Parameters
    ----------
    embodied : array_like
        Embodied footprint, manufacturing and transport stages [kg CO2-eq].
    end_of_life_fraction : array_like
        End-of-life share relative to the embodied footprint [1].

    Returns
    -------
    numpy.ndarray
        End-of-life footprint [kg CO2-eq].
    """
    return np.multiply(embodied, end_of_life_fraction)


def method_mixture(*, choice, options):
    """Footprint of a component whose method is chosen per sample [kg CO2-eq]: ``sum_k 1[choice == k] option_k``.

    Parameters
    ----------
    choice : array_like
        Index of the method of every sample [-] (0, 1, ..., K - 1).
    options : sequence of array_like
        The component's footprint by each method [kg CO2-eq].

    Examples
    --------
    >>> import numpy as np
    >>> method_mixture(choice=np.array([0.0, 1.0, 1.0]), options=[np.array([1.0, 1, 1]), np.array([5.0, 6, 7])])
    array([1., 6., 7.])
    """
    return sum(np.equal(choice, k) * option for k, option in enumerate(options))


def ic_footprint_act(*, die_area, fab_carbon_intensity, energy_per_area, gas_per_area, materials_per_area,
                     fab_yield, packaging_per_ic):
    r"""Embodied footprint of one IC by its die area and fab process (ACT's logic model, Gupta et al. 2022) [kg CO2-eq].

    .. math:: F = A \, \frac{CI_{fab} \, EPA + GPA + MPA}{Y} + P

    Parameters
    ----------
    die_area : array_like
        Die area A [mm2].
    fab_carbon_intensity : array_like
        Carbon intensity of the fab's electricity CI [kg CO2-eq/kWh].
    energy_per_area : array_like
        Fab energy per wafer area EPA [kWh/cm2].
    gas_per_area, materials_per_area : array_like
        Process gases GPA and materials MPA per wafer area [kg CO2-eq/cm2].
    fab_yield : array_like
        Yield Y [-].
    packaging_per_ic : array_like
        The package P [kg CO2-eq per IC].

    References
    ----------
    .. [1] Gupta, U. et al. (2022). ACT: Designing Sustainable Computer Systems with an Architectural Carbon
       Modeling Tool. ISCA 2022.

    Examples
    --------
    >>> round(float(ic_footprint_act(die_area=10.0, fab_carbon_intensity=0.583, energy_per_area=0.9,
    ...                              gas_per_area=0.1375, materials_per_area=0.5, fab_yield=0.875,
    ...                              packaging_per_ic=0.15)), 4)
    0.2828
    """
    per_area = (fab_carbon_intensity * energy_per_area + gas_per_area + materials_per_area) / fab_yield
    return die_area * per_area / MM2_PER_CM2 + packaging_per_ic


def truncation_gap(*, manufacturing, truncation_gap_ratio):
    """What a bottom-up inventory misses of the manufacturing footprint [kg CO2-eq]: ``r x manufacturing``, where
    ``r = T - 1`` for a company-reported footprint ``T`` times the bottom-up one.

    Parameters
    ----------
    manufacturing : array_like
        The bottom-up manufacturing footprint [kg CO2-eq].
    truncation_gap_ratio : array_like
        The missing part over the bottom-up footprint, ``T - 1`` [-].

    Examples
    --------
    >>> float(truncation_gap(manufacturing=2.5, truncation_gap_ratio=1.0))  # "a factor around 2x"
    2.5
    """
    return truncation_gap_ratio * manufacturing
