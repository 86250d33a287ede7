"""The checked-in OpenAPI document (schemas/openapi.json) is what the ingest API serves."""

from __future__ import annotations

import json

from services.ingest.app import OPENAPI_PATH, main, render_openapi


def test_checked_in_openapi_is_current():
    assert OPENAPI_PATH.exists(), "run `python -m services.ingest.app --export-openapi`"
    assert OPENAPI_PATH.read_text(encoding="utf-8") == render_openapi(), (
        "schemas/openapi.json is stale: run `python -m services.ingest.app --export-openapi` and commit it"
    )


def test_check_flag_reports_current_file(capsys):
    assert main(["--export-openapi", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_document_describes_the_write_operations_and_their_errors():
    document = json.loads(render_openapi())
    operations = {(path, method) for path, item in document["paths"].items() for method in item}
    assert {
        ("/v1/challenges", "post"),
        ("/v1/challenges/{challenge_id}", "put"),
        ("/v1/challenges/{challenge_id}/close", "post"),
        ("/v1/companies/{company_id}", "put"),
        ("/v1/companies/{company_id}", "delete"),
    } <= operations
    assert document["components"]["securitySchemes"]["PublisherToken"]["scheme"] == "bearer"
    for path, method in operations - {("/healthz", "get")}:
        responses = document["paths"][path][method]["responses"]
        assert {"202", "401", "403", "409", "413", "422", "503"} <= set(responses), (path, method)
        assert document["paths"][path][method]["security"] == [{"PublisherToken": []}]
    # the request bodies are the event contracts with id and version optional
    challenge = document["components"]["schemas"]["ChallengeRequest"]
    assert set(challenge["required"]) == {"city", "title", "description"}
    company = document["components"]["schemas"]["CompanyProfileRequest"]
    assert set(company["required"]) == {"name", "business_id", "description"}
