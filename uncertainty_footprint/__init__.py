"""uncertainty_footprint: honest error bars on the carbon footprint of TinyML devices.

Data flows one way: experiment YAML -> parameter set (frozen distributions with unit, source and status) ->
a design in the unit hypercube -> one inverse-CDF step -> the lifecycle model -> an ``xarray.Dataset``.
"""

__version__ = "0.1.0"
