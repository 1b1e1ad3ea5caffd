"""Reads infra/template.yaml and resolves what the local stack needs from it.

The template is the single source of truth: tables, queues, functions, their environment and
event sources all come from here, so the local stack cannot drift from what `sam deploy` creates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE_PATH = ROOT / "infra" / "template.yaml"
PREFIX = "omotenashi-local"  # the local "stack name": physical names are <PREFIX>-<LogicalId>


class _CfnLoader(yaml.SafeLoader):
    pass


def _construct(tag: str) -> Any:
    name = "Ref" if tag == "Ref" else f"Fn::{tag}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return construct


for _tag in (
    "Ref",
    "GetAtt",
    "Sub",
    "Join",
    "If",
    "Not",
    "Equals",
    "And",
    "Or",
    "Select",
    "Split",
    "FindInMap",
    "ImportValue",
    "GetAZs",
    "Base64",
    "Condition",
):
    _CfnLoader.add_constructor(f"!{_tag}", _construct(_tag))


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass
class EventSource:
    name: str
    type: str
    properties: dict[str, Any]


@dataclass
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    environment: dict[str, Any]
    events: list[EventSource] = field(default_factory=list)
    timeout: int = 3
    memory: int = 128

    @property
    def function_name(self) -> str:
        """The local stand-in for the deployed name (SAM's is `<stack>-<LogicalId>-<suffix>`),
        named like the local tables and queues."""
        return f"{PREFIX}-{self.logical_id}"


def functions(template: dict[str, Any]) -> list[FunctionSpec]:
    globals_ = template.get("Globals", {}).get("Function", {})
    base_env = globals_.get("Environment", {}).get("Variables", {})
    specs = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        env = {**base_env, **props.get("Environment", {}).get("Variables", {})}
        events = [
            EventSource(name, event["Type"], event.get("Properties", {}))
            for name, event in props.get("Events", {}).items()
        ]
        specs.append(
            FunctionSpec(
                logical_id=logical_id,
                code_dir=(TEMPLATE_PATH.parent / props["CodeUri"]).resolve(),
                handler=props["Handler"],
                environment=env,
                events=events,
                timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
                memory=int(props.get("MemorySize", globals_.get("MemorySize", 128))),
            )
        )
    return specs


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()}


_SUB = re.compile(r"\$\{([^}]+)\}")


class Resolver:
    """Resolves Ref / GetAtt / Sub against local physical resources."""

    def __init__(
        self,
        parameters: dict[str, str],
        refs: dict[str, str],
        attributes: dict[tuple[str, str], str],
        pseudo: dict[str, str],
    ) -> None:
        self.parameters = parameters
        self.refs = refs
        self.attributes = attributes
        self.pseudo = pseudo

    def ref(self, name: str) -> str:
        for table in (self.pseudo, self.parameters, self.refs):
            if name in table:
                return table[name]
        raise KeyError(f"cannot resolve Ref {name} locally")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                return self.attributes[(arg[0], arg[1])]
            if key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                return _SUB.sub(lambda m: self._sub_name(m.group(1)), text)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def _sub_name(self, name: str) -> str:
        if "." in name:
            logical, attribute = name.split(".", 1)
            return self.attributes[(logical, attribute)]
        return self.ref(name)
