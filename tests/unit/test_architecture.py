"""Structure rules from the brief, checked on the source: AWS SDKs only in data access, one clock,
thin handlers, observability created in one place, nothing test-only in the layer."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "shared" / "omotenashi"
FUNCTIONS = ROOT / "functions"


def _python_files(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*.py")]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_boto3_and_pynamodb_only_in_data_access():
    offenders = []
    for path in _python_files(PACKAGE, FUNCTIONS):
        if PACKAGE / "dal" in path.parents:
            continue
        for name in _imports(path):
            if name.split(".")[0] in ("boto3", "botocore", "pynamodb"):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_only_the_clock_reads_the_time():
    offenders = []
    for path in _python_files(PACKAGE, FUNCTIONS):
        if path.name == "clock.py":
            continue
        source = path.read_text(encoding="utf-8")
        for needle in ("datetime.now(", "datetime.utcnow(", "time.time(", "date.today("):
            if needle in source:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []


def test_observability_objects_created_in_one_place():
    offenders = []
    for path in _python_files(PACKAGE, FUNCTIONS):
        if path.name == "observability.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("Logger", "Metrics", "Tracer")
            ):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_handlers_are_thin():
    for path in FUNCTIONS.glob("*/app.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                body = [n for n in node.body if not isinstance(n, ast.Expr)]  # docstrings aside
                assert len(body) <= 4, (
                    f"{path}:{node.name} has {len(body)} statements: move logic to the layer"
                )
        for name in _imports(path):
            assert name.split(".")[0] in (
                "omotenashi",
                "aws_lambda_powertools",
                "typing",
                "re",
                "__future__",
            ), f"{path} imports {name}"


def test_layer_requirements_match_project_and_exclude_test_tools():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {d.split(">")[0].split("=")[0].split("<")[0].strip() for d in project["dependencies"]}
    lines = (ROOT / "layers" / "shared" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    layer = {
        line.split(">")[0].split("=")[0].split("<")[0].strip() for line in lines if line and line[0] != "#"
    }
    assert layer == declared - {"boto3"}, "boto3 comes with the Lambda runtime; all else must match"
    for banned in ("moto", "pytest", "hypothesis", "ruff", "mypy", "cfn-lint"):
        assert not any(name.startswith(banned) for name in layer)


def test_local_stack_code_is_outside_the_layer():
    for path in _python_files(PACKAGE):
        assert "moto" not in {n.split(".")[0] for n in _imports(path)}, path
        assert "omotenashi_local" not in {n.split(".")[0] for n in _imports(path)}, path


def _api_statements() -> list[ast.stmt]:
    return ast.parse((FUNCTIONS / "api" / "app.py").read_text(encoding="utf-8")).body


def _call_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        return ast.unparse(node.value.func)
    return None


def test_api_module_loads_with_the_collector_paused_and_resumes_it():
    """coldstart.begin() (which pauses the garbage collector) runs before anything but the standard
    library and omotenashi.http.coldstart is imported, and the module's last statement resumes it."""
    body = _api_statements()
    begin = next(i for i, node in enumerate(body) if _call_name(node) == "coldstart.begin")
    for node in body[:begin]:
        if isinstance(node, ast.ImportFrom):
            assert node.module in ("typing", "__future__", "omotenashi.http"), node.module
            if node.module == "omotenashi.http":
                assert [a.name for a in node.names] == ["coldstart"]
        else:
            assert isinstance(node, ast.Expr)  # the docstring
    assert _call_name(body[-1]) == "coldstart.complete"


