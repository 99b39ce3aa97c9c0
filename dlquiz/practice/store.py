"""The progress database: every graded answer committed the moment it is graded.

SQLite in WAL mode with a busy timeout, so two terminals practising at once both write
(one waits a few milliseconds for the other), and ``synchronous=FULL``, so a committed
answer survives the process being killed (and a power cut). Every write that reads
before it writes (a family's card) runs in ``BEGIN IMMEDIATE``, so two processes never
lose each other's update.

The schema has a version (``PRAGMA user_version``) and a chain of migrations; a fresh
database runs the whole chain, so the oldest schema is real code, not history. A
database from an older version is copied to ``progress.db.v<N>.bak`` and migrated in one
transaction, keeping every row. A newer one is refused untouched.

Tables (version 3):
- ``sessions``: one per ``dlquiz practice`` (mode, seed, topics, n, start, end and why).
- ``problems``: one per problem shown: family, topic, variant seed, a hash of its
  statement, position in the session, the version of the family that built it (NULL:
  recorded before versions were kept, version 3), and once it ends its outcome, FSRS
  rating, tries, hints, seconds and whether the solution was viewed. ``outcome`` NULL:
  unfinished.
- ``attempts``: one per graded answer: the answer text, right or wrong, the judge's
  mistake tag and feedback, the try number, hints seen so far, seconds since shown.
- ``cards``: one FSRS card per family (JSON), a cache that ``rebuild_cards`` can
  recompute from ``problems`` at any time.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from dlquiz.practice import scheduler as sched
from dlquiz.practice.paths import database_path, describe_data_dir

if TYPE_CHECKING:
    from fsrs import Card

SCHEMA_VERSION = 3
BUSY_TIMEOUT = 30.0  # seconds a writer waits for another process's transaction


class StoreError(RuntimeError):
    """The progress database cannot be opened or written (the message says which and why)."""


def timestamp(at: datetime) -> str:
    """UTC ISO 8601 with microseconds: sorts as text in time order."""
    if at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- migrations: version N is reached by MIGRATIONS[N] ------------------------------------

_V1 = (
    """CREATE TABLE problems (
        id INTEGER PRIMARY KEY,
        family TEXT NOT NULL,
        seed INTEGER NOT NULL,
        shown_at TEXT NOT NULL,
        ended_at TEXT,
        outcome TEXT,
        tries INTEGER NOT NULL DEFAULT 0,
        hints INTEGER NOT NULL DEFAULT 0,
        seconds REAL
    )""",
    """CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        problem_id INTEGER NOT NULL REFERENCES problems(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        answer TEXT NOT NULL,
        correct INTEGER NOT NULL,
        mistake TEXT,
        hints INTEGER NOT NULL DEFAULT 0,
        seconds REAL NOT NULL
    )""",
)

_V2 = (
    """CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        end_reason TEXT,
        mode TEXT NOT NULL,
        seed INTEGER,
        topics TEXT NOT NULL DEFAULT '',
        families TEXT NOT NULL DEFAULT '',
        n INTEGER
    )""",
    "ALTER TABLE problems ADD COLUMN session_id INTEGER REFERENCES sessions(id)",
    "ALTER TABLE problems ADD COLUMN topic TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE problems ADD COLUMN position INTEGER",
    "ALTER TABLE problems ADD COLUMN variant TEXT",
    "ALTER TABLE problems ADD COLUMN rating INTEGER",
    "ALTER TABLE problems ADD COLUMN solution_viewed INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE attempts ADD COLUMN try_number INTEGER",
    "ALTER TABLE attempts ADD COLUMN feedback TEXT",
    # Version 1 stored no topic: a family id starts with its topic ("mlp/forward").
    """UPDATE problems SET topic = CASE WHEN instr(family, '/') > 0
        THEN substr(family, 1, instr(family, '/') - 1) ELSE family END""",
    f"""UPDATE problems SET rating = CASE outcome
        WHEN '{sched.RIGHT}' THEN {sched.GOOD}
        WHEN '{sched.RIGHT_AFTER_HELP}' THEN {sched.HARD}
        ELSE {sched.AGAIN} END
        WHERE outcome IS NOT NULL""",
    # Version 1 numbered no tries: number each problem's attempts in order.
    """UPDATE attempts SET try_number = (SELECT count(*) FROM attempts AS a
        WHERE a.problem_id = attempts.problem_id AND a.id <= attempts.id)""",
    """CREATE TABLE cards (
        family TEXT PRIMARY KEY,
        card TEXT NOT NULL,
        reviews INTEGER NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX problems_family ON problems(family, id)",
    "CREATE INDEX problems_session ON problems(session_id)",
    "CREATE INDEX attempts_problem ON attempts(problem_id)",
)


