"""How a report is laid out for reading: the title and notes, the Verdict, a short contents of
groups, then the sections gathered into a few groups a reader can skip (HTML shows them as
collapsible ``<details>``; Markdown as headed groups, each section one level down).

Sections are found by their ``## `` headings and placed by :data:`GROUPS` (first matching
prefix, longest first), keeping their order within a group; a section no group names goes to
:data:`OTHER`, so a new section shows up without editing this file."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

VERDICT = "Verdict"
"""The heading of the section that stays on top, outside every group."""

GROUPS: tuple[tuple[str, bool, tuple[str, ...]], ...] = (
    # (group, open in HTML, headings of its sections by prefix)
    ("Accuracy", True, ("Pooled WER", "WER by condition", "Paired differences", "Per file")),
    ("Speed and cost", False, ("Speed and cost",)),
    ("Diarization", False, ("Diarization", "Mix + diarization", "cpWER")),
    (
        "Where the errors are",
        False,
        ("Worst files", "Domain terms", "Confidence", "Top ", "Utterance errors"),
    ),
    ("Data problems", False, ("References with no words", "Warnings", "Failures")),
    ("Provenance", False, ("Provenance",)),
)
OTHER = ("More analyses", False)
"""Where a section no group names goes (before Data problems and Provenance)."""
FIGURES = "Figures"
"""The group the HTML report adds after the first one (Markdown has no figures)."""


@dataclass(frozen=True)
class Group:
    """The start of a group of sections: its title, and whether HTML shows it open."""

    title: str
    open: bool = False


@dataclass(frozen=True)
class Contents:
    """The groups' titles, rendered as a line of links (Markdown) or a short list (HTML)."""

    titles: tuple[str, ...]


def anchor(title: str) -> str:
    """The id of a heading, as GitHub makes it and the HTML report uses it."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"


def heading(block: object) -> str | None:
    """The title of a section's ``## `` heading block, else None."""
    if isinstance(block, str) and block.startswith("## "):
        return block[3:].splitlines()[0].strip()
    return None


def group_of(title: str) -> tuple[str, bool]:
    """The group (and whether it opens) a section of this title belongs to."""
    best, size = OTHER, -1
    for name, is_open, prefixes in GROUPS:
        for prefix in prefixes:
            if title.startswith(prefix) and len(prefix) > size:
                best, size = (name, is_open), len(prefix)
    return best


def _order() -> list[str]:
    names = [g[0] for g in GROUPS]
    return [*names[:-2], OTHER[0], *names[-2:]]


def _demote(block: object) -> object:
    """A heading one level down (a section inside a group)."""
    return "#" + block if isinstance(block, str) and block.startswith("##") else block


def grouped(blocks: Sequence[object]) -> list[object]:
    """The blocks laid out for reading: what precedes the first section, the Verdict, the
    contents, then each group (a :class:`Group` block, its sections' headings a level down)."""
    head: list[object] = []
    sections: list[list[object]] = []
    for block in blocks:
        if heading(block) is not None:
            sections.append([block])
        elif sections:
            sections[-1].append(block)
        else:
            head.append(block)
    top = [s for s in sections if heading(s[0]) == VERDICT]
    placed: dict[str, list[list[object]]] = {}
    opens: dict[str, bool] = {}
    for section in sections:
        title = heading(section[0])
        if title == VERDICT:
            continue
        name, is_open = group_of(title or "")
        opens[name] = is_open
        placed.setdefault(name, []).append([_demote(b) for b in section])
    names = [n for n in _order() if n in placed]
    out = [*head, *(b for s in top for b in s), Contents(tuple(names))]
    for name in names:
        parts = placed[name]
        if len(parts) == 1 and heading(parts[0][0][1:]) == name:  # "Speed and cost" alone
            parts = [parts[0][1:]]
        out += [Group(name, opens[name]), *(b for part in parts for b in part)]
    return out
