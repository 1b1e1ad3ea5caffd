"""The shared layer's build recipe (layers/shared/Makefile -> build_layer.py), checked without
running `sam build` (slow, needs the network): the recipe targets the functions' runtime and
architecture, leaves boto3/botocore to the runtime, ships compiled modules and no dev tools.
`make build` runs the same functions for real and ends with the same check()."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from omotenashi_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
LAYER_DIR = ROOT / "layers" / "shared"


@pytest.fixture(scope="module")
def recipe() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_layer", LAYER_DIR / "build_layer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_template_builds_the_layer_with_the_makefile_for_the_functions_platform(recipe):
    template = load_template()
    functions = template["Globals"]["Function"]
    layer = template["Resources"]["SharedLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert functions["Architectures"] == ["arm64"]
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Properties"]["CompatibleRuntimes"] == [functions["Runtime"]] == ["python3.12"]
    assert functions["Runtime"] == "python{}.{}".format(*recipe.PYTHON_VERSION)
    assert all(platform.endswith("_aarch64") for platform in recipe.PLATFORMS)


def test_makefile_target_runs_the_recipe_with_python312():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry_run = subprocess.run(
        ["make", "-n", "-C", str(LAYER_DIR), "build-SharedLayer", "ARTIFACTS_DIR=/artifacts"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert 'python3.12 build_layer.py "/artifacts"' in dry_run
    # `make build` hands SAM's python3.12 to the layer recipe
    assert 'LAYER_PYTHON="$(SAM_PYTHON)"' in (ROOT / "Makefile").read_text()


def test_pip_installs_wheels_for_lambda_arm64_cpython312_without_compiling(recipe):
    command = recipe.pip_command(Path("/artifacts/python"))
    text = " ".join(command)
    assert command[1:4] == ["-m", "pip", "install"]
    assert "--only-binary=:all:" in command  # wheels for the target platform, never built here
    assert "--platform manylinux2014_aarch64" in text
    assert "--implementation cp" in text
    assert "--python-version 3.12" in text
    assert "--target /artifacts/python" in text
    assert "--no-compile" in command  # pip would write timestamp .pyc files; compile_all writes ours
    assert command[-2:] == ["--requirement", str(LAYER_DIR / "requirements.txt")]


def test_requirements_leave_boto3_to_the_runtime_and_hold_no_dev_tools(recipe):
    lines = (LAYER_DIR / "requirements.txt").read_text(encoding="utf-8").splitlines()
    names = {recipe.canonical(re.split(r"[<>=\[;]", line)[0].strip()) for line in lines if line[:1].isalpha()}
    assert names and not names & set(recipe.RUNTIME_PROVIDED)
    assert not [n for n in names if n.startswith(recipe.DEV_ONLY)]
    assert {"boto3", "botocore"} <= set(recipe.RUNTIME_PROVIDED)


def test_every_dev_extra_is_refused_by_the_layer_check(recipe):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for requirement in project["optional-dependencies"]["dev"]:
        name = recipe.canonical(re.split(r"[<>=\[;]", requirement)[0].strip())
        assert name.startswith(recipe.DEV_ONLY), name


def _fake_distribution(site: Path, name: str, version: str, files: dict[str, str]) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    for relative, text in files.items():
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    record = [f"{relative},," for relative in files] + [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(record) + "\n")


def test_prune_removes_runtime_provided_distributions_by_their_record(recipe, tmp_path):
    site = tmp_path / "python"
    _fake_distribution(site, "botocore", "1.0", {"botocore/__init__.py": "", "botocore/data/x.json": "{}"})
    _fake_distribution(site, "python-dateutil", "2.9", {"dateutil/__init__.py": ""})
    _fake_distribution(site, "six", "1.17", {"six.py": ""})
    _fake_distribution(site, "pydantic", "2.0", {"pydantic/__init__.py": ""})
    (site / "jmespath-1.0.data" / "scripts").mkdir(parents=True)
    _fake_distribution(site, "jmespath", "1.0", {"jmespath/__init__.py": "", "bin/jp.py": ""})
    outside = tmp_path / "outside.py"
    outside.write_text("")
    info = next(site.glob("six-*.dist-info"))
    (info / "RECORD").write_text((info / "RECORD").read_text() + "../outside.py,,\n")

    removed = recipe.prune(site)

    assert removed == ["botocore", "jmespath", "python-dateutil", "six"]
    assert sorted(p.name for p in site.iterdir()) == ["pydantic", "pydantic-2.0.dist-info"]
    assert outside.exists(), "prune never deletes outside the layer"


def test_package_copy_compiles_unchecked_hash_and_passes_the_check(recipe, tmp_path):
    site = tmp_path / "python"
    _fake_distribution(site, "pydantic", "2.0", {"pydantic/__init__.py": "VERSION = 2\n"})
    recipe.copy_package(site)
    recipe.compile_all(site)
    recipe.check(site)

    package = site / "omotenashi"
    assert (package / "templates" / "inquiry_auto_reply" / "ja" / "subject.txt").is_file()
    assert not (package / "templates").is_symlink(), "the link is followed: Lambda gets the files"
    pyc = package / "__pycache__" / f"__init__.{sys.implementation.cache_tag}.pyc"
    flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
    assert flags == 0b01, "hash-based and unchecked: valid on read-only /opt whatever the file times"
    compiled = {p.name for p in (package / "__pycache__").iterdir()}
    assert all(name.endswith(f".{sys.implementation.cache_tag}.pyc") for name in compiled)


@pytest.mark.parametrize("intruder", ["botocore", "moto", "pytest", "boto3-stubs"])
def test_check_refuses_runtime_provided_and_dev_distributions(recipe, tmp_path, intruder):
    site = tmp_path / "python"
    _fake_distribution(site, intruder, "1.0", {f"{intruder.replace('-', '_')}/__init__.py": ""})
    recipe.copy_package(site)
    recipe.compile_all(site)
    with pytest.raises(SystemExit, match=intruder):
        recipe.check(site)


def test_check_refuses_modules_without_pyc(recipe, tmp_path):
    site = tmp_path / "python"
    recipe.copy_package(site)
    with pytest.raises(SystemExit, match=r"without a \.pyc"):
        recipe.check(site)
