"""Reads template.yaml: tables, functions, their environment and API routes, never restated."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sqs import SQSClient

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation short-form intrinsics as {"Fn::X": ...}."""


def _intrinsic(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    # !Ref and !Condition are the two short forms whose long form has no "Fn::".
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
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
    """The function's variables with `!Ref`s (and `!GetAtt`s, looked up as "Logical.Attribute")
    replaced by the local physical resource names.

    A value that cannot be resolved locally (for example an `!GetAtt` of a deployed resource)
    falls back to `defaults`, or is left out.
    """
    resolved: dict[str, str] = {}
    for key, value in spec.environment.items():
        if isinstance(value, dict) and ("Ref" in value or "Fn::GetAtt" in value):
            ref = value["Ref"] if "Ref" in value else ".".join(value["Fn::GetAtt"])
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


def stage_name(template: dict[str, Any], parameters: Mapping[str, str]) -> str:
    """The `StageName` of the template's API (a `!Ref` is looked up in `parameters`)."""
    (api,) = resources(template, "AWS::Serverless::Api").values()
    stage = api.get("Properties", {}).get("StageName")
    if isinstance(stage, dict) and "Ref" in stage:
        return str(parameters[stage["Ref"]])
    return str(stage)


class ParameterOverrideError(ValueError):
    """A parameter override names no template parameter, or a value it does not allow."""


def parameter_values(template: dict[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    """The template's parameter defaults with `overrides` (name → value) on top, checked as
    CloudFormation checks them (`sam deploy --parameter-overrides`).

    Raises
    ------
    ParameterOverrideError
        When an override names no parameter or a value outside its `AllowedValues`.
    """
    declared = template.get("Parameters", {})
    for name, value in overrides.items():
        if name not in declared:
            raise ParameterOverrideError(
                f"template.yaml has no parameter {name!r} (it has: {', '.join(declared)})"
            )
        allowed = [str(v) for v in declared[name].get("AllowedValues", [])]
        if allowed and value not in allowed:
            raise ParameterOverrideError(
                f"parameter {name} allows {', '.join(allowed)}, not {value!r}"
            )
        pattern = declared[name].get("AllowedPattern")
        if pattern is not None and re.fullmatch(pattern, value) is None:
            described = declared[name].get("ConstraintDescription", f"the pattern {pattern}")
            raise ParameterOverrideError(f"parameter {name} must be {described}, not {value!r}")
    return parameter_defaults(template) | dict(overrides)


class UnresolvableError(ValueError):
    """A template value uses an intrinsic function the local run does not evaluate."""


def evaluate(template: Mapping[str, Any], value: Any, parameters: Mapping[str, str]) -> Any:
    """`value` with the intrinsic functions a setting of the API uses evaluated as
    CloudFormation would: `Ref` to a parameter, `Fn::Sub` of parameters, `Fn::If` on the
    template's `Conditions` (`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`),
    `Fn::Select`, `Fn::Split` and `Fn::Join`. Other mappings (properties, an event pattern's
    ``{"mail": ...}``) are walked for intrinsics inside them.

    Raises
    ------
    UnresolvableError
        For any other intrinsic, or a `Ref` to something that is not a parameter.
    """

    def value_of(node: Any) -> Any:
        if isinstance(node, list):
            return [value_of(item) for item in node]
        if not isinstance(node, Mapping):
            return node
        if len(node) != 1 or not _is_intrinsic(next(iter(node))):  # properties, a pattern
            return {key: value_of(item) for key, item in node.items()}
        ((name, argument),) = node.items()
        if name == "Ref":
            if argument not in parameters:
                raise UnresolvableError(f"!Ref {argument} is not a parameter")
            return parameters[argument]
        if name == "Fn::Sub" and isinstance(argument, str):
            # ${Name}, or a pseudo parameter's ${AWS::Region}
            return re.sub(
                r"\$\{([A-Za-z0-9:]+)\}", lambda m: str(value_of({"Ref": m[1]})), argument
            )
        if name == "Fn::If":
            condition, when_true, when_false = argument
            return value_of(when_true if holds(condition) else when_false)
        if name == "Fn::Select":
            index, items = value_of(argument)
            return items[int(index)]
        if name == "Fn::Split":
            separator, text = value_of(argument)
            return str(text).split(separator)
        if name == "Fn::Join":
            separator, items = value_of(argument)
            return separator.join(str(item) for item in items)
        if name in _CONDITION_FUNCTIONS or name == "Condition":
            return truth(node)
        raise UnresolvableError(f"the local run does not evaluate {name}")

    def truth(node: Mapping[str, Any]) -> bool:
        ((name, argument),) = node.items()
        if name == "Condition":
            return holds(argument)
        if name == "Fn::Equals":
            left, right = value_of(argument)
            return str(left) == str(right)
        if name == "Fn::Not":
            return not truth(argument[0])
        if name == "Fn::And":
            return all(truth(item) for item in argument)
        return any(truth(item) for item in argument)  # Fn::Or

    def holds(condition: str) -> bool:
        return truth(template.get("Conditions", {})[condition])

    return value_of(value)


_CONDITION_FUNCTIONS = frozenset({"Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"})


def _is_intrinsic(key: str) -> bool:
    """Whether a mapping's one key names an intrinsic function rather than a property."""
    return key in ("Ref", "Condition") or key.startswith("Fn::")


def provision(
    db: DynamoDBClient,
    template: dict[str, Any],
    *,
    prefix: str = "",
    parameters: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Create what the functions need in the emulator: the template's tables, queues and SES
    configuration sets, the SSM SecureStrings named in its `NewsroomLocal` metadata (with a
    random value, if missing) and the SES identities it names there (verified, as an operator
    verifies them in AWS).

    Returns what every `!Ref` a function's environment uses stands for locally: table names,
    queue URLs and parameter values; and, keyed "Logical.Attribute", what an `!GetAtt` stands
    for (a table's `Arn` and `StreamArn`, a queue's `Arn` and `QueueName`). `parameters`
    override the template's parameter defaults (see `parameter_values`).
    """
    import boto3

    endpoint, region = db.meta.endpoint_url, db.meta.region_name
    names = parameter_values(template, parameters or {})
    names |= create_tables(db, template, prefix=prefix)
    names |= table_attributes(db, template, names)
    names |= create_queues(
        boto3.client("sqs", endpoint_url=endpoint, region_name=region), template, prefix=prefix
    )
    ssm = boto3.client("ssm", endpoint_url=endpoint, region_name=region)
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
    sesv2 = boto3.client("sesv2", endpoint_url=endpoint, region_name=region)
    names |= create_configuration_sets(sesv2, template, prefix=prefix)
    identities = [names.get(name, name) for name in local.get("SesIdentities", [])]
    for identity in identities:
        with suppress(sesv2.exceptions.AlreadyExistsException):
            sesv2.create_email_identity(EmailIdentity=identity)
    return names


def table_attributes(
    db: DynamoDBClient, template: dict[str, Any], names: dict[str, str]
) -> dict[str, str]:
    """ "Table.Arn" and "Table.StreamArn" (when the table has a stream) of every local table."""
    attributes = {}
    for logical_id in resources(template, "AWS::DynamoDB::Table"):
        table = db.describe_table(TableName=names[logical_id])["Table"]
        attributes[f"{logical_id}.Arn"] = table["TableArn"]
        if "LatestStreamArn" in table:
            attributes[f"{logical_id}.StreamArn"] = table["LatestStreamArn"]
    return attributes


def create_queues(sqs: SQSClient, template: dict[str, Any], *, prefix: str = "") -> dict[str, str]:
    """Create every `AWS::SQS::Queue` of the template (if missing).

    Returns logical id → queue URL (what `!Ref` gives), and "Logical.Arn" and
    "Logical.QueueName" (what `!GetAtt` gives).
    """
    names = {}
    for logical_id, spec in resources(template, "AWS::SQS::Queue").items():
        props = spec.get("Properties", {})
        fifo = bool(props.get("FifoQueue"))
        queue_name = prefix + logical_id + (".fifo" if fifo else "")
        attributes = {
            key: str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in props.items()
            if key in _QUEUE_ATTRIBUTES and isinstance(value, (str, int, bool))
        }
        url = sqs.create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        names[logical_id] = url
        names[f"{logical_id}.Arn"] = arn["QueueArn"]
        names[f"{logical_id}.QueueName"] = queue_name
    # A dead-letter queue is named by its ARN, known once every queue is made.
    for logical_id, spec in resources(template, "AWS::SQS::Queue").items():
        redrive = spec.get("Properties", {}).get("RedrivePolicy")
        if redrive:
            target = redrive["deadLetterTargetArn"]
            if isinstance(target, dict):
                target = names[".".join(target["Fn::GetAtt"])]
            policy = {"deadLetterTargetArn": target, "maxReceiveCount": redrive["maxReceiveCount"]}
            sqs.set_queue_attributes(
                QueueUrl=names[logical_id], Attributes={"RedrivePolicy": json.dumps(policy)}
            )
    return names


def create_configuration_sets(
    sesv2: SESV2Client, template: dict[str, Any], *, prefix: str = ""
) -> dict[str, str]:
    """Create every `AWS::SES::ConfigurationSet` of the template (if missing), named by its
    logical id after `prefix`; logical id → name (what `!Ref` gives). The emulator sends with
    one as without it (it publishes no events: `newsroom_tools.mailbox_simulator` does)."""
    names = {}
    for logical_id in resources(template, "AWS::SES::ConfigurationSet"):
        name = prefix + logical_id
        try:
            sesv2.create_configuration_set(ConfigurationSetName=name)
        except sesv2.exceptions.ClientError as exc:  # moto: ConfigurationSetAlreadyExists...
            if "AlreadyExists" not in exc.response.get("Error", {}).get("Code", ""):
                raise
        names[logical_id] = name
    return names


# The scalar queue properties CloudFormation passes on as SQS attributes of the same name.
_QUEUE_ATTRIBUTES = frozenset(
    {
        "ContentBasedDeduplication",
        "DelaySeconds",
        "FifoQueue",
        "MaximumMessageSize",
        "MessageRetentionPeriod",
        "ReceiveMessageWaitTimeSeconds",
        "SqsManagedSseEnabled",
        "VisibilityTimeout",
    }
)


def add_missing_indexes(db: DynamoDBClient, spec: dict[str, Any], table_name: str) -> list[str]:
    """Add to an existing table each global secondary index of its template resource that it
    lacks, one `UpdateTable` each (as DynamoDB and CloudFormation add them: one at a time), and
    return their names. An emulator that outlived a template change (a reused `newsroom run`)
    then serves what the new code reads."""
    table = db.describe_table(TableName=table_name)["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    definitions = {d["AttributeName"]: d for d in spec["Properties"]["AttributeDefinitions"]}
    added = []
    for index in spec["Properties"].get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in present:
            continue
        keys = [key["AttributeName"] for key in index["KeySchema"]]
        db.update_table(
            TableName=table_name,
            AttributeDefinitions=[definitions[name] for name in keys],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
        added.append(index["IndexName"])
    return added


def create_tables(
    db: DynamoDBClient, template: dict[str, Any], *, prefix: str = ""
) -> dict[str, str]:
    """Create every table of the template (if missing), add to a table made from an earlier
    template the indexes it lacks, and return logical id → table name."""
    names = {}
    for logical_id, spec in resources(template, "AWS::DynamoDB::Table").items():
        table_name = prefix + logical_id
        names[logical_id] = table_name
        existing = db.list_tables()["TableNames"]
        if table_name in existing:
            add_missing_indexes(db, spec, table_name)
            continue
        db.create_table(**table_create_kwargs(spec, table_name))
        ttl = spec["Properties"].get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            db.update_time_to_live(
                TableName=table_name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
    return names
