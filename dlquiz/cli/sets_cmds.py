"""``generate`` and ``grade``: the instructor's commands (issue 6)."""
