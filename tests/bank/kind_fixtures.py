"""The question kinds and mistake tags a family offers, kept in a fixture across migrations.

For a family, the set of (question kind, mistake tag) pairs over seeds 0..199: for each
kind the problems draw, the tags of every mistake any of those problems lists. It is
dumped into ``fixtures/kinds/<topic>/<name>.json`` before a family is rewritten (a Python
class into a template, say) and compared after, so a rewrite keeps every kind of question
and every diagnosed mistake. Write or refresh one with
``DLQUIZ_WRITE_KIND_FIXTURES=<family id> python -m pytest tests/bank/test_kind_fixtures.py``
(``all`` for every family; ``git diff`` then shows what changed).
"""

from __future__ import annotations

import json
from pathlib import Path

from dlquiz.bank import families
from dlquiz.bank.family import kind_label

SEEDS = 200
FOLDER = Path(__file__).parent / "fixtures" / "kinds"


def fixture_path(family_id: str) -> Path:
    topic, name = family_id.split("/", 1)
    return FOLDER / topic / f"{name}.json"


_DRAWN: dict[str, list] = {}


def problems(family_id: str, seeds: int = SEEDS) -> tuple:
    """The family's problems for seeds 0..seeds-1, drawn once per process for every test
    that reads them (a problem depends on its seed alone, so a shorter run is a prefix)."""
    drawn = _DRAWN.setdefault(family_id, [])
    if len(drawn) < seeds:
        family = families()[family_id]
        drawn.extend(family.generate(seed) for seed in range(len(drawn), seeds))
    return tuple(drawn[:seeds])


def kind_tags(family_id: str, seeds: int = SEEDS) -> dict[str, list[str]]:
    """Each question kind drawn, with the sorted tags of the mistakes listed for it."""
    out: dict[str, set[str]] = {}
    for p in problems(family_id, seeds):
        out.setdefault(kind_label(p.question_kind), set()).update(m["tag"] for m in p.mistakes)
    return {k: sorted(v) for k, v in sorted(out.items())}


def document(family_id: str, kinds: dict[str, list[str]], seeds: int = SEEDS) -> str:
    data = {"family": family_id, "seeds": seeds, "kinds": kinds}
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(family_id: str, kinds: dict[str, list[str]] | None = None) -> Path:
    path = fixture_path(family_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document(family_id, kinds or kind_tags(family_id)), encoding="utf-8")
    return path


def read(family_id: str) -> dict[str, list[str]]:
    return json.loads(fixture_path(family_id).read_text(encoding="utf-8"))["kinds"]
