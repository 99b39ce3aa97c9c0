"""The template loader, one module per idea (see ``dlquiz.bank.templates``).

``source`` (a file's fields and errors naming file and field), ``params`` (what is
drawn), ``scope`` (the one interpreter: formulas on the engine, conditions), ``prose``
(``{param}``, ``{= formula}``, parts with ``when``), ``answers`` (numeric keys and the
mistakes the judge can tell apart), ``options`` (choice pools), ``checks`` (independent
named checks) and ``family`` (the ``TemplateFamily`` that ties them together).
"""
