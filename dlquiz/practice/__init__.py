"""Practice: the interactive loop, a progress database that never loses an answer, and
spaced repetition (FSRS) over problem families.

- ``paths``: where progress lives (``DLQUIZ_HOME`` or the platform's data directory).
- ``store``: the SQLite database (versioned schema, migrations, WAL, busy timeout).
- ``scheduler``: one FSRS card per family; outcome -> rating; the adaptive order.
- ``session``: the loop as a plain object driven by an input source and a display.
- ``report``: what ``stats`` and ``history`` show, as plain data.
"""
