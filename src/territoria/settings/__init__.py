"""One Settings object, built at the CLI and web entry points and passed down.

Every field has a default and a description; `tests/test_settings.py` checks that each one is
documented in docs/settings.md. Environment variables use the prefix `TERRITORIA_`. The fields
are grouped by capability, one module each (storage, ingest, search, answers, governance, web,
retex); `Settings` is all of them.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from territoria.settings.answers import AnswerSettings
from territoria.settings.governance import GovernanceSettings
from territoria.settings.ingest import IngestSettings
from territoria.settings.retex import RetexSettings
from territoria.settings.search import SearchSettings, default_model_cache
from territoria.settings.storage import StorageSettings, default_home
from territoria.settings.web import WebSettings

__all__ = ["Settings", "default_home", "default_model_cache"]


# bases listed last-group-first: pydantic collects fields from the last base on, so the
# fields (and docs/settings.md) keep the order storage, ingest, search, answers, ...
class Settings(
    RetexSettings,
    WebSettings,
    GovernanceSettings,
    AnswerSettings,
    SearchSettings,
    IngestSettings,
    StorageSettings,
    BaseSettings,
):
    model_config = SettingsConfigDict(env_prefix="TERRITORIA_", extra="ignore")

    @field_validator("model_cache", "originals", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def db_path(self) -> Path:
        return self.home / "territoria.sqlite3"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def originals_dir(self) -> Path:
        """Copies of the ingested files, named by their SHA-256 (the "original" links):
        `originals` when set (a folder every replica shares), else <home>/originals."""
        return self.originals or self.home / "originals"