# Version 3: the content version of the family that built each problem (``Family.version``),
# so ``history`` can say when ``dlquiz show FAMILY --seed N`` may now give another problem.
_V3 = ("ALTER TABLE problems ADD COLUMN family_version TEXT",)


def _run(statements: Sequence[str]) -> Callable[[sqlite3.Connection], None]:
    def step(conn: sqlite3.Connection) -> None:
        for sql in statements:
            conn.execute(sql)

    return step


def _to_v2(conn: sqlite3.Connection) -> None:
    _run(_V2)(conn)
    rebuild_cards(conn)


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _run(_V1),
    2: _to_v2,
    3: _run(_V3),
}


def rebuild_cards(conn: sqlite3.Connection) -> int:
    """Recompute every family's card by replaying its rated problems in time order."""
    conn.execute("DELETE FROM cards")
    cards: dict[str, tuple[Card, int, str]] = {}
    rows = conn.execute(
        "SELECT family, rating, ended_at FROM problems"
        " WHERE rating IS NOT NULL AND ended_at IS NOT NULL ORDER BY ended_at, id"
    )
    for family, rating, ended_at in rows:
        card, count, _ = cards.get(family, (None, 0, ""))
        card = sched.review(card, family, rating, parse_timestamp(ended_at))
        cards[family] = (card, count + 1, ended_at)
    conn.executemany(
        "INSERT INTO cards (family, card, reviews, updated_at) VALUES (?, ?, ?, ?)",
        [(f, sched.card_to_json(c), n, at) for f, (c, n, at) in cards.items()],
    )
    return len(cards)


@dataclass(frozen=True)
class VariantHistory:
    """What a family's practice has shown so far (to pick a variant not seen recently)."""

    count: int  # problems of the family shown
    seeds: frozenset[int]
    recent: tuple[str, ...]  # statement hashes of the latest problems, newest first


# SQLite's primary result codes (``sqlite3.Error.sqlite_errorcode & 0xFF``).
_READONLY, _CORRUPT, _CANTOPEN, _NOTADB = 8, 11, 14, 26


