"""README contracts of the practice and set commands: the family table, the transcript."""

from __future__ import annotations

from pathlib import Path

from dlquiz.bank import families

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_family_table_shows_each_familys_kind_and_title() -> None:
    for fid, fam in families().items():
        assert f"| `{fid}` | {fam.kind} | {fam.title} |" in README, fid
