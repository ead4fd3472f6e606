"""A plan: the solved model as result tables, re-verified and certified.

``pipeline.solve`` is the whole path (build -> solve -> assemble -> verify -> certify ->
port payback); ``assembly`` turns a solution into the contract's tables, ``verification``
re-checks every rule from the inputs without the model builder, and ``ports`` prices each
CUDA port by re-solving without it.
"""
