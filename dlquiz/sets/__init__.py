"""Problem sets and grading: ``dlquiz generate`` writes a set, ``dlquiz grade`` grades it.

``generate.write_set`` turns the bank's ``select`` into handed-out files and a key;
``keys`` reads a key or roster back, ``sheets`` reads answer sheets, ``grade`` judges
them in parallel, and ``reports`` writes what the instructor and the students get.
"""
