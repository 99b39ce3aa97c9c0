"""The shared math kernel: expressions, declarations, numbers, printing, lowering.

Everything above it (the notation, the judge, the symbolic layer, the bank, the jobs
and the CLI) builds on these modules, and they import nothing above themselves: only
the NumPy engine below (``autodiff`` lowers an expression onto it). A test of the import
graph holds the layer order.

- ``expr``: the typed expression tree every part shares
- ``names``: one spelling for a name (Greek letters, hats, subscripts)
- ``vars``: declared variables, their shapes and domains
- ``numeric``: random points in a domain and batched float evaluation
- ``numbers``: the one formatter for numbers people read
- ``printing``: expressions back to notation, Unicode and LaTeX
- ``autodiff``: an expression lowered onto the engine, for autograd checks
- ``verification``: a key checked against the engine
"""
