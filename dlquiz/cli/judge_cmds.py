"""``check``, ``derive`` and ``steps``: the judge's commands."""
