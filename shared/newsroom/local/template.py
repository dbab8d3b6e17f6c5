"""Reads template.yaml: tables, functions, their environment and API routes, never restated."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PROJECT_ROOT = Path(__file__).resolve().parents[3]
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation short-form intrinsics as {"Fn::X": ...}."""


def _intrinsic(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@cache
def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The parsed template (cached: it does not change while a process runs)."""
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - safe subclass
    return loaded


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: spec
        for name, spec in template.get("Resources", {}).items()
        if spec.get("Type") == kind
    }


@dataclass(frozen=True)
class ApiRoute:
    method: str  # upper case, as API Gateway puts it in the event
    path: str  # the resource template, e.g. /articles/{slug}
    event_name: str
    auth: str | None = None


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    code_uri: Path
    handler: str
    environment: dict[str, Any] = field(default_factory=dict)
    routes: tuple[ApiRoute, ...] = ()
    events: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def module_file(self) -> Path:
        return self.code_uri / (self.handler.rsplit(".", 1)[0].replace(".", "/") + ".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]


def functions(template: dict[str, Any], root: Path = PROJECT_ROOT) -> dict[str, FunctionSpec]:
    """Every `AWS::Serverless::Function`, with Globals merged in."""
    globals_ = template.get("Globals", {}).get("Function", {})
    common_env = globals_.get("Environment", {}).get("Variables", {})
    specs = {}
    for name, resource in resources(template, "AWS::Serverless::Function").items():
        props = resource.get("Properties", {})
        env = {**common_env, **props.get("Environment", {}).get("Variables", {})}
        events = props.get("Events", {})
        routes = tuple(
            ApiRoute(
                method=event["Properties"]["Method"].upper(),
                path=event["Properties"]["Path"],
                event_name=event_name,
                auth=event["Properties"].get("Auth", {}).get("Authorizer"),
            )
            for event_name, event in events.items()
            if event.get("Type") == "Api"
        )
        specs[name] = FunctionSpec(
            name=name,
            code_uri=root / props.get("CodeUri", globals_.get("CodeUri", ".")),
            handler=props.get("Handler", globals_.get("Handler", "app.lambda_handler")),
            environment=env,
            routes=routes,
            events=events,
        )
    return specs


def resolve_environment(
    spec: FunctionSpec, physical_names: dict[str, str], defaults: dict[str, str] | None = None
) -> dict[str, str]:
    """The function's variables with `!Ref`s replaced by the local physical resource names.

    A value that cannot be resolved locally (for example an `!GetAtt` of a deployed resource)
    falls back to `defaults`, or is left out.
    """
    resolved: dict[str, str] = {}
    for key, value in spec.environment.items():
        if isinstance(value, dict) and "Ref" in value:
            ref = value["Ref"]
            if ref in physical_names:
                resolved[key] = physical_names[ref]
            elif defaults and key in defaults:
                resolved[key] = defaults[key]
        elif isinstance(value, (str, int, float, bool)):
            resolved[key] = str(value)
        elif defaults and key in defaults:
            resolved[key] = defaults[key]
    return resolved


def table_create_kwargs(spec: dict[str, Any], table_name: str) -> dict[str, Any]:
    """`CreateTable` arguments for an `AWS::DynamoDB::Table` resource."""
    props = spec["Properties"]
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput"):
        if key in props:
            kwargs[key] = props[key]
    if "StreamSpecification" in props:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    if props.get("SSESpecification", {}).get("SSEEnabled"):
        kwargs["SSESpecification"] = {"Enabled": True}
    return kwargs


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    """Template parameter name → its default value (what a local run uses for `!Ref`)."""
    return {
        name: str(spec["Default"])
        for name, spec in template.get("Parameters", {}).items()
        if "Default" in spec
    }


def provision(db: DynamoDBClient, template: dict[str, Any], *, prefix: str = "") -> dict[str, str]:
    """Create what the functions need in the emulator: the template's tables and the SSM
    SecureStrings named in its `NewsroomLocal` metadata (with a random value, if missing).

    Returns what every `!Ref` a function's environment uses stands for locally: table names
    and parameter values.
    """
    import boto3

    names = parameter_defaults(template) | create_tables(db, template, prefix=prefix)
    ssm = boto3.client("ssm", endpoint_url=db.meta.endpoint_url, region_name=db.meta.region_name)
    local = template.get("Metadata", {}).get("NewsroomLocal", {})
    for parameter in local.get("SecureStringParameters", []):
        try:
            ssm.get_parameter(Name=names[parameter])
        except ssm.exceptions.ParameterNotFound:
            ssm.put_parameter(
                Name=names[parameter],
                Type="SecureString",
                Value=secrets.token_urlsafe(48),
                Description="created by the newsroom local run",
            )
    return names


def create_tables(
    db: DynamoDBClient, template: dict[str, Any], *, prefix: str = ""
) -> dict[str, str]:
    """Create every table of the template (if missing) and return logical id → table name."""
    names = {}
    for logical_id, spec in resources(template, "AWS::DynamoDB::Table").items():
        table_name = prefix + logical_id
        names[logical_id] = table_name
        existing = db.list_tables()["TableNames"]
        if table_name in existing:
            continue
        db.create_table(**table_create_kwargs(spec, table_name))
        ttl = spec["Properties"].get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            db.update_time_to_live(
                TableName=table_name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
    return names
