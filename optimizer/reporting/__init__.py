"""What a person reads: the console, the output files, the finance report, the manifest.

``console`` prints plans and reports, ``formats`` says how money, counts and percentages
read everywhere, ``files`` writes output batches atomically and formula-safe, ``report``
builds the Excel workbook and the HTML page, and ``manifest`` records (and re-checks) what
inputs, options and versions gave an output folder.
"""
