"""The 63 prompt proposals of RLPG, with the ids of the reference implementation.

Ids 0-4: Current x {MN, I, TI, SL, FD}; 5-7: Current x Post Lines at 25/50/75% of the
prompt budget; 8-61: the nine other sources x {MNB, MN, I, TI, SL, FD}; 62: the plain in-file
context (no proposal context). The ids are stable: classifiers are trained against them.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCES = (
    "current",
    "parent_class",
    "import",
    "sibling",
    "similar_name",
    "child_class",
    "import_of_sibling",
    "import_of_similar_name",
    "import_of_parent_class",
    "import_of_child_class",
)
CURRENT_TYPES = ("method_names", "identifiers", "type_identifiers", "string_literals", "field_declarations")
OTHER_TYPES = ("method_names_and_bodies", *CURRENT_TYPES)
POST_LINE_SHARES = (0.25, 0.5, 0.75)
IN_FILE = "in_file"


@dataclass(frozen=True)
class ProposalKind:
    id: int
    source: str  # one of SOURCES, or "in_file"
    context_type: str  # one of OTHER_TYPES, "post_lines_25|50|75", or "default" for in_file
    post_lines_share: float | None = None  # share of the prompt budget for post lines


def _catalog() -> tuple[ProposalKind, ...]:
    kinds = [ProposalKind(i, "current", t) for i, t in enumerate(CURRENT_TYPES)]
    kinds += [
        ProposalKind(len(kinds) + i, "current", f"post_lines_{int(share * 100)}", share)
        for i, share in enumerate(POST_LINE_SHARES)
    ]
    for source in SOURCES[1:]:
        kinds += [ProposalKind(len(kinds) + i, source, t) for i, t in enumerate(OTHER_TYPES)]
    kinds.append(ProposalKind(len(kinds), IN_FILE, "default"))
    return tuple(kinds)


CATALOG: tuple[ProposalKind, ...] = _catalog()
assert len(CATALOG) == 63 and CATALOG[8] == ProposalKind(8, "parent_class", "method_names_and_bodies")
