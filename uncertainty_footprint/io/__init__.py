"""Everything that writes files: the results-folder transaction (:mod:`~uncertainty_footprint.io.folder`), netCDF
with CF attributes (:mod:`~uncertainty_footprint.io.netcdf`), the Zarr store of large runs
(:mod:`~uncertainty_footprint.io.zarr_store`), the writers of a run's and a comparison's files
(:mod:`~uncertainty_footprint.io.writers`) and the provenance stamped on every file of numbers
(:mod:`~uncertainty_footprint.io.provenance`). The engine below returns plain results; reading the experiment and
data files stays with :mod:`uncertainty_footprint.inputs`."""
