"""The derivation checker: a student's derivation, written as on paper, line by line.

``check_steps(text, ns, timeout=...)`` reads the whole file (``reader``: declarations,
names, undefined costs), then checks each line against the one before (``checker``),
reading lines through the derivation dialect of the notation (``dialect``) and working
derivatives out with SymPy in the worker (``calculus``). Comparisons are the judge's
(``dlquiz.judge.core.compare_expressions``). ``report`` holds the verdict.
"""

from dlquiz.steps.checker import check_steps
from dlquiz.steps.reader import MAX_LINES
from dlquiz.steps.report import Chain, Step, StepsReport

__all__ = ["MAX_LINES", "Chain", "Step", "StepsReport", "check_steps"]
