"""docs/signing.md is what integrators copy: its test vectors, its Python snippet and the CLI command it
shows must agree with the server's signing code (omotenashi.logic.core.signing)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from omotenashi import cli
from omotenashi.logic.core import signing

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "signing.md").read_text(encoding="utf-8")
FIELD = re.compile(r"^(\w+) *: (.*)$")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", DOC, re.S | re.M)


def _vectors() -> list[dict[str, Any]]:
    vectors = []
    for block in _blocks("text"):
        fields = dict(FIELD.match(line).groups() for line in block.splitlines())  # type: ignore[union-attr]
        body = fields["body"]
        fields["body"] = b"" if body == "(empty)" else body.encode("utf-8")
        fields["t"] = int(fields["t"])
        vectors.append(fields)
    return vectors


VECTORS = _vectors()


def test_the_document_has_a_post_vector_with_query_and_body_and_a_get_vector():
    assert any("?" in v["path"] and v["body"] and v["method"] == "POST" for v in VECTORS)
    assert any("?" in v["path"] and not v["body"] and v["method"] == "GET" for v in VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["method"])
def test_vectors_match_the_server(vector):
    t, method, path, body = vector["t"], vector["method"], vector["path"], vector["body"]
    digest = signing.compute(vector["secret"], t, method, path, body)
    assert vector["digest"] == digest
    assert vector["message"].encode("utf-8") == f"{t}.{method}.{path}.".encode() + body
    assert vector["header"] == "X-Omotenashi-Signature: " + signing.sign_header(
        vector["secret"], t, method, path, body
    )
    parsed = signing.parse_header(vector["header"].partition(": ")[2])
    assert signing.matches(parsed, [vector["secret"]], method, [path], body)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["method"])
def test_the_python_snippet_reproduces_the_vectors(vector):
    namespace: dict[str, Any] = {}
    exec(_blocks("python")[0], namespace)  # noqa: S102 - our own document's snippet
    header = namespace["omotenashi_signature"](
        vector["secret"], vector["method"].lower(), vector["path"], vector["body"], vector["t"]
    )
    assert vector["header"] == f"X-Omotenashi-Signature: {header}"


def test_the_cli_command_shown_reproduces_the_first_vector(capsys):
    command = " ".join(_blocks("sh")[0].replace("\\\n", " ").split())
    match = re.search(
        r"omotenashi sign (\S+) '(\S+)' --secret (\S+) --timestamp (\d+) --data '(.*)'$", command
    )
    assert match, command
    method, path, secret, t, data = match.groups()
    assert cli.main(["sign", method, path, "--secret", secret, "--timestamp", t, "--data", data]) == 0
    assert f"X-Omotenashi-Signature: {capsys.readouterr().out.strip()}" == VECTORS[0]["header"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (optional check)")
@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["method"])
def test_the_node_snippet_reproduces_the_vectors(vector, tmp_path):
    script = tmp_path / "sign.js"
    script.write_text(
        _blocks("js")[0]
        + "\nconst [secret, method, path, body, t] = process.argv.slice(2);\n"
        + "console.log(omotenashiSignature(secret, method, path, body, Number(t)));\n",
        encoding="utf-8",
    )
    args = [vector["secret"], vector["method"], vector["path"], vector["body"].decode(), str(vector["t"])]
    out = subprocess.run(
        ["node", str(script), *args], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert vector["header"] == f"X-Omotenashi-Signature: {out.strip()}"


def test_the_readme_links_the_document():
    assert "(docs/signing.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
