"""Which clients a viewer may see. Every read of the analytics layer goes through one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """The clients a viewer may see; `client_ids=None` means every client (an admin, the CLI). And the
    cohorts whose pages they may open; `cohort_ids=None` means every cohort.

    Access control decides the scope (docs/security.md#roles-and-what-each-may-do: a physio, their caseload; an
    instructor, the members of
    the cohorts they instruct; see `Analytics.scope_of`); the analytics layer only ever reads inside it.
    A cohort's roll-ups are computed over the members in the scope.
    """

    client_ids: frozenset[str] | None = None
    cohort_ids: frozenset[str] | None = None

    @classmethod
    def everyone(cls) -> Scope:
        return cls(None)

    @classmethod
    def only(cls, client_ids: Iterable[str], cohort_ids: Iterable[str] | None = None) -> Scope:
        return cls(frozenset(client_ids), None if cohort_ids is None else frozenset(cohort_ids))

    def narrowed_to(self, client_ids: Iterable[str]) -> Scope:
        """The clients of `client_ids` that this scope may see (a page showing one client, one cohort)."""
        return self.within(Scope(frozenset(client_ids)))

    def within(self, other: Scope) -> Scope:
        """What both scopes may see: narrowing never widens."""
        return Scope(_both(self.client_ids, other.client_ids), _both(self.cohort_ids, other.cohort_ids))

    def sees_client(self, client_id: str | None) -> bool:
        return self.client_ids is None or client_id in self.client_ids

    def sees_cohort(self, cohort_id: str | None) -> bool:
        return self.cohort_ids is None or cohort_id in self.cohort_ids

    @property
    def is_everyone(self) -> bool:
        return self.client_ids is None and self.cohort_ids is None


def _both(mine: frozenset[str] | None, theirs: frozenset[str] | None) -> frozenset[str] | None:
    if mine is None:
        return theirs
    return mine if theirs is None else mine & theirs
