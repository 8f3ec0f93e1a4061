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
    ├── EmbedderError (503)
    ├── LLMError (502)
    │   ├── LLMTimeout (504)
    │   └── LLMUnavailable (503)
    ├── InvalidRequest (400)
    ├── NotFound (404)
    ├── PermissionDenied (403)
    ├── AuthenticationFailed (401)  wrong credentials; `reason` says why, for operators only
    └── TooManyAttempts (429)       failed authentications throttled; `retry_after` seconds

Messages are in French: they reach users as they are.
"""

from __future__ import annotations


class TerritoriaError(Exception):
    """Base of every error the product raises on purpose."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
