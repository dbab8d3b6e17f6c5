"""template.yaml tells the operator when something breaks: an alarm to the topic on every
function's errors and throttles, the API's 5xx, the stream's lag, DynamoDB's throttling and
rejected emails; one dashboard over all of it; log groups that do not keep logs forever and an
access log without the caller's IP. Everything is read from the template, never restated."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from newsroom_tools.template import load_template, resources

TemplateDict = dict[str, Any]

# The retention values CloudWatch Logs accepts (PutRetentionPolicy's retentionInDays).
CLOUDWATCH_RETENTION_DAYS = {
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
}  # fmt: skip
PSEUDO_PARAMETERS = {"AWS::Region", "AWS::StackName", "AWS::AccountId", "AWS::Partition"}


@pytest.fixture(scope="module")
def template() -> TemplateDict:
    return load_template()


def alarms(template: TemplateDict) -> dict[str, dict[str, Any]]:
    return {
        name: spec["Properties"]
        for name, spec in resources(template, "AWS::CloudWatch::Alarm").items()
    }


def watched_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm reads: its one metric, or each of its metric math's queries, as
    {"Namespace", "MetricName", "Dimensions": {name: value}, "Stat"}."""
    if "MetricName" in alarm:
        found = [
            {
                "Namespace": alarm["Namespace"],
                "MetricName": alarm["MetricName"],
                "Dimensions": alarm.get("Dimensions", []),
                "Stat": alarm["Statistic"],
            }
        ]
    else:
        found = [
            {**query["MetricStat"]["Metric"], "Stat": query["MetricStat"]["Stat"]}
            for query in alarm["Metrics"]
            if "MetricStat" in query
        ]
    return [
        metric | {"Dimensions": {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}}
        for metric in found
    ]


def alarms_on(
    template: TemplateDict, namespace: str, metric_name: str, **dimensions: Any
) -> list[str]:
    """The alarms reading `metric_name` with exactly `dimensions`."""
    return [
        name
        for name, alarm in alarms(template).items()
        for metric in watched_metrics(alarm)
        if metric["Namespace"] == namespace
        and metric["MetricName"] == metric_name
        and metric["Dimensions"] == dimensions
    ]


def service_of(template: TemplateDict, function: str) -> str:
    variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
    service: str = variables["POWERTOOLS_SERVICE_NAME"]
    return service


def metrics_namespace(template: TemplateDict) -> str:
    namespace: str = template["Globals"]["Function"]["Environment"]["Variables"][
        "POWERTOOLS_METRICS_NAMESPACE"
    ]
    return namespace


def test_every_alarm_notifies_the_alarm_topic_and_says_what_missing_data_means(
    template: TemplateDict,
) -> None:
    for name, alarm in alarms(template).items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        # Each of these metrics is published only when there is something to count: a quiet
        # period is not a failure.
        assert alarm["TreatMissingData"] == "notBreaching", name
        assert len(alarm["AlarmDescription"].split()) >= 10, name


@pytest.mark.parametrize("metric_name", ["Errors", "Throttles"])
def test_every_function_alarms_on_its_first_error_and_its_first_throttle(
    template: TemplateDict, metric_name: str
) -> None:
    functions = resources(template, "AWS::Serverless::Function")

    for function in functions:
        # FunctionName alone: every version, whichever the "live" alias points at.
        (name,) = alarms_on(template, "AWS/Lambda", metric_name, FunctionName={"Ref": function})
        alarm = alarms(template)[name]
        assert alarm["Statistic"] == "Sum", name
        assert alarm["Threshold"] == 0, name
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold", name


