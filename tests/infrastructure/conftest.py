"""The SAM template as `sam deploy` would hand it to CloudFormation (the `transformed` fixture)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from omotenashi_local.template import load_template


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="module")
def transformed() -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    template = load_template()
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in props:  # what `sam package` does: local folders become S3 objects
                props[key] = "s3://artifacts/code.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "ap-northeast-1")
    return transform(template, {}, _NoManagedPolicies())["Resources"]
