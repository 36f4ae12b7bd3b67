"""How the mitigations linked to a threat combine into a pair's status, and what it rests on.

Each link from a threat to a mitigation has a role against that threat's technique (data in
the catalog, never code):

- `prevents`: on its own, the control stops this technique;
- `layer` (the default when nothing is said): one of several defences that stop it together;
- `detects`: notices it after the fact; it never mitigates.

A pair is **mitigated** when a `prevents` link holds, or when every `layer` link holds (and
there is at least one). It is **partially mitigated** when some `prevents` or `layer` link
holds at least in part but neither of those is true, and **unmitigated** otherwise. A link
holds when its mitigation is declared implemented and no evidence of it has drifted; it holds
in part when the mitigation is declared partial.

What a mitigated pair rests on: **verified** when a set of links that suffices holds with all
its evidence passing against the source; **claimed** when it rests on declarations alone (no
source given, or a mitigation without evidence). A decision (accept, false positive) is
**decided**. The conservative default (`layer`) means a threat that lists several controls is
mitigated only when all of them hold, unless the catalog says one `prevents` on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from threatgraph.vocabulary import MITIGATED, PARTIAL, UNMITIGATED

PREVENTS, LAYER, DETECTS = "prevents", "layer", "detects"
ROLES = (PREVENTS, LAYER, DETECTS)
VERIFIED, CLAIMED, DECIDED = "verified", "claimed", "decided"


@dataclass(frozen=True)
class Link:
    """One mitigation as it acts on one pair."""

    mitigation: str
    role: str  # prevents, layer, detects
    strength: str  # full (implemented, no drift), partial, none
    verified: bool  # its evidence was checked against the source and every item holds
    declared: str = ""  # implemented, partial, planned, absent, not-applicable
    drift: bool = False
    where: str = ""  # where its evidence holds (file:line), when verified


@dataclass(frozen=True)
class Outcome:
    status: str
    basis: str  # verified, claimed, or "" when not mitigated
    holding: tuple[str, ...]  # the mitigations that make it mitigated (or hold in part)
    reason: str


def _state(link: Link) -> str:
    if link.drift:
        return "drifted"
    if link.strength == "full":
        return "holds" + (f" at {link.where}" if link.verified and link.where else
                          "" if link.verified else " (claimed, not verified)")
    if link.strength == "partial":
        return "holds in part"
    return f"is {link.declared or 'absent'}"


def _describe(links: Sequence[Link]) -> str:
    return "; ".join(f"{link.role} {link.mitigation} {_state(link)}" for link in links)


def combine(links: Sequence[Link]) -> Outcome:
    """The status of one pair from its links (decisions are applied by the caller)."""
    acting = [link for link in links if link.role != DETECTS]
    prevents = [link for link in acting if link.role == PREVENTS and link.strength == "full"]
    layers = [link for link in acting if link.role == LAYER]
    layers_hold = bool(layers) and all(link.strength == "full" for link in layers)
    detail = _describe(links) if links else "no mitigation is linked"
    if prevents or layers_hold:
        sufficient: list[list[Link]] = [[link] for link in prevents] + ([layers] if layers_hold else [])
        verified = next((s for s in sufficient if all(link.verified for link in s)), None)
        chosen = verified or sufficient[0]
        basis = VERIFIED if verified is not None else CLAIMED
        return Outcome(MITIGATED, basis, tuple(link.mitigation for link in chosen), f"mitigated ({basis}): {detail}")
    in_part = [link for link in acting if link.strength in ("full", "partial")]
    if in_part:
        return Outcome(PARTIAL, "", tuple(link.mitigation for link in in_part), f"partially mitigated: {detail}")
    return Outcome(UNMITIGATED, "", (), f"unmitigated: {detail}")
