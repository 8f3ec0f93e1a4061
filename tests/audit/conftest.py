"""Fixtures of the audit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from audit_fakes import Clock, FakePII
from territoria.audit import AuditLog
from territoria.settings import Settings


@pytest.fixture
def pii() -> FakePII:
    return FakePII()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def log(settings: Settings, pii: FakePII, clock: Clock) -> Iterator[AuditLog]:
    with AuditLog(settings, pii=pii, clock=clock) as audit_log:
        yield audit_log
