"""Symbolic work: SymPy derivations, symbolic backpropagation and simplification.

Importing this package imports SymPy (about half a second), so only code that needs a
derivation imports it: the worker process, ``derive``, ``steps`` and the problem bank.
"""
