"""The bundled default dataset (CSV files and policy.yaml), installed with the package."""
