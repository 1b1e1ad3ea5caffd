"""Builds the shared Lambda layer into ARTIFACTS_DIR/python (`sam build` runs `make build-SharedLayer`
in a copy of this folder, see Makefile; infra/template.yaml: BuildMethod makefile).

The layer is for the functions' runtime, python3.12 on arm64 (the template's Runtime and
Architectures), whatever machine builds it:

- dependencies (requirements.txt) are installed from wheels for that platform only
  (manylinux aarch64, CPython 3.12: `--only-binary=:all:`), never compiled for the build machine;
- boto3, botocore and their dependencies are not shipped: the python3.12 runtime includes a
  matching boto3/botocore pair, and because a layer comes before the runtime on sys.path, a copy of
  only some of them (pynamodb pulls in botocore, not boto3) would pair the runtime's boto3 with our
  botocore. We use the runtime's pair as a whole (it is the one AWS patches with the runtime, and
  our code needs nothing newer than what python3.12 ships: DynamoDB, SQS, SES, AWS_ENDPOINT_URL);
- the omotenashi package is copied with its message templates (omotenashi/templates is a link to
  the repository's templates/), without __pycache__ or test tooling;
- everything is compiled to .pyc with the unchecked-hash invalidation mode: /opt is read-only on
  Lambda, so without shipped .pyc files every cold start recompiles every module it imports, and
  unchecked-hash .pyc files stay valid whatever file times the zip gives the sources.

Run with Python 3.12 (the .pyc files are specific to the interpreter version that writes them).
"""

from __future__ import annotations

import compileall
import py_compile
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON_VERSION = (3, 12)
# Lambda's python3.12 runs on Amazon Linux 2023 (glibc 2.34): both wheel generations fit it.
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
# Distributions the python3.12 runtime provides: boto3 and everything boto3 depends on.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
# Never in a deployed layer: the dev extras of pyproject.toml (test, lint and local-stack tools).
DEV_ONLY = (
    "moto",
    "pytest",
    "hypothesis",
    "ruff",
    "mypy",
    "boto3-stubs",
    "types-",
    "cfn-lint",
    "aws-sam-translator",
    "pyyaml",
)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pip_command(site: Path, requirements: Path = HERE / "requirements.txt") -> list[str]:
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # compiled below, with unchecked-hash .pyc files
        "--target",
        str(site),
        *platforms,
        "--implementation",
        "cp",
        "--python-version",
        ".".join(map(str, PYTHON_VERSION)),
        "--only-binary=:all:",
        "--requirement",
        str(requirements),
    ]


def installed(site: Path) -> dict[str, Path]:
    """Canonical distribution name -> its .dist-info folder."""
    found = {}
    for info in site.glob("*.dist-info"):
        metadata = (info / "METADATA").read_text(encoding="utf-8", errors="replace")
        match = re.search(r"^Name:\s*(\S+)", metadata, re.MULTILINE)
        if match:
            found[canonical(match.group(1))] = info
    return found


def prune(site: Path, names: tuple[str, ...] = RUNTIME_PROVIDED) -> list[str]:
    """Removes the named distributions (the files their RECORD lists, inside `site` only).
    Returns the names removed."""
    removed = []
    wanted = {canonical(n) for n in names}
    root = site.resolve()
    for name, info in installed(site).items():
        if name not in wanted:
            continue
        for line in (info / "RECORD").read_text(encoding="utf-8").splitlines():
            relative = line.rsplit(",", 2)[0]
            path = (site / relative).resolve()
            if relative and root in path.parents and path.is_file():
                path.unlink()
        for leftover in sorted(site.glob(f"{info.name.removesuffix('.dist-info')}.data")):
            shutil.rmtree(leftover)
        shutil.rmtree(info, ignore_errors=True)
        removed.append(name)
    for folder in sorted((p for p in site.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(folder.iterdir()):  # packages whose files were all listed in the RECORD
            folder.rmdir()
    shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts: nothing runs them on Lambda
    return sorted(removed)


def copy_package(site: Path, source: Path = HERE / "omotenashi") -> None:
    """The omotenashi package, links followed (templates/), without caches."""
    shutil.rmtree(site / "omotenashi", ignore_errors=True)
    shutil.copytree(source, site / "omotenashi", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def compile_all(site: Path) -> None:
    for stale in site.rglob("__pycache__"):
        shutil.rmtree(stale)
    ok = compileall.compile_dir(
        str(site), quiet=1, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )
    if not ok:
        raise SystemExit("compileall failed")


def check(site: Path) -> None:
    """What the layer must and must not hold; raises SystemExit naming the problem."""
    names = set(installed(site))
    problems = [f"{n} is provided by the runtime" for n in sorted(names & set(RUNTIME_PROVIDED))]
    problems += [f"{n} is a development tool" for n in sorted(names) if n.startswith(DEV_ONLY)]
    templates = site / "omotenashi" / "templates"
    if not any(p.is_file() for p in (templates / "inquiry_auto_reply").rglob("*")):
        problems.append("omotenashi/templates is missing or empty")
    tag = sys.implementation.cache_tag
    uncompiled = [
        str(p.relative_to(site))
        for p in site.rglob("*.py")
        if not (p.parent / "__pycache__" / f"{p.stem}.{tag}.pyc").is_file()
    ]
    if uncompiled:
        problems.append(f"{len(uncompiled)} modules without a .pyc, e.g. {uncompiled[:3]}")
    if problems:
        raise SystemExit("layer check failed:\n  " + "\n  ".join(problems))


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1]:
        print("usage: build_layer.py ARTIFACTS_DIR   (sam build sets it)", file=sys.stderr)
        return 2
    if sys.version_info[:2] != PYTHON_VERSION:
        print(f"build_layer.py needs Python {PYTHON_VERSION[0]}.{PYTHON_VERSION[1]}", file=sys.stderr)
        return 2
    site = Path(argv[1]) / "python"
    shutil.rmtree(site, ignore_errors=True)
    subprocess.run(pip_command(site), check=True)  # noqa: S603 - our own fixed pip command line
    removed = prune(site)
    copy_package(site)
    compile_all(site)
    check(site)
    print(f"SharedLayer: {len(installed(site))} distributions + omotenashi; left to the runtime: {removed}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
