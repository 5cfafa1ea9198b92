"""Units as a contract: the package's one pint registry and the parser of its unit strings.

Data files and experiments write units as short text: ``kg CO2-eq/kWh``, ``kg CO2-eq/(t*km)``, ``mm2``, ``mW``,
``uJ``, ``Hz``, ``yr``, ``count``, ``1``. :func:`parse_unit` maps such a string to a :class:`pint.Unit` of
:data:`UREG`, a registry in which ``CO2_eq`` (written ``CO2-eq``, ``CO2eq`` or ``CO2_eq``) is a base unit of its
own dimension, so ``kg CO2-eq`` is never confused with ``kg``. Conversions happen once, when a model is built
(:func:`conversion_factor`), never per sample.

Conventions of the project's unit strings:

- a trailing digit is a power: ``mm2`` = ``mm**2``, ``cm3`` = ``cm**3``;
- ``yr``, ``year``, ``years`` are the 365-day year (8760 h) the published use stage uses (pint's own ``year``
  is the Julian year of 365.25 days); ``month``, ``months`` are a twelfth of it (730 h; pint's own is a twelfth of
  the Julian year), so that 36 month is 3 yr: one calendar throughout; ``julian_year`` is still available;
- ``count`` and ``1`` are dimensionless; a number other than ``1`` or an exponent is refused (a unit is not a
  quantity); offset units (``degC``) cannot be converted by scaling and are refused as conversion targets.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import pint



from ..errors import SpecError, shorten
from .cache import cache_dir

__all__ = ["UREG", "KG_CO2EQ", "parse_unit", "conversion_factor", "same_unit", "per", "dimension_name", "cf_unit",
           "footprint_attrs", "FOOTPRINT_UNITS", "FOOTPRINT_QUANTITY"]


def _registry() -> pint.UnitRegistry:
    """pint's default registry, its parsed definitions cached in ``pint/`` of the package's cache folder
    (:func:`~uncertainty_footprint.inputs.cache.cache_dir`; pint's own ``cache_folder``): building the registry
    from its definition files takes about ten times longer than loading it from the cache. The cache changes no unit; a
    folder that cannot be written, or a cache file another process is still writing (pint writes in place) or
    that is corrupt, means a registry built from the definitions (nothing in the folder is deleted)."""
    try:
        folder = cache_dir() / "pint"
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError):  # no home folder or an unwritable cache folder: no cache
        folder = None
    if folder is not None:
        try:
            return pint.UnitRegistry(autoconvert_offset_to_baseunit=False, cache_folder=folder)
        except Exception:  # noqa: BLE001 - any unreadable or unwritable cache file: build without the cache
            pass  # nothing is deleted: the folder may be the user's ($UNCERTAINTY_FOOTPRINT_CACHE_DIR)
    return pint.UnitRegistry(autoconvert_offset_to_baseunit=False)


#: The package's unit registry (one per process).
UREG = _registry()
UREG.define("CO2_eq = [co2_equivalent] = CO2eq")
UREG.define("common_month = common_year / 12")
#: Unit of every footprint [kg CO2-eq].
KG_CO2EQ = "kg CO2-eq"

#: Longest unit string parsed [characters]; the project's longest is 16.
MAX_UNIT_LENGTH = 64
_CO2EQ_RE = re.compile(r"CO2[-_ ]?eq\b", re.IGNORECASE)
_TOKEN_RE = re.compile(r"\s*(?:(?P<name>%|[A-Za-z_\u00b5\u03bc][A-Za-z0-9_\u00b5\u03bc]*)|(?P<power>\*\*|\^)"
                       r"|(?P<op>[*/()])|(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)|(?P<minus>-))")
#: Project spellings that differ from pint's meaning.
_ALIASES = {"yr": "common_year", "year": "common_year", "years": "common_year", "month": "common_month",
            "months": "common_month", "CO2_eq": "CO2_eq"}
#: Readable names of dimensions, by a unit of that dimension.
_NAMED_DIMENSIONS = (("dimensionless number", "1"), ("mass", "g"), ("length", "m"), ("area", "m2"),
                     ("volume", "m3"), ("time", "s"), ("frequency", "Hz"), ("power", "W"), ("energy", "J"),
                     ("carbon footprint", KG_CO2EQ), ("mass x distance", "t*km"))


def _preprocess(text: str) -> str:
    """Rewrite a project unit string into pint's syntax, refusing anything that is not a plain unit."""
    text = _CO2EQ_RE.sub("CO2_eq", text)
    out: list[str] = []
    pos, after_power = 0, False
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            rest = text[pos:].strip()
            if not rest:
                break
            raise SpecError(f"unexpected {shorten(rest[:10])} in the unit")
        pos = m.end()
        kind = m.lastgroup
        token = m.group(kind)
        if kind == "name":
            digits = re.match(r"^(.*[A-Za-z_\u00b5\u03bc])([0-9])$", token)
            if digits and token not in _ALIASES:
                out += [_ALIASES.get(digits.group(1), digits.group(1)), "**", digits.group(2)]
            else:
                out.append(_ALIASES.get(token, token))
        elif kind == "power":
            out.append("**")
        elif kind == "minus":
            if not after_power:
                raise SpecError("a '-' may only be the sign of an exponent (write CO2-eq for the CO2 equivalent)")
            out.append("-")
        elif kind == "number":
            if not after_power and token != "1":
                raise SpecError(f"a unit holds no numbers but 1 and exponents, got {shorten(token)}")
            if after_power and (len(token) > 2 or "." in token):
                raise SpecError(f"exponent {shorten(token)} is not a small integer")
            out.append(token)
        else:
            out.append(token)
        after_power = kind == "power" or (kind == "minus" and after_power)
    if not out:
        raise SpecError("the unit is empty; write 1 for a dimensionless number")
    return " ".join(out)


@lru_cache(maxsize=512)
def _parse(text: str) -> pint.Unit:
    expr = _preprocess(text)
    try:
        q = UREG.parse_expression(expr)
    except pint.UndefinedUnitError as exc:
        names = ", ".join(shorten(n, 30) for n in sorted(exc.unit_names)) if hasattr(exc, "unit_names") else ""
        raise SpecError(f"unknown unit {names or shorten(text)}") from None
    except Exception as exc:  # pint's tokenizer and evaluator: any syntax problem
        raise SpecError(f"cannot read the unit ({exc.__class__.__name__})") from None
    if isinstance(q, (int, float)):
        q = UREG.Quantity(q)
    if not isinstance(q, pint.Quantity) or q.magnitude != 1:
        raise SpecError("a unit must not carry a number")
    return q.units


def _unit(text: object) -> pint.Unit:
    """:func:`parse_unit` without the closing hint of what is allowed."""
    if not isinstance(text, str):
        raise SpecError(f"a unit must be text, got {shorten(text)}")
    if len(text) > MAX_UNIT_LENGTH:
        raise SpecError(f"unit {shorten(text)} is longer than {MAX_UNIT_LENGTH} characters")
    try:
        return _parse(text.strip())
    except SpecError as exc:
        raise SpecError(f"{shorten(text)} is not a unit ({exc})") from None


def parse_unit(text: object) -> pint.Unit:
    """The pint unit of a project unit string.

    Parameters
    ----------
    text : str
        e.g. ``kg CO2-eq/mm2``, ``mW``, ``1``.

    Returns
    -------
    pint.Unit

    Raises
    ------
    SpecError
        Not text, too long, not a unit, or a unit the registry does not know; the message quotes the text and
        ends with what is allowed.
    """
    try:
        return _unit(text)
    except SpecError as exc:
        raise SpecError(f"{exc}; write units such as kg CO2-eq/kWh, mW, g, mm2, yr, count or 1") from None


def dimension_name(unit: pint.Unit) -> str:
    """A readable name of the unit's dimension: ``power``, ``mass``, ``carbon footprint per area``, else pint's
    dimension formula."""
    named = _named_dimensions()
    dims = unit.dimensionality
    if dims in named:
        return named[dims]
    denominator = (parse_unit(KG_CO2EQ) / unit).dimensionality
    if denominator in named:
        return f"carbon footprint per {named[denominator]}"
    return str(dims)


@lru_cache(maxsize=1)
def _named_dimensions() -> dict:
    return {parse_unit(example).dimensionality: name for name, example in _NAMED_DIMENSIONS}


@lru_cache(maxsize=512)
def _factor(src: pint.Unit, dst: pint.Unit) -> float:
    one = UREG.Quantity(1.0, src)
    if not one.is_compatible_with(dst):
        raise SpecError("incompatible")
    if UREG.Quantity(0.0, src).to(dst).magnitude != 0.0:
        raise SpecError("offset")
    return float(one.to(dst).magnitude)


def conversion_factor(src: str, dst: str) -> float:
    """The number a value in ``src`` is multiplied by to be in ``dst`` (``conversion_factor('W', 'mW') == 1000``).

    Parameters
    ----------
    src, dst : str
        Project unit strings.

    Returns
    -------
    float
        A positive, finite factor [dst/src].

    Raises
    ------
    SpecError
        Either unit does not parse, the dimensions differ (the message names both and the expected unit), or a
        unit has an offset (``degC``).
    """
    d = parse_unit(dst)
    try:
        s = _unit(src)
    except SpecError as exc:
        raise SpecError(f"{exc}; expected {dst} or another unit of {dimension_name(d)}") from None
    try:
        factor = _factor(s, d)
    except SpecError as exc:
        if str(exc) == "offset":
            raise SpecError(f"{shorten(src)} has an offset (like degC) and cannot be converted to {dst} by "
                            f"scaling; expected {dst} or a unit that differs from it by a factor") from None
        raise SpecError(f"{shorten(src)} is a unit of {dimension_name(s)}, not of {dimension_name(d)}; expected "
                        f"{dst} or another unit of {dimension_name(d)}") from None
    if not (math.isfinite(factor) and factor > 0):
        raise SpecError(f"{shorten(src)} cannot be converted to {dst} (factor {factor!r})")
    return factor


def same_unit(a: str | pint.Unit, b: str | pint.Unit) -> bool:
    """True when ``a`` and ``b`` are the same unit, possibly spelled differently (``kg CO2-eq/count`` is
    ``kg CO2-eq``; ``kg CO2-eq/g`` is not ``kg CO2-eq/kg``). Unit strings must parse (:func:`parse_unit`)."""
    a = a if isinstance(a, pint.Unit) else parse_unit(a)
    b = b if isinstance(b, pint.Unit) else parse_unit(b)
    try:
        return math.isclose(_factor(a, b), 1.0, rel_tol=1e-12)
    except SpecError:
        return False


def per(numerator: str, denominator: str) -> pint.Unit:
    """The unit ``numerator / denominator``, e.g. the factor unit ``kg CO2-eq`` per an item's ``mm2``."""
    return parse_unit(numerator) / parse_unit(denominator)


# ------------------------------------------------------------------------------------------------------------
# Units as xarray and netCDF users read them (udunits and pint both parse them)
# ------------------------------------------------------------------------------------------------------------

#: ``units`` of a footprint: kilograms (of CO2-equivalent, see :data:`FOOTPRINT_QUANTITY`).
FOOTPRINT_UNITS = "kg"
#: ``quantity`` attribute of a footprint: what the kilograms are a mass of.
FOOTPRINT_QUANTITY = ("carbon footprint in kg CO2-eq: the mass of CO2 with the same global warming effect, on the "
                      "CO2-equivalent basis of the cited emission factors (their characterisation methods are not "
                      "harmonised)")
_CO2EQ = re.compile(r"\s*CO2[-_ ]?eq\b", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z_\u00b5\u03bc][A-Za-z0-9_\u00b5\u03bc]*")
#: Project spellings -> udunits/pint names of the same unit (``yr`` is the 365-day year, udunits' common_year).
_CF_NAMES = {"yr": "common_year", "year": "common_year", "years": "common_year", "count": "1",
             "month": "(common_year/12)", "months": "(common_year/12)"}  # the project's month: 1/12 of its year


def _token(match: re.Match) -> str:
    name = match.group(0)
    if name in _CF_NAMES:
        return _CF_NAMES[name]
    power = re.fullmatch(r"(.*[A-Za-z_\u00b5\u03bc])([0-9])", name)
    return f"{power.group(1)}^{power.group(2)}" if power else name


def cf_unit(unit: str) -> str:
    """A project unit string as udunits and pint both parse it, with the CO2-eq basis dropped.

    Parameters
    ----------
    unit : str
        Project notation (:mod:`uncertainty_footprint.inputs.units`), e.g. ``kg CO2-eq/mm2``.

    Returns
    -------
    str
        The same unit without ``CO2-eq``, powers written ``^``, ``yr`` as ``common_year`` (365 days) and
        ``count`` as ``1``.

    Examples
    --------
    >>> cf_unit("kg CO2-eq/mm2"), cf_unit("kg CO2-eq/(t*km)"), cf_unit("yr"), cf_unit("kg CO2-eq/count")
    ('kg/mm^2', 'kg/(t*km)', 'common_year', 'kg')
    """
    text = _TOKEN.sub(_token, _CO2EQ.sub("", unit).strip())
    text = re.sub(r"\s*/\s*1\b(?!\s*[\^*])", "", text)  # kg/count -> kg
    return text or "1"


def footprint_attrs(long_name: str, *, squared: bool = False) -> dict[str, str]:
    """Attributes of a footprint variable [kg CO2-eq] (``squared``: of a variance [(kg CO2-eq)^2])."""
    if squared:
        return {"long_name": long_name, "units": f"{FOOTPRINT_UNITS}^2",
                "quantity": "square of a " + FOOTPRINT_QUANTITY}
    return {"long_name": long_name, "units": FOOTPRINT_UNITS, "quantity": FOOTPRINT_QUANTITY}
