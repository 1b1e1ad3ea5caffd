"""`python -m omotenashi_local.openapi` (make openapi): write the OpenAPI document the API serves at
/v1/openapi.json to docs/openapi.json, the copy integrators read. A test fails when they differ."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from omotenashi_local.template import ROOT

COMMITTED = ROOT / "docs" / "openapi.json"


def served_document(stack: Any) -> dict[str, Any]:
    result = stack.api("GET", "/v1/openapi.json", {}, b"")
    if result["statusCode"] != 200:
        raise RuntimeError(f"/v1/openapi.json answered {result['statusCode']}")
    document: dict[str, Any] = json.loads(result["body"])
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> int:
    from moto import mock_aws

    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "ap-northeast-1",
            "AWS_REGION": "ap-northeast-1",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        from omotenashi_local.stack import LocalStack

        Path(COMMITTED).write_text(render(served_document(LocalStack())), encoding="utf-8")
    print(f"wrote {COMMITTED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
