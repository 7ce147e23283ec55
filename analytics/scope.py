"""Which clients a viewer may see. Every read of the analytics layer goes through one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """The set of clients a viewer may see; `client_ids=None` means every client (an admin, the CLI).

    Access control decides the scope (a physio: their caseload; an instructor: their cohorts); the
    analytics layer only ever reads inside it.
    """

    client_ids: frozenset[str] | None = None

    @classmethod
    def everyone(cls) -> Scope:
        return cls(None)

    @classmethod
    def only(cls, client_ids: Iterable[str]) -> Scope:
        return cls(frozenset(client_ids))

    def narrowed_to(self, client_ids: Iterable[str]) -> Scope:
        """The clients of `client_ids` that this scope may see (a page showing one client, one cohort)."""
        wanted = frozenset(client_ids)
        return Scope(wanted if self.client_ids is None else wanted & self.client_ids)

    @property
    def is_everyone(self) -> bool:
        return self.client_ids is None
