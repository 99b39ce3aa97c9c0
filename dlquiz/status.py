"""Exit statuses shared by every command, so scripts can rely on one meaning per code."""

from enum import IntEnum


class ExitStatus(IntEnum):
    """What a ``dlquiz`` process tells its caller."""

    OK = 0  # equivalent / all steps valid / verified / grading completed
    FAILED = 1  # not equivalent / a step is wrong / a verification failed
    BAD_INPUT = 2  # the input cannot be used (same code Click uses for usage errors)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


EXIT_CODES_HELP = (
    "Exit codes: 0 success (equivalent, all steps valid, verified, grading done); "
    "1 a wrong answer, a wrong step or a failed verification; "
    "2 unusable input (a usage error, an unreadable answer, an unusable key); "
    "130 interrupted."
)