def test_a_500_any_http_function_answers_alarms_though_lambda_counts_no_error(
    template: TemplateDict,
) -> None:
    # newsroom.http answers an unexpected exception 500 and counts UnhandledErrors.
    http_functions = [
        name
        for name, spec in resources(template, "AWS::Serverless::Function").items()
        if any(e["Type"] == "Api" for e in spec["Properties"].get("Events", {}).values())
    ]
    assert http_functions

    for function in http_functions:
        names = alarms_on(
            template,
            metrics_namespace(template),
            "UnhandledErrors",
            service=service_of(template, function),
        )
        assert names == ["UnhandledErrorsAlarm"], function
    alarm = alarms(template)["UnhandledErrorsAlarm"]
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_api_5xx_alarm_counts_the_stage_by_the_name_sam_gives_the_rest_api(
    template: TemplateDict,
) -> None:
    api = template["Resources"]["NewsroomApi"]["Properties"]
    # Without a Name, SAM titles the API's OpenAPI document (and so names the REST API, the
    # ApiName API Gateway publishes) after the stack.
    api_name = api.get("Name", {"Ref": "AWS::StackName"})

    (name,) = alarms_on(
        template, "AWS/ApiGateway", "5XXError", ApiName=api_name, Stage={"Ref": "StageName"}
    )
    alarm = alarms(template)[name]
    assert alarm["Statistic"] == "Sum"  # a count of failed requests, not a rate
    assert alarm["Threshold"] >= 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_stream_lag_alarms_long_before_dynamodb_streams_drops_records(
    template: TemplateDict,
) -> None:
    (stream_function,) = [
        name
        for name, spec in resources(template, "AWS::Serverless::Function").items()
        if any(e["Type"] == "DynamoDB" for e in spec["Properties"].get("Events", {}).values())
    ]

    (name,) = alarms_on(
        template, "AWS/Lambda", "IteratorAge", FunctionName={"Ref": stream_function}
    )
    alarm = alarms(template)[name]
    assert alarm["Statistic"] == "Maximum"  # the oldest record, not the average one
    # In milliseconds: past a batch retried with backoff, far below the stream's 24 hours.
    assert 60_000 <= alarm["Threshold"] <= 3_600_000
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


@pytest.mark.parametrize("kind", ["Read", "Write"])
def test_throttling_of_every_table_and_every_index_alarms(
    template: TemplateDict, kind: str
) -> None:
    tables = resources(template, "AWS::DynamoDB::Table")
    assert set(tables) >= {"ContentTable", "IdempotencyTable"}

    for table, spec in tables.items():
        # The table's own events do not include its indexes': each is its own metric.
        watched = {None: {"TableName": {"Ref": table}}} | {
            index["IndexName"]: {
                "TableName": {"Ref": table},
                "GlobalSecondaryIndexName": index["IndexName"],
            }
            for index in spec["Properties"].get("GlobalSecondaryIndexes", [])
        }
        for index, dimensions in watched.items():
            names = alarms_on(template, "AWS/DynamoDB", f"{kind}ThrottleEvents", **dimensions)
            assert len(names) == 1, (table, index)
            alarm = alarms(template)[names[0]]
            assert alarm["Threshold"] == 0, names
            if "Metrics" in alarm:
                (total,) = [query for query in alarm["Metrics"] if query.get("ReturnData")]
                # Each index publishes only when throttled: one missing must not blank the sum.
                queries = [query["Id"] for query in alarm["Metrics"] if "MetricStat" in query]
                assert sorted(re.findall(r"FILL\((\w+), 0\)", total["Expression"])) == sorted(
                    queries
                )


def test_rejected_emails_alarm_on_what_the_sending_and_delivery_functions_count(
    template: TemplateDict,
) -> None:
    namespace = metrics_namespace(template)

    # The notifications function's emails, the comments function's privacy links, and SES's
    # Reject events through the delivery events function.
    for function in ("NotificationsFunction", "CommentsFunction", "DeliveryEventsFunction"):
        names = alarms_on(
            template, namespace, "EmailsRejected", service=service_of(template, function)
        )
        assert names == ["EmailsRejectedAlarm"], function
    alarm = alarms(template)["EmailsRejectedAlarm"]
    (total,) = [query for query in alarm["Metrics"] if query.get("ReturnData")]
    assert total["Expression"].count("FILL(") == 3
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


# The dashboard


def dashboard_body(template: TemplateDict) -> tuple[dict[str, Any], set[str]]:
    """The dashboard's body, parsed with each `${...}` left as written, and those names."""
    (dashboard,) = resources(template, "AWS::CloudWatch::Dashboard").values()
    text = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(text, str)  # no variable map: every name is the template's own
    return json.loads(text), set(re.findall(r"\$\{([^}]+)\}", text))


def dashboard_metrics(body: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, dimensions) of every metric widget line; "." repeats the line
    above's value, as CloudWatch reads it."""
    found = []
    for widget in body["widgets"]:
        previous: list[str] = []
        for line in widget["properties"].get("metrics", []):
            values = [v for v in line if not isinstance(v, dict)]
            values = [p if v == "." else v for v, p in zip(values, previous + values, strict=False)]
            previous = values
            namespace, metric, *pairs = values
            found.append((namespace, metric, dict(zip(pairs[::2], pairs[1::2], strict=True))))
    return found


def test_dashboard_refers_only_to_the_stacks_own_resources_and_parameters(
    template: TemplateDict,
) -> None:
    body, names = dashboard_body(template)

    for name in names:
        logical = name.split(".", 1)[0]
        assert (
            logical in template["Resources"]
            or logical in template["Parameters"]
            or name in PSEUDO_PARAMETERS
        ), name
    assert body["widgets"]
    for widget in body["widgets"]:
        assert {"type", "x", "y", "width", "height", "properties"} <= set(widget), widget
        assert widget["x"] + widget["width"] <= 24, widget  # the dashboard's grid


