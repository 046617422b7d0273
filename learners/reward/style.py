"""Observable style attributes of a completion: what the simulated developers care about.

`eval reward` gives each simulated developer hidden preferences over these attributes
(`simulate.py`). The reward models never see them: they see only code (the code model's
hidden states and a few generic candidate features, `features.py`). Each attribute is a
function of the completed line (the text before the cursor on its line, and the candidate),
read from the code itself, and is 0 where it does not apply (a line with no string has no
quote style):

- ``length``: complete lines or short ones (log of the candidate's length);
- ``quotes``: double or single quotes in the strings the candidate writes;
- ``fstrings``: f-strings (+1) or ``.format``/``%`` formatting (-1);
- ``type_hints``: annotations (``->``, ``name: type``) written by the candidate;
- ``long_names``: descriptive or terse names (mean identifier length, centred on 6);
- ``comments``: a trailing ``#`` comment;
- ``defensive``: checks such as ``is None``, ``isinstance``, ``assert``, ``raise``, ``.get(``;
- ``keywords``: keyword arguments in the calls it writes (``f(x=1)`` against ``f(1)``);
- ``chaining``: several calls or attribute look-ups chained in one expression;
- ``literals``: literal numbers and strings against names.
"""

from __future__ import annotations

import io
import keyword
import math
import re
import tokenize

ATTRIBUTES = ("length", "quotes", "fstrings", "type_hints", "long_names", "comments",
              "defensive", "keywords", "chaining", "literals")  # fmt: skip

_DEFENSIVE = re.compile(r"\bis (not )?None\b|\bisinstance\(|\bassert\b|\braise\b|\.get\(|\bhasattr\(|\bif not\b")
_FORMAT = re.compile(r"\.format\(|['\"]\s*%\s*[\w(]")
_KEYWORD_ARG = re.compile(r"[(,]\s*[A-Za-z_]\w*\s*=(?!=)")
_POSITIONAL_ARG = re.compile(r"[(,]\s*(?![A-Za-z_]\w*\s*=(?!=))[\w'\"\[({-]")
_CALL = re.compile(r"[\w)\]]\s*\(")
_ATTRIBUTE = re.compile(r"[\w)\]]\.[A-Za-z_]")
_ANNOTATION = re.compile(r"->|\bdef\b[^:]*\w\s*:\s*[A-Za-z_]|^\s*[A-Za-z_]\w*\s*:\s*[A-Za-z_][\w.\[\], ]*(=|$)")


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    """Python tokens of a (possibly incomplete) line; what was read before an error."""
    out: list[tokenize.TokenInfo] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            out.append(token)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def _sign(a: float, b: float) -> float:
    return (a - b) / (a + b) if a + b else 0.0


def _keywords(text: str) -> float:
    """+1: the arguments written are keyword arguments; -1: positional; 0: no arguments."""
    named = len(_KEYWORD_ARG.findall(text))
    positional = len(_POSITIONAL_ARG.findall(text))
    return _sign(named, positional)


def attributes(line_prefix: str, candidate: str) -> dict[str, float]:
    """Each of `ATTRIBUTES` for ``candidate`` completing the line after ``line_prefix``,
    roughly in [-1, 1] (``length`` in [0, ~5])."""
    text = candidate.rstrip("\n")
    tokens = _tokens(text)
    strings = [t.string for t in tokens if t.type == tokenize.STRING]
    names = [t.string for t in tokens if t.type == tokenize.NAME and not keyword.iskeyword(t.string)]
    numbers = [t for t in tokens if t.type == tokenize.NUMBER]
    doubles = sum(1 for s in strings if s.lstrip("rbfuRBFU").startswith('"'))
    singles = sum(1 for s in strings if s.lstrip("rbfuRBFU").startswith("'"))
    fstrings = sum(1 for s in strings if "f" in s[:2].lower() and s[:3].lower() != "rb'")
    formats = len(_FORMAT.findall(text))
    calls = len(_CALL.findall(text))
    lookups = len(_ATTRIBUTE.findall(text))
    whole = line_prefix + text
    return {
        "length": math.log1p(len(text.strip())),
        "quotes": _sign(doubles, singles),
        "fstrings": _sign(fstrings, formats),
        "type_hints": 1.0 if _ANNOTATION.search(whole) and not _ANNOTATION.search(line_prefix) else 0.0,
        "long_names": max(-1.0, min(1.0, (sum(map(len, names)) / len(names) - 6) / 4)) if names else 0.0,
        "comments": 1.0 if any(t.type == tokenize.COMMENT for t in tokens) else 0.0,
        "defensive": min(1.0, len(_DEFENSIVE.findall(text)) / 2),
        "keywords": _keywords(line_prefix[-1:] + text),
        "chaining": min(1.0, max(0, calls + lookups - 1) / 3),
        "literals": _sign(len(strings) + len(numbers), len(names)) if strings or numbers or names else 0.0,
    }


def attribute_vector(line_prefix: str, candidate: str) -> list[float]:
    """`attributes` in the order of `ATTRIBUTES`."""
    values = attributes(line_prefix, candidate)
    return [values[name] for name in ATTRIBUTES]
