"""What a person reads: the console, the output files, the finance report, the manifest.

``console`` prints plans and reports, ``formats`` says how money, counts and percentages
read everywhere, ``files`` writes CSV and JSON formula-safe, ``batch`` puts a command's
files in place all at once under a lock, and
``manifest`` records (and re-checks) what inputs, options and versions gave an output
folder. The finance report: ``report`` makes it, ``report_data`` gathers what it shows,
``workbook`` writes the Excel file, ``html_page`` the HTML page with ``figures``' charts.
"""
