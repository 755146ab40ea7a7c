"""The one error tree of parkmon; every error a user can cause is one of these.

::

    MonitorError
     ├── ConfigError        a config file or option is wrong (names file, line, field, value)
     │    └── RegistryError the carrier registry (parks.csv) has bad rows; lists every problem
     ├── StorageError       the database cannot be opened, created or written
     ├── OutputError        an output file cannot be written (full disk, no permission)
     ├── CollectorError     a source could not be collected
     │    ├── FetchError    the bytes could not be fetched (network, file system)
     │    ├── ParseError    the bytes are not what the source declares (with a location)
     │    └── SourceBusy    another live process is collecting the same source
     ├── LockHeldError      another scheduler holds the database's scheduler lock
     └── RatingError        a methodology cannot be applied

    GeoError (geo.errors)   a coordinate or geometry is missing, undeclared or out of place;
                            geo imports nothing of ours, so its one error class lives there and
                            is re-exported here

Foreign exceptions are translated at the boundary and chained (``raise X(...) from exc``).
Only ``monitor.cli`` turns these into a printed line and an exit code.
"""

from __future__ import annotations

from collections.abc import Sequence

from geo.errors import GeoError
from monitor import messages

__all__ = [
    "CollectorError",
    "ConfigError",
    "FetchError",
    "GeoError",
    "LockHeldError",
    "MonitorError",
    "OutputError",
    "ParseError",
    "RatingError",
    "RegistryError",
    "SourceBusy",
    "StorageError",
    "driver_message",
]


class MonitorError(Exception):
    """Base of every error parkmon raises on purpose."""


class ConfigError(MonitorError):
    """A configuration file, option or setting is wrong."""


class RegistryError(ConfigError):
    """The registry file has problems; ``problems`` holds one line per problem."""

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        tail = f"\n  … and {more} more" if more > 0 else ""
        super().__init__(
            f"{path}: {len(self.problems)} problem(s); nothing from this file was loaded:\n"
            f"{shown}{tail}"
        )


class PortalError(MonitorError):
    """A step of the portal refused, said in both languages: ``str()`` is the English (the
    command line, logs), ``text(lang)`` what a page shows."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.zh = zh

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else str(self)


class StorageError(MonitorError):
    """The database cannot be opened, created, upgraded or written."""


class OutputError(MonitorError):
    """An output file (report, export, CSV) cannot be written; nothing half-written is left."""


class CollectorError(MonitorError):
    """A source could not be collected. ``msg`` says why in either language (a message of
    ``monitor.messages``, or plain text), ``location`` where; ``str()`` is the English."""

    def __init__(self, message: object = "", location: str = "") -> None:
        self.msg = messages.of(message)
        self.location = location
        text = str(self.msg)
        super().__init__(f"{location}: {text}" if location else text)

    def message(self) -> messages.Msg:
        """Where and why, as one message to store or render."""
        if not self.location:
            return self.msg
        return messages.msg("at", where=messages.Where(self.location), message=self.msg)


class FetchError(CollectorError):
    """The bytes of a source could not be fetched."""


class ParseError(CollectorError):
    """The content of a source is not what it declares; ``location`` says where."""


class SourceBusy(CollectorError):
    """Another live process is collecting the same source."""


class LockHeldError(MonitorError):
    """Another scheduler holds the database's scheduler lock."""


class RatingError(MonitorError):
    """A rating methodology cannot be loaded or applied."""


def driver_message(exc: BaseException) -> str:
    """A database driver's error in one line, never the SQL statement or its parameters.

    SQLAlchemy errors carry the statement, its parameters and a link over several lines; the
    driver's own first line (``exc.orig``) says what happened. A read-only database and a full
    disk are said in plain words.
    """
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    text = lines[0] if lines else type(orig).__name__
    lowered = text.lower()
    if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        return "the database is read-only"
    if "disk is full" in lowered or "no space" in lowered:
        return "the disk is full"
    if "no such column" in lowered or ("column" in lowered and "does not exist" in lowered):
        return (
            f"{text}: the database's tables are not those of its schema revision (changed by "
            "hand?); `parkmon db current` says where it stands"
        )
    return text
