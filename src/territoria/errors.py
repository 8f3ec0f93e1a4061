"""One error hierarchy, translated at the CLI and HTTP edges.

    TerritoriaError (status 500)
    ├── ConfigError (500)          invalid or missing configuration
    ├── IngestError (422)          a file could not be read; `reason` is French, user-facing
    │   ├── UnsupportedFormat
    │   ├── EmptyDocument
    │   ├── FileTooLarge
    │   ├── NoTextLayer
    │   ├── EncryptedDocument
    │   ├── CorruptDocument         damaged or not what its extension says
    │   ├── SuspiciousArchive       a zip-based file (DOCX, ODT, XLSX) over the archive limits
    │   └── ParseLimitExceeded      parsing one file ran over its time or memory bound
    ├── StoreError (500)
    │   ├── StorageFull (507)       disk full: nothing was written (SQLITE_FULL, ENOSPC)
    │   └── StorageUnavailable (503) read-only or forbidden home, corrupt database
    ├── EmbedderError (503)
    ├── LLMError (502)
    │   ├── LLMTimeout (504)
    │   └── LLMUnavailable (503)
    ├── InvalidRequest (400)
    │   └── Conflict (409)          the resource is in a state that forbids it (exists already)
    ├── NotFound (404)
    ├── PermissionDenied (403)
    ├── AuthenticationFailed (401)  wrong credentials; `reason` says why, for operators only
    └── TooManyAttempts (429)       failed authentications throttled; `retry_after` seconds

Messages are in French: they reach users as they are (`public` on the web, when `message` names
server paths). `exit_code` is what the CLI exits with.
`storage_error` translates what the operating system or SQLite says about the disk into this
tree; it is used where a SQLite file is opened and at the CLI and web edges.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path


class TerritoriaError(Exception):
    """Base of every error the product raises on purpose."""

    status = 500
    exit_code = 1

    def __init__(self, message: str, *, public: str | None = None) -> None:
        """`public` is what the web shows instead of `message` when that names server
        paths (the CLI, run by the operator, shows `message`)."""
        super().__init__(message)
        self.message = message
        self.public = public or message


class ConfigError(TerritoriaError):
    status = 500


class IngestError(TerritoriaError):
    status = 422


class UnsupportedFormat(IngestError):
    pass


class EmptyDocument(IngestError):
    pass


class FileTooLarge(IngestError):
    pass


class NoTextLayer(IngestError):
    pass


class EncryptedDocument(IngestError):
    pass


class CorruptDocument(IngestError):
    pass


class SuspiciousArchive(IngestError):
    pass


class ParseLimitExceeded(IngestError):
    pass


class StoreError(TerritoriaError):
    status = 500


class EmbedderError(TerritoriaError):
    status = 503


class LLMError(TerritoriaError):
    status = 502


class LLMTimeout(LLMError):
    status = 504


class LLMUnavailable(LLMError):
    status = 503


class InvalidRequest(TerritoriaError):
    status = 400


class Conflict(InvalidRequest):
    status = 409


class NotFound(TerritoriaError):
    status = 404


class PermissionDenied(TerritoriaError):
    status = 403


class AuthenticationFailed(TerritoriaError):
    """Credentials refused. The message is the same whatever went wrong (no user enumeration);
    `reason` says what it was (unknown name, wrong password, account without a password),
    for logs and the operator, never for the person trying to sign in."""

    status = 401

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class TooManyAttempts(TerritoriaError):
    """Too many failed authentications (for a name or from an address): wait `retry_after`
    seconds."""

    status = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# --- storage: full disk, read-only or forbidden home, corrupt database ------------------------


class StorageFull(StoreError):
    """The disk is full: the operation could not complete (a SQLite transaction is rolled
    back; an answer that could not be audited is not given)."""

    status = 507
    exit_code = 74  # EX_IOERR (sysexits.h)


class StorageUnavailable(StoreError):
    """The home cannot be written or read (read-only, permissions), or a database is corrupt."""

    status = 503
    exit_code = 74


_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_DENIED_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}
_SQLITE_FULL = {sqlite3.SQLITE_FULL}
_SQLITE_DENIED = {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM}
_SQLITE_CORRUPT = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
_SQLITE_IO = {sqlite3.SQLITE_IOERR}


def _sqlite_code(exc: sqlite3.Error) -> int:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else -1  # the primary code of an extended one


def storage_error(exc: BaseException, path: Path | str | None = None) -> StoreError | None:
    """The error to raise for a disk or database failure `exc` (an OSError, a sqlite3.Error,
    or an error of ours caused by one) about `path`, or None when it is none of those: a full
    disk, a home that cannot be written, a corrupt database."""
    where = f" ({path})" if path else ""

    def make(kind: type[StoreError], text: str, place: str = where) -> StoreError:
        return kind(text.format(where=place), public=text.format(where=""))

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno is not None:
            if current.errno in _FULL_ERRNOS:
                return make(StorageFull, _FULL)
            if current.errno in _DENIED_ERRNOS:
                target = current.filename or path
                return make(StorageUnavailable, _DENIED, f" ({target})" if target else "")
        if isinstance(current, sqlite3.Error):
            code = _sqlite_code(current)
            if code in _SQLITE_FULL:
                return make(StorageFull, _FULL)
            if code in _SQLITE_DENIED:
                return make(StorageUnavailable, _DENIED)
            if code in _SQLITE_CORRUPT:
                return make(StorageUnavailable, _CORRUPT)
            if code in _SQLITE_IO:
                return make(StorageUnavailable, _IO)
        current = current.__cause__ or current.__context__
    return None


def with_disk_cause(exc: TerritoriaError) -> TerritoriaError:
    """`exc`, or, for a StoreError caused by a full disk, a home that cannot be written or a
    corrupt database, that error (507 or 503, exit code 74) with `exc`'s message first."""
    if isinstance(exc, StoreError) and not isinstance(exc, StorageFull | StorageUnavailable):
        found = storage_error(exc)
        if found is not None:
            return type(found)(f"{exc.message} {found.message}", public=found.public)
    return exc


_FULL = (
    "Espace disque insuffisant{where} : l'opération n'a pas pu aboutir. Libérez de la place "
    "sur le disque du dossier de données, puis réessayez."
)
_DENIED = (
    "Écriture ou lecture impossible{where} : le dossier de données est en lecture seule ou "
    "ses droits ne le permettent pas. Vérifiez le montage et le propriétaire du dossier, ou "
    "choisissez-en un autre (--home, TERRITORIA_HOME)."
)
_CORRUPT = (
    "Base de données endommagée ou illisible{where} : ce fichier n'est pas une base "
    "Territoria valide. Restaurez-le depuis une sauvegarde, ou déplacez-le pour repartir "
    "d'une base vide."
)
_IO = (
    "Erreur d'entrée-sortie sur le disque{where} : vérifiez le disque et l'espace libre du "
    "dossier de données, puis réessayez."
)
