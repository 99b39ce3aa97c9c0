"""dlquiz: exam practice and derivation checking for deep learning, in the terminal.

Importing the package is cheap on purpose: the CLI's ``--help`` must not pay for
SymPy or NumPy, so every heavy import lives inside the module that needs it.
"""

__version__ = "0.1.0"
