"""Reading CSV files into the load's copy while workbooks and JSON Lines are still being staged.

The two slow starts of a big load use different things: DuckDB reading the CSV session logs runs on its own
threads without Python's lock, while a workbook or a JSON Lines file is staged row by row in Python, which
holds it. So, as soon as the CSV files are sniffed, their read (etl.read.csv_scan, the first step of their
load) starts in a thread of its own while the others are staged; etl.load then takes the tables read ahead
instead of reading the files again. At 10 000 clients the staging (0.7 s of Python) then runs beside the
read (1.2 s).

Only files that will certainly be loaded are read ahead (their content is not in the warehouse yet, and no
earlier file of this load has the same bytes); files are grouped into reads as etl.load groups them. A
read that fails is dropped: the file's own load reads it again and reports what is wrong.
"""

from __future__ import annotations

import contextlib
import threading

import duckdb

from etl import read
from etl.read import Prepared
from etl.warehouse import run


class ReadAhead:
    """CSV reads into temporary tables of `con`, in a thread, until `wait`; `take` hands one over. `con` must
    not be used by anything else until `wait` has returned."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._thread: threading.Thread | None = None
        self._read: dict[tuple[str, ...], str] = {}  # the files' paths -> the name of the read's tables
        self._stopping = threading.Event()
        # Set by the thread as it ends. Not Thread.join: in Python 3.11 a join that a signal interrupts (a stop,
        # `kill`) marks a thread that is still running as stopped, and a process that exits while DuckDB
        # still reads in it aborts.
        self._done = threading.Event()

    def start(self, batches: list[list[Prepared]]) -> None:
        """Read each batch (files of one layout, read together) in a thread, one after the other."""
        if batches:
            self._thread = threading.Thread(target=self._read_all, args=(batches,), name="read-ahead", daemon=True)
            self._thread.start()

    def _read_all(self, batches: list[list[Prepared]]) -> None:
        try:
            for number, batch in enumerate(batches):
                if self._stopping.is_set():
                    return
                self._read_one(number, batch)
        finally:
            self._done.set()

    def _read_one(self, number: int, batch: list[Prepared]) -> None:
        paths = tuple(str(p.read_path) for p in batch)
        name = f"ahead_{number}"
        scan = read.csv_scan(batch[0], paths, f"rejects_{name}")
        try:
            run(self._con, f"CREATE TEMP TABLE scanned_{name} AS {scan}")
        except duckdb.Error:  # the file's own step reads it again, and says what is wrong
            with contextlib.suppress(duckdb.Error):  # (`close` may be interrupting this thread)
                self._drop(name)
            return
        self._read[paths] = name

    def wait(self) -> None:
        if self._thread is not None:
            self._done.wait()
            self._thread = None

    def take(self, paths: tuple[str, ...]) -> tuple[str, str] | None:
        """(the table of the rows read, the table of the lines rejected) of these files' read, or None."""
        name = self._read.pop(paths, None)
        return None if name is None else (f"scanned_{name}", f"rejects_{name}")

    def close(self) -> None:
        """Stop a read still running (a load that failed, or was stopped, before it needed the reads) and drop
        the reads nobody took."""
        if self._thread is not None:
            self._stopping.set()
            # A thread that has no ident yet has not begun: it will see `_stopping` before it reads anything.
            if self._thread.ident is not None:
                while not self._done.wait(0.05):  # a read may start just after an interrupt: interrupt until done
                    self._con.interrupt()
            self._thread = None
        for name in self._read.values():
            # Temporary tables go with the connection anyway: a drop that fails must not hide why a load failed.
            with contextlib.suppress(duckdb.Error):
                self._drop(name)
        self._read.clear()

    def _drop(self, name: str) -> None:
        for table in (f"scanned_{name}", f"rejects_{name}", f"rejects_{name}_scan"):
            run(self._con, f"DROP TABLE IF EXISTS {table}")