def test_importing_the_http_package_has_no_side_effect():
    import subprocess
    import sys

    code = (
        "import gc, omotenashi.http, sys\n"
        "assert gc.isenabled()\n"
        "assert 'aws_lambda_powertools' not in sys.modules"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(ROOT / "layers" / "shared")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# Who may import whom inside the package (DESIGN.md): data access knows no logic, HTTP or email;
# email building knows no logic or data access; logic knows no HTTP; models know no logic.
LAYER_RULES = {
    "dal": ("omotenashi.logic", "omotenashi.http", "omotenashi.messaging"),
    "messaging": ("omotenashi.logic", "omotenashi.dal"),
    "logic": ("omotenashi.http",),
    "schemas": ("omotenashi.logic",),
}


def test_layer_direction():
    offenders = []
    for layer, banned in LAYER_RULES.items():
        for path in _python_files(PACKAGE / layer):
            for name in _imports(path):
                if name.startswith(banned):
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_layer_direction_rule_catches_a_violation(tmp_path):
    """The rule reads real imports: a dal module importing logic is caught."""
    module = tmp_path / "bad.py"
    module.write_text("from omotenashi.logic.core import jobs\nimport omotenashi.http.guard\n")
    names = _imports(module)
    assert any(n.startswith(LAYER_RULES["dal"]) for n in names)


def test_api_import_is_lean_and_leaves_the_collector_running():
    """In a fresh interpreter, as Lambda loads it: no template engine, holiday tables, time zone
    data or AWS test tools at import (they load when first needed, in the workers), and the
    collector is back on with the import's objects frozen."""
    import os
    import subprocess
    import sys

    code = (
        "import gc, sys, app\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'jinja2', 'holidays', 'tzdata', 'moto', 'boto3', 'yaml', 'requests'})\n"
        "assert not loaded, loaded\n"
        # Building and sending emails is the workers' job: the API never loads that code.
        "emailing = [m for m in ('omotenashi.messaging.mime', 'omotenashi.messaging.templates', "
        "'omotenashi.logic.core.delivery', 'omotenashi.logic.inquiries.reply_emails') if m in sys.modules]\n"
        "assert not emailing, emailing\n"
        "assert gc.isenabled() and gc.get_freeze_count() > 10000, gc.get_freeze_count()\n"
        # Powertools: only the resolver and event classes the API uses (omotenashi/http/lazy_exports.py)
        "unused = [m for m in sys.modules if m.endswith(('handler.appsync', 'handler.bedrock_agent', "
        "'handler.vpc_lattice', '.s3_event', '.kafka_event', '.code_pipeline_job_event'))]\n"
        "assert not unused, unused\n"
        "from aws_lambda_powertools.event_handler import AppSyncResolver, Response\n"
        "from aws_lambda_powertools.utilities.data_classes import S3Event, SQSEvent\n"
        "import aws_lambda_powertools.event_handler as handlers\n"
        "assert handlers.BedrockAgentResolver and handlers.api_gateway.Response is Response\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
    from omotenashi.settings import FUNCTION_SETTINGS

    env.update({name: "set-by-the-template" for name in FUNCTION_SETTINGS["api"]})
    env.update(
        AWS_LAMBDA_FUNCTION_NAME="omotenashi-ApiFunction",
        PYTHONPATH=os.pathsep.join([str(ROOT / "layers" / "shared"), str(FUNCTIONS / "api")]),
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=FUNCTIONS / "api",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_lazy_exports_only_for_packages_that_just_reexport(tmp_path):
    """A package whose __init__ does anything besides re-exporting keeps its normal import."""
    import importlib.util

    from omotenashi.http import lazy_exports

    for name in lazy_exports.PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None
        exports = lazy_exports.reexports(spec)
        assert exports and all(module.startswith(name + ".") for module in exports.values())
    package = tmp_path / "sideeffects"
    package.mkdir()
    (package / "__init__.py").write_text('"""doc"""\nfrom .a import A\nprint("side effect")\n')
    spec = importlib.util.spec_from_file_location(
        "sideeffects", package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None
    assert lazy_exports.reexports(spec) is None


def test_every_email_is_composed_by_the_one_skeleton():
    """Only messaging/compose.py renders templates into MIME: no email kind grows its own path."""
    offenders = []
    for path in _python_files(PACKAGE, FUNCTIONS):
        if path.parent.name == "messaging":
            continue
        for name in _imports(path):
            if name in ("omotenashi.messaging.mime", "omotenashi.messaging.templates"):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_unit_tests_need_no_moto():
    """`make test-unit` is the inner loop (seconds): no moto, no local stack, no AWS fixtures."""
    offenders = []
    for path in (ROOT / "tests" / "unit").rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if {n.split(".")[0] for n in _imports(path)} & {"moto", "omotenashi_local"}:
            offenders.append(f"{path.name} imports moto or the local stack")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                used = {a.arg for a in node.args.args} & {"aws", "stack", "clocked"}
                if used:
                    offenders.append(f"{path.name}::{node.name} uses {sorted(used)}")
    assert offenders == []


def test_routes_are_router_factories_never_shared_module_objects():
    """Powertools keeps request state on routers: each area module offers `def router()`, and no
    Router (or resolver) is created at module level, where several apps would share it."""
    routes = PACKAGE / "http" / "routes"
    areas = [p for p in routes.glob("*.py") if p.name != "__init__.py"]
    assert areas
    for path in areas:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        factories = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "router"]
        assert factories, f"{path.name} has no router() factory"
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
                called = ast.unparse(node.value.func)
                assert "Router" not in called and "Resolver" not in called, f"{path.name}: {called}"


def test_each_function_checks_its_own_settings_at_cold_start():
    from omotenashi.settings import FUNCTION_SETTINGS

    for folder in FUNCTION_SETTINGS:
        tree = ast.parse((FUNCTIONS / folder / "app.py").read_text(encoding="utf-8"))
        calls = [
            node.value
            for node in tree.body
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            if ast.unparse(node.value.func) == "require_settings"
        ]
        assert [ast.literal_eval(call.args[0]) for call in calls] == [folder], folder
    assert {p.parent.name for p in FUNCTIONS.glob("*/app.py")} == set(FUNCTION_SETTINGS)


def test_every_route_module_is_an_area_and_none_loads_with_the_api_module():
    """Areas are included on their first request (http/routes/AREAS): a route module missing from
    AREAS would never be reachable, and one imported by the API module would cost every cold start."""
    from omotenashi.http.routes import AREAS

    modules = {
        f"omotenashi.http.routes.{p.stem}"
        for p in (PACKAGE / "http" / "routes").glob("*.py")
        if p.name != "__init__.py"
    }
    assert {m for area in AREAS.values() for m in area} == modules
    api_imports = _imports(FUNCTIONS / "api" / "app.py")
    assert not [name for name in api_imports if name.startswith("omotenashi.http.routes")]
