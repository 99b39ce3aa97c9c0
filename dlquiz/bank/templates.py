"""Problem families as data: ``problems/<topic>/*.toml``, one family a file.

An instructor adds a family by writing its model once, in the answer notation: what is
drawn per seed, what is asked, its prose, hints and known mistakes. The kernel computes
the key (SymPy derives a derivation, the engine computes numbers, a choice question draws
its options from a pool), checks it independently and fills the worked numbers into the
solution. The format is documented in the README ("Writing a problem family"); the
loader's parts are in ``dlquiz.bank.template`` (source and errors, params, the scope
that computes, prose, answers, options, checks, the family).
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from dlquiz.bank.family import Family, FamilyError
from dlquiz.bank.template.family import TemplateFamily, check_topic

__all__ = ["TemplateFamily", "load_templates", "template_root"]

MAX_TEMPLATE_BYTES = 1_000_000


def template_root() -> Path:
    """Where the templates are: inside the installed package, or the source tree's problems/."""
    packaged = Path(str(resources.files("dlquiz"))) / "problems"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "problems"


def load_templates(root: Path | None = None) -> dict[str, Family]:
    """Every template family under ``root`` (default: the packaged problems/)."""
    root = root or template_root()
    out: dict[str, Family] = {}
    if not root.is_dir():
        return out
    for path in sorted(root.glob("*/*.toml")):
        topic = path.parent.name
        where = f"{topic}/{path.name}"
        check_topic(topic, where)
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            raise FamilyError(f"{where}: larger than {MAX_TEMPLATE_BYTES} bytes")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise FamilyError(f"{where}: not valid TOML: {exc}") from None
        family = TemplateFamily(path, data, topic)
        if family.id in out:
            raise FamilyError(f"{where}: field 'id': '{family.id}' is used twice")
        out[family.id] = family
    return out
