"""Names as students write them: Greek letters, hats and subscripts folded to one spelling.

``η`` and ``eta`` are the same symbol, as are ``ŷ``, ``y_hat``, ``\\hat{y}`` and
``yhat``, or ``W₁``, ``W_1`` and ``W1``. A subscript that is an index expression stays
as typed, without spaces (``W_{m+1}``, ``delta_{m-1}``). Every front end (typed answers,
LaTeX, ``--var``, templates) passes names through :func:`canonical_name` so they meet in
one spelling.
"""

from __future__ import annotations

import re
from functools import lru_cache

GREEK = {
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "ε": "epsilon",
    "ϵ": "epsilon",
    "ζ": "zeta",
    "η": "eta",
    "θ": "theta",
    "ι": "iota",
    "κ": "kappa",
    "λ": "lambda",
    "μ": "mu",
    "ν": "nu",
    "ξ": "xi",
    "π": "pi",
    "ρ": "rho",
    "σ": "sigma",
    "τ": "tau",
    "φ": "phi",
    "ϕ": "phi",
    "χ": "chi",
    "ψ": "psi",
    "ω": "omega",
    "Γ": "Gamma",
    "Δ": "Delta",
    "Θ": "Theta",
    "Λ": "Lambda",
    "Σ": "Sigma",
    "Φ": "Phi",
    "Ψ": "Psi",
    "Ω": "Omega",
}
GREEK_NAMES = frozenset(GREEK.values()) | {"varepsilon", "varphi"}
GREEK_LETTER = {name: letter for letter, name in GREEK.items() if letter not in "ϵϕ"}

SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
PRECOMPOSED_HATS = {"ŷ": "yhat", "Ŷ": "Yhat", "ô": "ohat", "ĥ": "hhat", "ŝ": "shat", "ĝ": "ghat"}
COMBINING_HAT = "\u0302"

# Names declared with these domains unless the caller says otherwise (the notes' usage).
DEFAULT_DOMAINS = {
    "n_in": "positive",
    "n_out": "positive",
    "sigma": "positive",
    "eta": "positive",
    "lambda": "positive",
    "epsilon": "positive",
    "p": "unit",
}

_TRAILING_SUBSCRIPT = re.compile(r"_(\d+)$")
_BRACED_SUBSCRIPT = re.compile(r"^(.*?)_\{([^{}]*)\}$")
_HAT_SUFFIX = re.compile(r"_hat$")


@lru_cache(maxsize=4096)
def canonical_name(text: str) -> str:
    """One spelling for a name: Greek words, no ``_`` before a trailing number or ``hat``."""
    braced = _BRACED_SUBSCRIPT.match(text)
    if braced:
        base, sub = braced.group(1), "".join(braced.group(2).split())
        if sub.replace("_", "").isalnum():  # W_{1} is W1, n_{in} is n_in
            return canonical_name(f"{base}_{sub}")
        return f"{canonical_name(base)}_{{{sub}}}"
    for letter, word in PRECOMPOSED_HATS.items():
        text = text.replace(letter, word)
    out = []
    for ch in text.translate(SUBSCRIPT_DIGITS):
        if ch == COMBINING_HAT:
            out.append("hat")
        else:
            out.append(GREEK.get(ch, ch))
    name = "".join(out)
    if name == "varepsilon":
        name = "epsilon"
    elif name == "varphi":
        name = "phi"
    name = _TRAILING_SUBSCRIPT.sub(r"\1", name)
    return _HAT_SUFFIX.sub("hat", name)