def test_dashboard_shows_every_alarm_and_the_api_functions_stream_tables_email_and_queues(
    template: TemplateDict,
) -> None:
    body, _ = dashboard_body(template)
    shown = dashboard_metrics(body)
    alarm_widgets = [w["properties"]["alarms"] for w in body["widgets"] if w["type"] == "alarm"]

    assert sorted(a for widget in alarm_widgets for a in widget) == sorted(
        f"${{{name}.Arn}}" for name in alarms(template)
    )
    assert (
        "AWS/ApiGateway",
        "5XXError",
        {"ApiName": "${AWS::StackName}", "Stage": "${StageName}"},
    ) in shown
    for function in resources(template, "AWS::Serverless::Function"):
        for metric in ("Invocations", "Errors", "Throttles", "Duration"):
            assert ("AWS/Lambda", metric, {"FunctionName": f"${{{function}}}"}) in shown
    assert ("AWS/Lambda", "IteratorAge", {"FunctionName": "${NotificationsFunction}"}) in shown
    for table, spec in resources(template, "AWS::DynamoDB::Table").items():
        for kind in ("Read", "Write"):
            assert (
                "AWS/DynamoDB",
                f"{kind}ThrottleEvents",
                {"TableName": f"${{{table}}}"},
            ) in shown
            for index in spec["Properties"].get("GlobalSecondaryIndexes", []):
                dimensions = {
                    "TableName": f"${{{table}}}",
                    "GlobalSecondaryIndexName": index["IndexName"],
                }
                assert ("AWS/DynamoDB", f"{kind}ThrottleEvents", dimensions) in shown
    for queue in resources(template, "AWS::SQS::Queue"):
        dimensions = {"QueueName": f"${{{queue}.QueueName}}"}
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", dimensions) in shown
    assert {metric for namespace, metric, _ in shown if namespace == "AWS/SES"} >= {
        "Send",
        "Bounce",
        "Complaint",
        "Reject",
        "Reputation.BounceRate",
    }
    namespace = metrics_namespace(template)
    assert (namespace, "EmailsRejected", {"service": "delivery"}) in shown


# Log groups


def test_log_retention_offers_only_what_cloudwatch_logs_accepts(template: TemplateDict) -> None:
    parameter = template["Parameters"]["LogRetentionDays"]

    assert set(parameter["AllowedValues"]) <= CLOUDWATCH_RETENTION_DAYS
    assert parameter["Default"] in parameter["AllowedValues"]


def test_every_function_logs_to_a_log_group_of_its_own_kept_log_retention_days(
    template: TemplateDict,
) -> None:
    log_groups = resources(template, "AWS::Logs::LogGroup")
    functions = resources(template, "AWS::Serverless::Function")

    used = []
    for function, spec in functions.items():
        ref = spec["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert ref in log_groups, function
        used.append(ref)
    assert len(set(used)) == len(functions)  # one group each
    # Under /aws/lambda/ beside the groups Lambda makes, and named after the stack.
    for ref in used:
        name = log_groups[ref]["Properties"]["LogGroupName"]["Fn::Sub"]
        assert name.startswith("/aws/lambda/${AWS::StackName}/"), ref
    for name, group in log_groups.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def test_api_access_log_records_neither_the_callers_ip_nor_anything_personal(
    template: TemplateDict,
) -> None:
    access_log = template["Resources"]["NewsroomApi"]["Properties"]["AccessLogSetting"]
    fields = json.loads(re.sub(r"\$context\.[A-Za-z.]+", "x", access_log["Format"]))
    variables = set(re.findall(r"\$context\.([A-Za-z.]+)", access_log["Format"]))

    assert {"requestId", "status", "path"} <= set(fields)
    assert not {v for v in variables if v.startswith("identity.")}  # sourceIp, user, caller...
    assert "ip" not in fields


def test_no_function_logs_the_events_it_is_given(template: TemplateDict) -> None:
    # An API event holds the commenter's address (its body) and IP (its requestContext).
    environments = [template["Globals"]["Function"]["Environment"]["Variables"]] + [
        spec["Properties"].get("Environment", {}).get("Variables", {})
        for spec in resources(template, "AWS::Serverless::Function").values()
    ]

    for variables in environments:
        assert "POWERTOOLS_LOGGER_LOG_EVENT" not in variables
        assert variables.get("POWERTOOLS_LOG_LEVEL", "INFO") != "DEBUG"