def _code(exc: sqlite3.Error) -> int | None:
    """The primary result code of an SQLite error (by its text where Python has no code)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return int(code) & 0xFF
    text = str(exc).lower()
    for needle, value in (
        ("malformed", _CORRUPT),
        ("not a database", _NOTADB),
        ("readonly", _READONLY),
        ("unable to open", _CANTOPEN),
    ):
        if needle in text:
            return value
    return None


def _damaged(exc: sqlite3.Error) -> bool:
    return _code(exc) in (_CORRUPT, _NOTADB)


def _read_only(exc: sqlite3.Error) -> bool:
    return _code(exc) in (_READONLY, _CANTOPEN)


def _uri(path: Path, **options: str) -> str:
    """A ``file:`` URI for any path (also one with ``?``, ``#`` or undecodable bytes)."""
    query = "&".join(f"{k}={v}" for k, v in options.items())
    return f"file:{quote(os.fsencode(path))}" + (f"?{query}" if query else "")


def _require_folder(folder: Path, *, create: bool) -> None:
    """The data directory must be a folder (created if asked); else a one-line error."""
    try:
        st = os.stat(folder)
    except FileNotFoundError:
        if not create:
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise StoreError(_not_a_folder(folder)) from None
        except OSError as exc:
            raise StoreError(
                f"cannot create the data directory {folder}: {exc.strerror or exc}"
            ) from None
        return
    except NotADirectoryError:
        raise StoreError(_not_a_folder(folder)) from None
    except OSError as exc:
        raise StoreError(f"cannot use the data directory {folder}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise StoreError(_not_a_folder(folder))


def _not_a_folder(folder: Path) -> str:
    return (
        f"{describe_data_dir()} {folder} is not a folder (it, or a part of its path, is a "
        "file): point DLQUIZ_HOME at a folder for the progress database"
    )


class Store:
    """A connection to the progress database (one per process; not shared across threads).

    Before anything is written the database passes ``PRAGMA quick_check`` on a read-only
    connection (which never checkpoints a leftover WAL into it): a damaged database gets
    a ``StoreError`` and is never written. With ``read_only=True`` (the commands that only
    report) a database that cannot be written is opened read-only, and ``immutable`` where
    its folder cannot hold the WAL's files; without it, such a database is a
    ``StoreError`` before anything happens.
    """

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        timeout: float = BUSY_TIMEOUT,
        read_only: bool = False,
    ) -> None:
        self.path = Path(path) if path is not None else database_path()
        self.read_only = False  # True: this connection cannot write (see the docstring)
        _require_folder(self.path.parent, create=not read_only)
        checked = self._check(timeout) if self.path.exists() else None
        writable = os.access(self.path.parent, os.W_OK) and (
            checked is None or os.access(self.path, os.W_OK)
        )
        if not writable:
            if checked is not None:
                checked.close()
            if not read_only:
                raise StoreError(self._read_only_message())
            self._open_read_only(timeout)
            return
        if checked is not None:
            checked.close()
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the progress database {self.path}: {exc}") from None
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = FULL")
            self.conn.execute("PRAGMA foreign_keys = ON")
            if not read_only:
                self._probe_write()
            self._migrate()
        except sqlite3.Error as exc:
            self.conn.close()
            if _read_only(exc):
                if not read_only:
                    raise StoreError(self._read_only_message()) from None
                self._open_read_only(timeout)
                return
            raise StoreError(self._error("cannot use", exc)) from None
        except StoreError:
            self.conn.close()
            raise

    # --- opening ------------------------------------------------------------------------
    def _connect_read_only(self, timeout: float) -> sqlite3.Connection:
        """``mode=ro``, or ``immutable=1`` where the WAL's files cannot be created."""
        last: sqlite3.Error | None = None
        for options in ({"mode": "ro"}, {"mode": "ro", "immutable": "1"}):
            try:
                conn = sqlite3.connect(
                    _uri(self.path, **options), uri=True, timeout=timeout, isolation_level=None
                )
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.Error as exc:
                if _damaged(exc):
                    raise StoreError(self._damaged_message(exc)) from None
                last = exc
        raise StoreError(self._error("cannot open", last)) from None

    def _check(self, timeout: float) -> sqlite3.Connection:
        """``PRAGMA quick_check`` on a read-only connection, returned open on success."""
        conn = self._connect_read_only(timeout)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        except sqlite3.Error as exc:
            conn.close()
            if _damaged(exc):
                raise StoreError(self._damaged_message(exc)) from None
            raise StoreError(self._error("cannot check", exc)) from None
        if rows != [("ok",)]:
            conn.close()
            first = " ".join(str(rows[0][0]).split())[:100] if rows else "no answer"
            raise StoreError(self._damaged_message(first))
        return conn

    def _open_read_only(self, timeout: float) -> None:
        self.conn = self._connect_read_only(timeout)
        self.read_only = True
        try:
            version = self.schema_version
        except sqlite3.Error as exc:
            self.conn.close()
            raise StoreError(self._error("cannot read", exc)) from None
        if version != SCHEMA_VERSION:
            self.conn.close()
            if version > SCHEMA_VERSION:
                raise StoreError(self._newer_message(version))
            raise StoreError(
                f"the progress database {self.path} has an older schema (version {version}) "
                f"and must be upgraded to version {SCHEMA_VERSION}, which needs a writable "
                f"folder: make {self.path.parent} and the database writable, then run the "
                "command again"
            )

    def _probe_write(self) -> None:
        """Take the write lock and give it back: a read-only file fails here, not later."""
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("ROLLBACK")

    # --- messages -------------------------------------------------------------------------
    def _read_only_message(self) -> str:
        return (
            f"the progress database {self.path} cannot be written (it or its folder is "
            "read-only): this command must write it; `dlquiz stats` and `dlquiz history` "
            "can still show the progress"
        )

    def _damaged_message(self, why: object) -> str:
        return (
            f"the progress database {self.path} is damaged ({why}); nothing was written "
            "to it: move it away to start afresh (keep the copy: `sqlite3 FILE .recover` "
            "may save its rows)"
        )

    def _newer_message(self, version: int) -> str:
        return (
            f"the progress database {self.path} was written by a newer dlquiz (schema "
            f"{version}; this one knows up to {SCHEMA_VERSION}): upgrade dlquiz"
        )

    def _error(self, what: str, exc: sqlite3.Error | None) -> str:
        if exc is not None and _damaged(exc):
            return self._damaged_message(exc)
        return f"{what} the progress database {self.path}: {exc}"

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """SQLite errors of a read as a ``StoreError`` (damage found later says so)."""
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(self._error("cannot read", exc)) from None

    # --- plumbing -------------------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ensure_writable(self) -> None:
        """``StoreError`` if this store was opened read-only (before asking to change it)."""
        self._writable()

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(
                f"the progress database {self.path} is open read-only (it or its folder "
                "cannot be written): nothing was changed"
            )

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            with suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that holds the write lock from its start (no lost update)."""
        self._writable()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(self._error("cannot write", exc)) from None
        try:
            yield self.conn
        except sqlite3.Error as exc:
            self._rollback()
            raise StoreError(self._error("cannot write", exc)) from None
        except BaseException:
            self._rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise StoreError(self._error("cannot write", exc)) from None

    def _write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement in its own transaction (committed when it returns)."""
        self._writable()
        try:
            cur = self.conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise StoreError(self._error("cannot write", exc)) from None
        return int(cur.lastrowid or 0)

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise StoreError(self._newer_message(version))
        if version == SCHEMA_VERSION:
            return
        if version > 0:
            self._backup(version)  # (a backup cannot run inside the write transaction)
        with self.transaction() as conn:
            version = self.schema_version  # another process may have migrated meanwhile
            if version == SCHEMA_VERSION:
                return
            for v in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[v](conn)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _backup(self, version: int) -> None:
        """Keep a copy of the old database next to it before migrating it."""
        target = self.path.with_name(f"{self.path.name}.v{version}.bak")
        if target.exists():
            return
        partial = target.with_name(target.name + ".partial")
        copy = sqlite3.connect(str(partial))
        try:
            self.conn.backup(copy)
        finally:
            copy.close()
        partial.replace(target)

    # --- writes -----------------------------------------------------------------------
    def start_session(
        self,
        *,
        mode: str,
        at: datetime,
        seed: int | None = None,
        topics: Sequence[str] = (),
        families: Sequence[str] = (),
        n: int | None = None,
    ) -> int:
        return self._write(
            "INSERT INTO sessions (started_at, mode, seed, topics, families, n)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (timestamp(at), mode, seed, ",".join(topics), ",".join(families), n),
        )

    def end_session(self, session_id: int, *, at: datetime, reason: str) -> None:
        self._write(
            "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ?",
            (timestamp(at), reason, session_id),
        )

    def start_problem(
        self,
        *,
        family: str,
        topic: str,
        seed: int,
        at: datetime,
        session_id: int | None = None,
        position: int | None = None,
        variant: str | None = None,
        family_version: str | None = None,
    ) -> int:
        return self._write(
            "INSERT INTO problems (session_id, family, topic, seed, variant, position, shown_at,"
            " family_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (session_id, family, topic, seed, variant, position, timestamp(at), family_version),
        )

    def record_attempt(
        self,
        problem_id: int,
        *,
        answer: str,
        correct: bool,
        mistake: str | None,
        feedback: str,
        try_number: int,
        hints: int,
        seconds: float,
        at: datetime,
    ) -> int:
        """One graded answer, committed before this returns."""
        return self._write(
            "INSERT INTO attempts (problem_id, at, answer, correct, mistake, feedback,"
            " try_number, hints, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                problem_id,
                timestamp(at),
                answer,
                int(correct),
                mistake,
                feedback,
                try_number,
                hints,
                seconds,
            ),
        )

    def finish_problem(
        self,
        problem_id: int,
        *,
        outcome: str,
        tries: int,
        hints: int,
        seconds: float,
        solution_viewed: bool,
        at: datetime,
    ) -> Card:
        """Close a problem with its outcome and review its family's card, atomically."""
        rating = sched.rating_for(outcome)
        with self.transaction() as conn:
            row = conn.execute("SELECT family FROM problems WHERE id = ?", (problem_id,)).fetchone()
            if row is None:
                raise StoreError(f"no problem {problem_id} in {self.path}")
            family = row[0]
            card = self._card(family)
            card = sched.review(card, family, rating, at)
            conn.execute(
                "UPDATE problems SET ended_at = ?, outcome = ?, rating = ?, tries = ?,"
                " hints = ?, seconds = ?, solution_viewed = ? WHERE id = ?",
                (
                    timestamp(at),
                    outcome,
                    rating,
                    tries,
                    hints,
                    seconds,
                    int(solution_viewed),
                    problem_id,
                ),
            )
            conn.execute(
                "INSERT INTO cards (family, card, reviews, updated_at) VALUES (?, ?, 1, ?)"
                " ON CONFLICT(family) DO UPDATE SET card = excluded.card,"
                " reviews = reviews + 1, updated_at = excluded.updated_at",
                (family, sched.card_to_json(card), timestamp(at)),
            )
        return card

    def discard_problem(self, problem_id: int) -> None:
        """Forget a problem that was shown but never answered (the session ended first)."""
        self._write(
            "DELETE FROM problems WHERE id = ? AND outcome IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM attempts WHERE problem_id = ?)",
            (problem_id, problem_id),
        )

    def reset(self) -> dict[str, int]:
        """Delete all progress; returns how many rows of each kind went."""
        with self.transaction() as conn:
            counts = self.counts()
            for table in ("attempts", "problems", "sessions", "cards"):
                conn.execute(f"DELETE FROM {table}")
        return counts

    # --- reads ------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        with self._reading():
            return {
                table: int(self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table in ("sessions", "problems", "attempts", "cards")
            }

    def _card(self, family: str) -> Card | None:
        row = self.conn.execute("SELECT card FROM cards WHERE family = ?", (family,)).fetchone()
        return sched.card_from_json(row[0]) if row else None

    def card(self, family: str) -> Card | None:
        """A family's FSRS card (None: never practised)."""
        with self._reading():
            return self._card(family)

    def cards(self) -> dict[str, Card]:
        with self._reading():
            return {
                family: sched.card_from_json(text)
                for family, text in self.conn.execute("SELECT family, card FROM cards")
            }

    def variants(self, family: str, recent: int = 20) -> VariantHistory:
        with self._reading():
            return self._variants(family, recent)

    def _variants(self, family: str, recent: int) -> VariantHistory:
        count = self.conn.execute(
            "SELECT count(*) FROM problems WHERE family = ?", (family,)
        ).fetchone()[0]
        seeds = frozenset(
            s for (s,) in self.conn.execute("SELECT seed FROM problems WHERE family = ?", (family,))
        )
        latest = tuple(
            v
            for (v,) in self.conn.execute(
                "SELECT variant FROM problems WHERE family = ? AND variant IS NOT NULL"
                " ORDER BY id DESC LIMIT ?",
                (family, recent),
            )
        )
        return VariantHistory(int(count), seeds, latest)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows as mappings (for the stats and history reports)."""
        with self._reading():
            cur = self.conn.cursor()
            cur.row_factory = sqlite3.Row
            return cur.execute(sql, params).fetchall()


def open_existing(path: Path | str | None = None) -> Store | None:
    """The store if its database exists (reports should not create one), else None.

    Opened for reading where it cannot be written (see ``Store``); a data directory that
    is not a folder is a ``StoreError``, never "no progress yet".
    """
    target = Path(path) if path is not None else database_path()
    _require_folder(target.parent, create=False)
    return Store(target, read_only=True) if target.exists() else None
