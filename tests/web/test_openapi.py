"""Property-based run of schemathesis over /openapi.json, in process, with every check it has:
no 5xx, every status and content type documented (problem+json errors included), responses
matching their schema, schema-valid requests accepted and schema-invalid ones refused.

Every operation gets a bounded number of generated requests in each mode (positive: valid
per the schema; negative: invalid), as an admin, so that the admin operations are exercised
past their authorisation check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup

EXAMPLES = 8

# Not an issue: multipart has no JSON types. A form field or file part "made a boolean" is, on
# the wire, a text part holding a valid value ("true" is a collection name, or a file's bytes).
MULTIPART_TYPES = {("POST /api/documents", "ST201")}


def exchange(case: Any, response: Any) -> str:
    body = case.body if isinstance(case.body, dict | list) else ""
    sent = f"{case.method} {case.formatted_path} query={case.query} body={body}"[:300]
    return f"{sent} -> {response.status_code} {response.text[:200]}"


def _failures(exc: BaseException) -> list[Failure]:
    if isinstance(exc, FailureGroup):
        return [f for group in exc.exceptions for f in _failures(group)]
    return [exc] if isinstance(exc, Failure) else []


def test_no_contract_issue_on_any_operation(fuzz_target: tuple[Any, dict[str, str]]) -> None:
    app, headers = fuzz_target
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.update(headers=headers)  # known to the generator: it leaves them alone
    found: dict[tuple[str, str], str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis_settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                response = case.call()
                try:
                    case.validate_response(response)
                except (Failure, FailureGroup) as exc:
                    for failure in _failures(exc):
                        key = (case.operation.label, failure.code)
                        text = f"{failure.title}: {failure.message[:300]} | "
                        found.setdefault(key, text + exchange(case, response))

            try:
                run()
            except Unsatisfiable:  # nothing to make invalid (an operation without inputs)
                assert mode is GenerationMode.NEGATIVE, operation.label
    assert operations >= 18
    issues = {key: text for key, text in found.items() if key not in MULTIPART_TYPES}
    assert issues == {}, "\n".join(f"{k}: {v}" for k, v in issues.items())


def test_expires_days_must_be_an_integer(
    app_client: TestClient, bearer: Callable[[str], dict[str, str]]
) -> None:
    """The outside test's example: `"expires_days": true` made a token valid for 1 day."""
    headers = bearer("admin1")
    url = "/api/users/admin1/tokens"
    for value in (True, "30", 2.5):
        response = app_client.post(url, json={"expires_days": value}, headers=headers)
        assert response.status_code == 422, value
        assert response.headers["content-type"] == "application/problem+json"
    accepted = app_client.post(url, json={"expires_days": 30.0}, headers=headers)
    assert accepted.status_code == 201  # 30.0 is an integer for JSON Schema
    unknown = app_client.post(url, json={"expire_days": 30}, headers=headers)
    assert unknown.status_code == 422  # a misspelt field is not silently ignored


def test_every_api_error_is_documented_as_problem_json(app_client: TestClient) -> None:
    spec = app_client.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, methods in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, op in methods.items():
            codes = set(op["responses"])
            assert {"401", "429", "503"} <= codes, (method, path)
            for code, response in op["responses"].items():
                if code.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], (code, path)
    ask = spec["paths"]["/api/ask"]["get"]
    assert {"400", "422", "507"} <= set(ask["responses"])
    assert {"403", "409"} <= set(spec["paths"]["/api/users"]["post"]["responses"])


def test_document_operations_document_the_errors_they_answer(
    app_client: TestClient, bearer: Callable[[str], dict[str, str]]
) -> None:
    """Contract issues the outside run found (and the fuzzer above may miss with few examples):
    each answer below is an error of ours, in problem+json, and its status is documented."""
    headers = bearer("admin1")
    spec = app_client.get("/openapi.json").json()["paths"]
    json_headers = {**headers, "Content-Type": "application/json"}
    answers = [
        ("delete", "/api/documents/{doc_id}",
         app_client.delete("/api/documents/x", headers=headers)),
        ("post", "/api/documents/{doc_id}/reindex",
         app_client.post("/api/documents/x/reindex", headers=headers)),
        ("post", "/api/documents",
         app_client.post("/api/documents", data={"collection": "x"}, headers=headers)),
        ("post", "/api/users", app_client.post("/api/users", content=b"{", headers=json_headers)),
    ]  # fmt: skip
    for method, path, response in answers:
        assert response.status_code in {400, 404, 422}, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json", path
        assert str(response.status_code) in spec[path][method]["responses"], (method, path)
    upload = spec["/api/documents"]["post"]["requestBody"]["content"]["multipart/form-data"]
    schema = app_client.get("/openapi.json").json()["components"]["schemas"]
    body = schema[upload["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert body["properties"]["files"]["minItems"] == 1  # an empty list is refused, and says so
