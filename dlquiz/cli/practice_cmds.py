"""``practice``, ``stats``, ``history`` and ``reset``: the student's commands (issue 5)."""
