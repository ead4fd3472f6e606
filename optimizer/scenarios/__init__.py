"""What if: scenario overlays on a base folder, comparisons and sweeps.

``overlays`` reads scenario files and applies their changes to the base tables,
``comparison`` solves scenarios side by side, ``sweeps`` expands grid and seeded Monte
Carlo sweep files into scenarios, and ``runner`` runs them in this process, on local
worker processes or on a Dask cluster.
"""
