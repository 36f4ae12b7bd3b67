"""What a model file declares for graph analysis: invariants, entry points and targets.

A model binds one `Declarations` object at module level (any name); threatgraph finds it
when it loads the model. Elements are given as the pytm objects themselves (or their ids),
so a rename never breaks an invariant::

    from threatgraph.declare import Declarations, always_through, never_reaches, crossing_flows

    analysis = Declarations(
        invariants=[
            always_through(agent, [internet], via=[squid], name="egress goes through Squid"),
            never_reaches(agent, [docker_socket]),
            crossing_flows(tb_vm, encrypted=True, exceptions=[agent_dns]),
        ],
        entry_points=[agent],
        targets=[credentials_store, internet],
    )

Nothing here runs model code or reads files; these are plain values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from threatgraph.location import Location

Ref = Any  # a pytm element, boundary or flow, or its threatgraph id


def _refs(value: Ref | Iterable[Ref] | None) -> tuple[Ref, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(value)
    return (value,)


@dataclass(frozen=True)
class Invariant:
    kind: str  # "always_through", "never_reaches", "crossing_flows"
    name: str
    sources: tuple[Ref, ...] = ()
    targets: tuple[Ref, ...] = ()
    via: tuple[Ref, ...] = ()
    boundary: Ref | None = None
    encrypted: bool | None = None
    authenticated: bool | None = None
    exceptions: tuple[Ref, ...] = ()
    description: str = ""


def always_through(sources: Ref | Iterable[Ref], targets: Ref | Iterable[Ref], via: Ref | Iterable[Ref],
                   name: str = "", description: str = "") -> Invariant:
    """Every path from any source to any target passes through at least one `via` element."""
    return Invariant("always_through", name or "paths pass through the given elements", _refs(sources),
                     _refs(targets), _refs(via), description=description)


def never_reaches(sources: Ref | Iterable[Ref], targets: Ref | Iterable[Ref], name: str = "",
                  description: str = "") -> Invariant:
    """No open path leads from any source to any target."""
    return Invariant("never_reaches", name or "no path to the given targets", _refs(sources), _refs(targets),
                     description=description)


def crossing_flows(boundary: Ref, *, encrypted: bool | None = None, authenticated: bool | None = None,
                   exceptions: Ref | Iterable[Ref] = (), name: str = "", description: str = "") -> Invariant:
    """Every open flow crossing `boundary` has the required properties (listed exceptions aside)."""
    if encrypted is None and authenticated is None:
        raise ValueError("crossing_flows needs encrypted=True and/or authenticated=True")
    return Invariant("crossing_flows", name or "flows crossing the boundary are protected", boundary=boundary,
                     encrypted=encrypted, authenticated=authenticated, exceptions=_refs(exceptions),
                     description=description)


@dataclass(frozen=True)
class Declarations:
    invariants: Iterable[Invariant] = ()
    entry_points: Iterable[Ref] = ()
    targets: Iterable[Ref] = ()
    k_paths: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "invariants", tuple(self.invariants))
        object.__setattr__(self, "entry_points", tuple(self.entry_points))
        object.__setattr__(self, "targets", tuple(self.targets))


@dataclass(frozen=True)
class Resolved:
    """Declarations with every reference turned into a model id (what analyses read)."""

    invariants: tuple[Invariant, ...] = ()
    entry_points: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    k_paths: int = 3
    location: Location = Location("", 0)
    extra: dict[str, Any] = field(default_factory=dict)
