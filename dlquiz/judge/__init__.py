"""The judge: is an answer equal to the key, and if not, which mistake was made?"""

from dlquiz.judge.core import KINDS, Mistake, PreparedKey, UnusableKey, Verdict, check, prepare

__all__ = ["KINDS", "Mistake", "PreparedKey", "UnusableKey", "Verdict", "check", "prepare"]
