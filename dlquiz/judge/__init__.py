"""The judge: is an answer equal to the key, and if not, which mistake was made?"""

from dlquiz.judge.core import KINDS, Mistake, PreparedKey, UnusableKey, Verdict, check, prepare
from dlquiz.judge.key import AnswerKey, KeyFormatError

__all__ = [
    "KINDS",
    "AnswerKey",
    "KeyFormatError",
    "Mistake",
    "PreparedKey",
    "UnusableKey",
    "Verdict",
    "check",
    "prepare",
]
