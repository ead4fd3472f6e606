"""The linear (or mixed-integer) program, built as arrays.

``builder`` turns validated inputs into an ``LpModel``: one function per constraint family,
each adding a block of columns or rows through ``arrays`` (column and row blocks to one
column-wise sparse matrix). It does not solve; the solver layer hands the arrays to HiGHS.
"""
