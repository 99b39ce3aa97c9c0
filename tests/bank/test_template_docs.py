"""The README's template section: every worked example builds and verifies, and the section
names every field, answer kind and check the loader knows (so the docs cannot rot)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dlquiz.bank.template.checks import HOOKS
from dlquiz.bank.template.source import ANSWER_KINDS, TOP_LEVEL
from dlquiz.bank.templates import load_templates
from dlquiz.bank.verify import verify_family

README = Path(__file__).resolve().parents[2] / "README.md"
TEXT = README.read_text(encoding="utf-8")
SECTION = TEXT[TEXT.index("### Writing a problem family") : TEXT.index("<!-- /section: bank -->")]
EXAMPLES = re.findall(r"```toml\n(# problems/([a-z-]+)/([a-z0-9-]+)\.toml\n.*?)```", SECTION, re.S)


def test_there_is_a_worked_example_of_every_answer_kind() -> None:
    kinds = {re.search(r'^kind = "([a-z]+)"', text, re.M).group(1) for text, _, _ in EXAMPLES}
    assert kinds == set(ANSWER_KINDS)


@pytest.mark.parametrize(
    ("text", "topic", "name"), EXAMPLES, ids=[f"{t}/{n}" for _, t, n in EXAMPLES]
)
def test_a_worked_example_builds_and_verifies(
    tmp_path: Path, text: str, topic: str, name: str
) -> None:
    folder = tmp_path / topic
    folder.mkdir()
    (folder / f"{name}.toml").write_text(text, encoding="utf-8")
    family = load_templates(tmp_path)[f"{topic}/{name}"]
    report = verify_family(family, range(20))
    assert report.ok, report.failures[:5]
    assert len({family.generate(s).statement for s in range(20)}) > 5


def test_the_examples_show_every_feature() -> None:
    every = "\n".join(text for text, _, _ in EXAMPLES)
    for feature in (
        "kind = [",
        "when = ",
        "require = ",
        "{= ",
        "grad = ",
        "at = {",
        "[[checks]]",
        "[[options]]",
        "correct = true",
        "[choice]",
        "{answer}",
        "{correct}",
        "vector = ",
        "nonzero = true",
        '"floor(k/2)"',
        "[definitions]",
        "[values]",
        "derive = ",
        "allow = ",
    ):
        assert feature in every, feature


def test_the_section_names_every_field_and_check() -> None:
    for field in TOP_LEVEL:
        assert f"`{field}`" in SECTION or f"`[{field}]`" in SECTION or f"[[{field}]]" in SECTION, (
            field
        )
    for name, h in HOOKS.items():
        row = next(
            (line for line in SECTION.splitlines() if line.startswith(f"| `{name}` |")), None
        )
        assert row is not None, name
        for arg in h.args:
            assert f"`{arg}`" in row, (name, arg)
