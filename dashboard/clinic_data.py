"""The one way the pages read the warehouse: analytics built once per day viewed, kept warm, and
rebuilt only when a load or a decision changed what they were built from.

Why a cache: building the analytics of every client (docs/metrics.md and docs/recommendations.md) takes about a
second at
10 000 clients, and a page must answer in a few tens of milliseconds. Each page's callback reads
the prepared tables of the built `Analytics`, filtered to what it shows.

Why it is safe:
- a load never writes the live warehouse file: it writes a copy and swaps it in (etl.warehouse),
  so a reader's connection never blocks a load. The cache notices the swap (the file's inode and
  modification time change), closes its connection and builds again from the new file. Its
  connections are private (`connect_private_reader`): DuckDB hands a process one open instance per
  file path, which after a swap would still be the old file while anyone held it.
- a decision is written to the clinic's records beside the warehouse (analytics.decisions); the cache
  notices a newer decision (one cheap query per request) and rebuilds only the steps that read them.
- one lock: a DuckDB connection is not for two threads at once. Each gunicorn worker has its own.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from access.roles import Viewer
from analytics import Analytics, Scope
from analytics.decisions import decisions_version, read_decisions
from analytics.red_flags import RedFlagWords, load_red_flag_words
from analytics.reviews import read_reviews, reviews_version
from analytics.today import NEWEST, Today, resolve_today
from etl import replica
from etl.settings import Settings
from etl.summary import WarehouseSummary, quarantined_rows, warehouse_summary
from etl.warehouse import connect_private_reader

DAYS_KEPT = 2  # the default day and one reviewed past day stay warm


def _stamp(*paths: Path) -> tuple:
    """What changes when a file is replaced or written: inode, size, modification time."""
    stamp = []
    for path in paths:
        try:
            s = path.stat()
            stamp.append((s.st_ino, s.st_size, s.st_mtime_ns))
        except FileNotFoundError:
            stamp.append(None)
    return tuple(stamp)


@dataclass
class ClinicData:
    """The warehouse at `db` as the pages see it. `today` is the default day (analytics.today: a date,
    NEWEST, or None: the current date), from `hipline serve --today` or HIPLINE_TODAY. `settings` are
    the ones the command read at its start (the red-flag words; how the import page loads files)."""

    db: Path
    today: Today = None
    settings: Settings = field(default_factory=Settings)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _built: OrderedDict = field(default_factory=OrderedDict, repr=False)  # day -> Analytics
    _warehouse_stamp: tuple | None = field(default=None, repr=False)
    _decisions_seen: tuple[int, int] | None = field(default=None, repr=False)
    _newest: date | None = field(default=None, repr=False)
    _words: RedFlagWords | None = field(default=None, repr=False)
    _follower: replica.Follower | None = field(default=None, repr=False)

    def _forget(self) -> None:
        for analytics in self._built.values():
            analytics.close()
        self._built.clear()
        self._newest = None

    def _check(self) -> None:
        """Drop what was built from an older warehouse file; apply newly recorded decisions and red-flag
        reviews."""
        stamp = _stamp(self.db, self.db.with_name(self.db.name + ".wal"))
        if stamp != self._warehouse_stamp:
            self._forget()
            self._warehouse_stamp = stamp
            self._decisions_seen = _records_version(self.db)
            return
        newest = _records_version(self.db)
        if newest != self._decisions_seen:
            self._decisions_seen = newest
            if self._built:
                decisions, reviews = read_decisions(self.db), read_reviews(self.db)
                for analytics in self._built.values():
                    analytics.use_decisions(decisions, reviews)

    def has_data(self) -> bool:
        """Whether there is anything to show: a warehouse with at least one client. (A first upload of
        files that could not be read leaves a warehouse holding only its load history.)"""
        with self._lock:
            self._check()
            if not self.db.exists():
                return False
            with self._everyone() as analytics:
                return analytics.client_count() > 0

    def default_today(self) -> date:
        """The day the pages show unless the viewer picks another (the newest session's is read once
        per warehouse file)."""
        with self._lock:
            self._check()
            if self.today != NEWEST:
                return resolve_today(self.today)
            if self._newest is None:
                if self._built:
                    self._newest = resolve_today(NEWEST, next(iter(self._built.values())).con)
                else:
                    con = connect_private_reader(self.db)
                    try:
                        self._newest = resolve_today(NEWEST, con)
                    finally:
                        con.close()
            return self._newest

    @contextlib.contextmanager
    def analytics(
        self, viewer: Viewer, today: date | None = None, on_outside: Callable[[str], None] | None = None
    ) -> Iterator[Analytics]:
        """The analytics as of `today` (default: `default_today()`) as `viewer` may see them
        (docs/security.md#roles-and-what-each-may-do:
        every read narrowed to their scope), held under the lock; `on_outside(client_id)` hears of a
        read asked for a client outside it. Raises FileNotFoundError when nothing has been loaded yet."""
        with self._everyone(today) as built:
            yield built.within(built.scope_of(viewer.role, viewer.staff_id), on_outside)

    @contextlib.contextmanager
    def _everyone(self, today: date | None = None) -> Iterator[Analytics]:
        """The analytics of every client, built once per day and kept warm; never handed to a page."""
        with self._lock:
            self._check()
            day = today or self.default_today()
            built = self._built.get(day)
            if built is None:
                if self._words is None:
                    self._words = load_red_flag_words(self.settings.red_flags)
                con = connect_private_reader(self.db)
                try:
                    built = Analytics(
                        con, Scope.everyone(), day, self._words, read_decisions(self.db), read_reviews(self.db)
                    )
                    built.prepare_for_pages()  # words kept, indexes by client: a page reads one client at a time
                except BaseException:
                    con.close()
                    raise
                self._built[day] = built
                while len(self._built) > DAYS_KEPT:
                    self._built.popitem(last=False)[1].close()
            self._built.move_to_end(day)
            yield built

    def summary(self, quarantine_limit: int = 500) -> WarehouseSummary:
        """Counts, load history and quarantined rows (the import page)."""
        with self._lock:
            self._check()
            return warehouse_summary(self.db, quarantine_limit)

    def quarantined(self, file: str | None, limit: int) -> list[tuple]:
        """Quarantined rows (source_file, source_row, kind, reason, raw), of one file or all."""
        with self._lock:
            self._check()
            return quarantined_rows(self.db, file, limit)

    def follow_network(self) -> None:
        """A clinic network (settings.database_url): keep this host's copy of the clinic data current, from a
        thread of its own (etl.replica.follow: a check of PostgreSQL's data_version a second, a new copy
        swapped in when a load was published). The pages notice the new file as they notice a load's, by its
        stamp (`_check`), and build from it; until then they serve the copy they have."""
        if self.settings.database_url and self._follower is None:
            self._follower = replica.follow(
                self.db, self.settings.database_url, memory_limit=self.settings.memory_limit
            )

    def stop_following(self) -> None:
        if self._follower is not None:
            self._follower.stop()
            self._follower = None

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Around a load started from the pages: nothing of this process holds the old file open."""
        with self._lock:
            self._forget()
            self._warehouse_stamp = None
            yield


_CURRENT: ClinicData | None = None


def use(clinic: ClinicData) -> None:
    """The warehouse this process serves (set once by `dashboard.app.create_app`); in a clinic network, its
    copy of the clinic data is kept current from now on."""
    global _CURRENT
    if _CURRENT is not None:
        _CURRENT.stop_following()
    _CURRENT = clinic
    clinic.follow_network()


def clinic() -> ClinicData:
    if _CURRENT is None:
        raise RuntimeError("no warehouse: create the app with dashboard.app.create_app(db)")
    return _CURRENT


def _records_version(db: Path) -> tuple[int, int]:
    """Changes when a decision or a red-flag review is recorded: one cheap query each per request."""
    return decisions_version(db), reviews_version(db)
