"""Inputs: from a folder of CSV and YAML files to validated, typed tables.

Owns the row and policy schemas, the bounded YAML reader, the registry of input tables,
loading (every problem in every file reported at once, with file, line and column), the
cross-file consistency checks and the index sets they share with the model (which
workload may run on which offer). Nothing here knows about the LP or a solver.
"""
