"""Property-based run of schemathesis over /openapi.json, in process: no 5xx anywhere.

Every operation gets a bounded number of generated requests (as an admin, so that the
admin operations are exercised past their authorisation check)."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

EXAMPLES = 6


def test_no_server_error_on_any_operation(fuzz_target: tuple[Any, dict[str, str]]) -> None:
    app, headers = fuzz_target
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path}: {response.status_code} "
                    f"{response.text[:200]}"
                )

        run()
    assert operations >= 15
    assert failures == []
