"""README contracts of the practice and set commands: the family table, the transcript."""

from __future__ import annotations

from pathlib import Path

from dlquiz.bank import families

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_family_table_shows_each_familys_kind_and_title() -> None:
    for fid, fam in families().items():
        assert f"| `{fid}` | {fam.kind} | {fam.title} |" in README, fid


def test_the_example_problems_are_what_show_prints() -> None:
    import re

    from dlquiz.bank import generate

    examples = re.findall(
        r"`dlquiz show ([a-z-]+/[a-z0-9-]+) --seed (\d+)`:\n\n> (.*?)\n", README, flags=re.S
    )
    assert len(examples) >= 13
    for fid, seed, statement in examples:
        assert generate(fid, int(seed)).statement.strip() == statement, fid


def test_the_readme_names_the_summary_column_and_the_csv_options() -> None:
    assert "right after help" in README and "right after hints" not in README
    assert "dlquiz stats [--json | --csv]" in README
    assert "[-n|--limit N] [--json | --csv]" in README
