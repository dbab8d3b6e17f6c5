"""template.yaml keeps its promises: signed admin routes, least-privilege functions, a watched
dead-letter queue, and the settings the code relies on; read from the file, never restated."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from typing import Any

import pytest

from newsroom.models.articles import ArticleSummary, FeedArticle
from newsroom.models.comments import AdminComment, PublicComment
from newsroom_tools.template import (
    PROJECT_ROOT,
    evaluate,
    load_template,
    parameter_defaults,
    resources,
)

TemplateDict = dict[str, Any]

SECRET_PARAMETER_ARN = (
    "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SecretParameterName}"
)
# The current key, and the one it replaced while a rotation is under way (newsroom.secrets).
READ_THE_SECRET = {
    "Effect": "Allow",
    "Action": "ssm:GetParameters",
    "Resource": [
        {"Fn::Sub": SECRET_PARAMETER_ARN},
        {"Fn::Sub": SECRET_PARAMETER_ARN + "-previous"},
    ],
}
SES_IDENTITY_ARN = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/"
SEND_AS_THE_SENDER_ONLY = {
    "Effect": "Allow",
    "Action": "ses:SendEmail",
    # The sender's address identity, or its domain's when the domain is what SES verified.
    "Resource": [
        {"Fn::Sub": SES_IDENTITY_ARN + "${SenderEmail}"},
        {
            "Fn::Sub": [
                SES_IDENTITY_ARN + "${Domain}",
                {"Domain": {"Fn::Select": [1, {"Fn::Split": ["@", {"Ref": "SenderEmail"}]}]}},
            ]
        },
        # Sending with a configuration set is authorised on the set too.
        {
            "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:"
            "configuration-set/${DeliveryConfigurationSet}"
        },
    ],
    "Condition": {"StringEquals": {"ses:FromAddress": {"Ref": "SenderEmail"}}},
}
# The secret, and the Akismet key when one is configured (comment-check on a post, submit-spam
# and submit-ham from the stream): no SSM read of it at all otherwise.
READ_THE_SECRET_AND_AKISMET_KEY = READ_THE_SECRET | {
    "Resource": [
        *READ_THE_SECRET["Resource"],
        {
            "Fn::If": [
                "HasAkismet",
                {
                    "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
                    "parameter${AkismetKeyParameterName}"
                },
                {"Ref": "AWS::NoValue"},
            ]
        },
    ]
}
DEAD_LETTER_QUEUE = "NotificationsDeadLetterQueue"

# What each function may do, and nothing more. A function added to the template fails
# `test_every_function_has_exactly_its_least_privilege_policies` until it is listed here.
EXPECTED_POLICIES: dict[str, list[dict[str, Any]]] = {
    "ArticlesFunction": [
        {"DynamoDBReadPolicy": {"TableName": {"Ref": "ContentTable"}}},
        # The key that signs listing cursors.
        {"Statement": [READ_THE_SECRET]},
    ],
    "CommentsFunction": [
        {"DynamoDBCrudPolicy": {"TableName": {"Ref": "ContentTable"}}},
        {"DynamoDBCrudPolicy": {"TableName": {"Ref": "IdempotencyTable"}}},
        # The privacy request's email (its link).
        {"Statement": [SEND_AS_THE_SENDER_ONLY, READ_THE_SECRET_AND_AKISMET_KEY]},
    ],
    "NotificationsFunction": [
        {"DynamoDBCrudPolicy": {"TableName": {"Ref": "ContentTable"}}},
        {
            "SQSSendMessagePolicy": {
                "QueueName": {"Fn::GetAtt": [DEAD_LETTER_QUEUE, "QueueName"]},
            }
        },
        {"Statement": [SEND_AS_THE_SENDER_ONLY, READ_THE_SECRET_AND_AKISMET_KEY]},
    ],
    "DeliveryEventsFunction": [
        {
            "Statement": [
                # The SESMSG# pointer, the ledger entry's delivery state, the suppression item,
                # a complaining address's subscriber item: single items, no query or scan.
                {
                    "Effect": "Allow",
                    "Action": [
                        "dynamodb:GetItem",
                        "dynamodb:UpdateItem",
                        "dynamodb:PutItem",
                        "dynamodb:DeleteItem",
                    ],
                    "Resource": {"Fn::GetAtt": ["ContentTable", "Arn"]},
                },
                # The keyring, to hash the address it suppresses.
                READ_THE_SECRET,
            ]
        },
    ],
}


@pytest.fixture(scope="module")
def template() -> TemplateDict:
    return load_template()


def function_properties(template: TemplateDict) -> dict[str, dict[str, Any]]:
    return {
        name: spec.get("Properties", {})
        for name, spec in resources(template, "AWS::Serverless::Function").items()
    }


def api_events(template: TemplateDict) -> list[tuple[str, str, dict[str, Any]]]:
    """(function, event name, event properties) of every `Api` event."""
    return [
        (function, event_name, event["Properties"])
        for function, props in function_properties(template).items()
        for event_name, event in props.get("Events", {}).items()
        if event["Type"] == "Api"
    ]


def grants(policies: list[Any]) -> list[str]:
    """Each SAM policy template and each inline statement, canonical and sorted, so that
    splitting or reordering statements is not a change of what is granted."""
    canonical = []
    for policy in policies:
        if isinstance(policy, dict) and set(policy) == {"Statement"}:
            statements = policy["Statement"]
            for statement in statements if isinstance(statements, list) else [statements]:
                canonical.append(json.dumps({"Statement": statement}, sort_keys=True))
        else:
            canonical.append(json.dumps(policy, sort_keys=True))
    return sorted(canonical)


def inline_statements(template: TemplateDict) -> list[tuple[str, dict[str, Any]]]:
    return [
        (function, statement)
        for function, props in function_properties(template).items()
        for policy in props.get("Policies", [])
        if isinstance(policy, dict) and "Statement" in policy
        for statement in (
            policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
        )
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def stream_event(template: TemplateDict) -> dict[str, Any]:
    events = function_properties(template)["NotificationsFunction"]["Events"]
    (event,) = (event for event in events.values() if event["Type"] == "DynamoDB")
    properties: dict[str, Any] = event["Properties"]
    return properties


# Routes and authorization


def test_every_admin_route_requires_an_aws_iam_signature(template: TemplateDict) -> None:
    admin = [event for event in api_events(template) if event[2]["Path"].startswith("/admin")]

    assert admin, "the template has no /admin route"
    for function, event_name, props in admin:
        assert props.get("Auth") == {"Authorizer": "AWS_IAM"}, (function, event_name)


def test_email_log_is_an_aws_iam_route_of_the_function_that_may_query_the_indexes(
    template: TemplateDict,
) -> None:
    # Given the route of the email log (GET /admin/emails)
    (found,) = [
        (function, props)
        for function, _, props in api_events(template)
        if (props["Path"], props["Method"]) == ("/admin/emails", "get")
    ]
    function, props = found

    # Then it needs a SigV4 signature, and is served by the comments function, whose one
    # policy on the content table (already there for the moderation queues) grants the Query
    # of its index and the BatchGetItem of the entries: nothing was added for it
    assert props["Auth"] == {"Authorizer": "AWS_IAM"}
    assert function == "CommentsFunction"
    content = [
        policy
        for policy in function_properties(template)[function]["Policies"]
        if "ContentTable" in json.dumps(policy)
    ]
    assert content == [{"DynamoDBCrudPolicy": {"TableName": {"Ref": "ContentTable"}}}]


def test_email_log_partitions_share_the_moderation_queue_index_by_its_keys(
    template: TemplateDict,
) -> None:
    # The ledger's entries join gsi3 under their own partitions (EMAILS#<status>), beside the
    # queues' COMMENTS#<status>: the index's keys are what the data layer writes.
    from typing import get_args

    from newsroom.data.comments import status_partition
    from newsroom.data.delivery import EMAIL_STATUSES, email_partition
    from newsroom.data.emails import EMAIL_LOG_INDEX
    from newsroom.models.comments import CommentStatus

    table = resources(template, "AWS::DynamoDB::Table")["ContentTable"]["Properties"]
    (index,) = [i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == EMAIL_LOG_INDEX]

    assert index["KeySchema"] == [
        {"AttributeName": "gsi3pk", "KeyType": "HASH"},
        {"AttributeName": "gsi3sk", "KeyType": "RANGE"},
    ]
    queues = {status_partition(status) for status in get_args(CommentStatus)}
    assert queues.isdisjoint(email_partition(status) for status in EMAIL_STATUSES)


def test_routes_outside_admin_are_public_and_carry_no_authorizer(template: TemplateDict) -> None:
    # Readers and the signed links in emails reach these without AWS credentials by design.
    public = [event for event in api_events(template) if not event[2]["Path"].startswith("/admin")]

    assert public
    for function, event_name, props in public:
        assert "Auth" not in props, (function, event_name)


def test_api_has_no_default_authorizer_that_would_change_routes_silently(
    template: TemplateDict,
) -> None:
    (api,) = resources(template, "AWS::Serverless::Api").values()

    auth = api["Properties"].get("Auth", {})

    assert "DefaultAuthorizer" not in auth
    assert "ResourcePolicy" not in auth
    assert not resources(template, "AWS::Serverless::HttpApi")


def test_every_route_is_on_the_newsroom_api_with_its_throttling_and_error_shape(
    template: TemplateDict,
) -> None:
    # A route without RestApiId lands on an implicit API that has none of NewsroomApi's settings.
    (api_name,) = resources(template, "AWS::Serverless::Api")

    for function, event_name, props in api_events(template):
        assert props.get("RestApiId") == {"Ref": api_name}, (function, event_name)


def test_api_docs_are_unpublished_unless_the_deployment_turns_them_on(
    template: TemplateDict,
) -> None:
    # Given the ApiDocs parameter and the function that serves /api-docs
    parameter = template["Parameters"]["ApiDocs"]
    (serving,) = {
        function for function, _, props in api_events(template) if props["Path"] == "/api-docs"
    }
    variables = function_properties(template)[serving]["Environment"]["Variables"]

    # Then it is off unless set, and the function reads that setting
    assert parameter["Default"] == "off"
    assert parameter["AllowedValues"] == ["off", "on"]
    assert variables["API_DOCS"] == {"Ref": "ApiDocs"}


def test_altcha_is_off_unless_set_and_its_challenge_passes_through_the_cdn_uncached(
    template: TemplateDict,
) -> None:
    # Given the Altcha parameter and the function that serves /challenge
    parameter = template["Parameters"]["Altcha"]
    (serving,) = {
        function for function, _, props in api_events(template) if props["Path"] == "/challenge"
    }
    variables = function_properties(template)[serving]["Environment"]["Variables"]

    # Then it is off unless set, the function reads that setting, and no challenge is kept
    assert parameter["Default"] == "off"
    assert parameter["AllowedValues"] == ["off", "on"]
    assert variables["ALTCHA"] == {"Ref": "Altcha"}
    behaviour = behaviour_for(template, "/challenge")
    assert behaviour is distribution_config(template)["DefaultCacheBehavior"]
    assert behaviour["CachePolicyId"] == CACHING_DISABLED


def test_the_minimum_form_time_is_off_unless_set_and_its_token_passes_through_the_cdn_uncached(
    template: TemplateDict,
) -> None:
    # Given the MinimumFormSeconds parameter and the function that serves /form-token
    parameter = template["Parameters"]["MinimumFormSeconds"]
    (serving,) = {
        function for function, _, props in api_events(template) if props["Path"] == "/form-token"
    }
    properties = function_properties(template)[serving]
    variables = properties["Environment"]["Variables"]

    # Then it is 0 (off) unless set, bounded as the setting is, the function reads it (and
    # publishes a new version when it changes), and no token is kept by the CDN
    assert (parameter["Type"], parameter["Default"]) == ("Number", 0)
    assert (parameter["MinValue"], parameter["MaxValue"]) == (0, 60)
    assert variables["MINIMUM_FORM_SECONDS"] == {"Ref": "MinimumFormSeconds"}
    assert {"Ref": "MinimumFormSeconds"} in properties["VersionDescription"]["Fn::Join"][1]
    behaviour = behaviour_for(template, "/form-token")
    assert behaviour is distribution_config(template)["DefaultCacheBehavior"]
    assert behaviour["CachePolicyId"] == CACHING_DISABLED


# Least privilege


def test_every_function_has_exactly_its_least_privilege_policies(template: TemplateDict) -> None:
    declared = function_properties(template)

    assert set(declared) == set(EXPECTED_POLICIES)
    for name, props in declared.items():
        assert grants(props.get("Policies", [])) == grants(EXPECTED_POLICIES[name]), name


def test_no_statement_uses_a_wildcard_action_or_resource(template: TemplateDict) -> None:
    statements = inline_statements(template)

    assert statements
    for function, statement in statements:
        assert statement["Effect"] == "Allow", function
        assert "NotAction" not in statement, function
        assert "NotResource" not in statement, function
        for action in as_list(statement["Action"]):
            assert "*" not in action, (function, action)
        for resource in as_list(statement["Resource"]):
            assert resource != "*", function
            assert isinstance(resource, dict), (function, resource)  # an ARN built from the stack


def test_email_can_be_sent_only_from_the_sender_identity(template: TemplateDict) -> None:
    ses = [s for _, s in inline_statements(template) if "ses:SendEmail" in as_list(s["Action"])]

    # The notifications' emails, and the privacy request's link from the comments function.
    assert ses == [SEND_AS_THE_SENDER_ONLY] * 2


def test_permissions_come_only_from_function_policies(template: TemplateDict) -> None:
    # A Role replaces the Policies SAM would attach, and IAM resources would grant outside them.
    for name, props in function_properties(template).items():
        assert "Role" not in props, name
        assert "PermissionsBoundary" not in props, name
    iam_resources = {
        name: spec
        for name, spec in template["Resources"].items()
        if spec["Type"].startswith("AWS::IAM::")
    }
    # The one IAM resource is the moderators' policy, which grants nothing to a function and
    # is attached to nobody by the stack.
    assert list(iam_resources) == ["ModeratorPolicy"]
    assert iam_resources["ModeratorPolicy"]["Type"] == "AWS::IAM::ManagedPolicy"
    attached = {"Roles", "Users", "Groups"} & set(iam_resources["ModeratorPolicy"]["Properties"])
    assert attached == set()


# The moderators' policy

EXECUTE_API_ARN = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"


def moderator_statement(template: TemplateDict) -> dict[str, Any]:
    document = template["Resources"]["ModeratorPolicy"]["Properties"]["PolicyDocument"]
    assert document["Version"] == "2012-10-17"
    (statement,) = document["Statement"]
    return dict(statement)


def signed_routes(template: TemplateDict) -> set[tuple[str, str]]:
    """(METHOD, path) of every route API Gateway authorizes with AWS_IAM."""
    return {
        (props["Method"].upper(), props["Path"])
        for _, _, props in api_events(template)
        if props.get("Auth") == {"Authorizer": "AWS_IAM"}
    }


def test_moderator_policy_invokes_exactly_the_aws_iam_routes_of_the_stage(
    template: TemplateDict,
) -> None:
    # Given every AWS_IAM route, as the resource execute-api checks ({parameter} -> *)
    expected = {
        EXECUTE_API_ARN + "${NewsroomApi}/${StageName}/" + method + re.sub(r"\{[^}]+\}", "*", path)
        for method, path in signed_routes(template)
    }
    assert expected, "the template has no AWS_IAM route"

    # When the moderators' policy is read
    statement = moderator_statement(template)

    # Then it allows invoking those and nothing else: one action, no wildcard, no condition
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "execute-api:Invoke"
    assert set(statement) == {"Sid", "Effect", "Action", "Resource"}
    granted = [resource["Fn::Sub"] for resource in statement["Resource"]]
    assert len(granted) == len(set(granted))
    assert set(granted) == expected


def test_each_moderator_resource_matches_one_route_of_the_api_and_only_a_signed_one(
    template: TemplateDict,
) -> None:
    # Given every route of the API with sample values in its parameters ("*" in an IAM
    # resource also matches "/", so a pattern could reach a deeper route)
    routes = {
        (props["Method"].upper(), props["Path"]): props["Method"].upper()
        + re.sub(r"\{[^}]+\}", "x", props["Path"])
        for _, _, props in api_events(template)
    }
    prefix = EXECUTE_API_ARN + "${NewsroomApi}/${StageName}/"

    # Then each granted resource matches exactly one route, an AWS_IAM one
    for resource in moderator_statement(template)["Resource"]:
        pattern = resource["Fn::Sub"].removeprefix(prefix)
        matched = [route for route, sample in routes.items() if fnmatchcase(sample, pattern)]
        assert len(matched) == 1, (pattern, matched)
        assert matched[0] in signed_routes(template), pattern


def test_stack_outputs_the_moderator_policy_arn(template: TemplateDict) -> None:
    assert template["Outputs"]["ModeratorPolicyArn"]["Value"] == {"Ref": "ModeratorPolicy"}
    assert "Condition" not in template["Outputs"]["ModeratorPolicyArn"]


# The stream and its dead-letter queue


def test_stream_reports_partial_failures_and_bisects_failing_batches(
    template: TemplateDict,
) -> None:
    event = stream_event(template)

    assert event["Stream"] == {"Fn::GetAtt": ["ContentTable", "StreamArn"]}
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["BisectBatchOnFunctionError"] is True


def test_stream_retries_a_bounded_number_of_times_then_sends_to_the_dead_letter_queue(
    template: TemplateDict,
) -> None:
    event = stream_event(template)

    # -1, the default, retries until the record expires and blocks the shard meanwhile.
    assert 0 < event["MaximumRetryAttempts"] <= 10
    assert event["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": [DEAD_LETTER_QUEUE, "Arn"]},
    }


def test_stream_is_filtered_to_comment_inserts_and_changes(template: TemplateDict) -> None:
    filters = stream_event(template)["FilterCriteria"]["Filters"]

    patterns = [json.loads(each["Pattern"]) for each in filters]

    assert patterns
    for pattern in patterns:
        assert set(pattern["eventName"]) <= {"INSERT", "MODIFY"}
        assert pattern["dynamodb"]["NewImage"]["type"] == {"S": ["comment"]}


DEAD_LETTER_QUEUES = [DEAD_LETTER_QUEUE, "DeliveryEventsDeadLetterQueue"]


@pytest.mark.parametrize("queue_name", DEAD_LETTER_QUEUES)
def test_dead_letter_queue_is_encrypted_and_keeps_messages_for_14_days(
    template: TemplateDict, queue_name: str
) -> None:
    queue = template["Resources"][queue_name]

    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


@pytest.mark.parametrize("queue_name", DEAD_LETTER_QUEUES)
def test_dead_letter_queue_alarms_as_soon_as_one_message_is_visible(
    template: TemplateDict, queue_name: str
) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()

    watching_the_queue = [
        props
        for props in (alarm["Properties"] for alarm in alarms)
        if props.get("Namespace") == "AWS/SQS"
        and props.get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_name, "QueueName"]}}]
    ]

    assert len(watching_the_queue) == 1
    (alarm,) = watching_the_queue
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"  # an empty queue reports no data


def test_dead_letter_alarm_notifies_a_topic_people_can_subscribe_to(
    template: TemplateDict,
) -> None:
    alarm = template["Resources"]["NotificationsDeadLetterAlarm"]["Properties"]

    (action,) = alarm["AlarmActions"]
    topic = template["Resources"][action["Ref"]]
    assert topic["Type"] == "AWS::SNS::Topic"
    assert "KmsMasterKeyId" in topic["Properties"]
    assert {"Ref": action["Ref"]} in [o["Value"] for o in template["Outputs"].values()]


def test_an_unusable_secret_alarms_on_what_each_http_function_counts(
    template: TemplateDict,
) -> None:
    # The namespace and the service dimension are those Powertools gives the metric
    # `newsroom.http` counts when the secret is missing or too short.
    namespace = template["Globals"]["Function"]["Environment"]["Variables"][
        "POWERTOOLS_METRICS_NAMESPACE"
    ]
    services = {
        name: fn["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for name, fn in resources(template, "AWS::Serverless::Function").items()
    }
    alarm = template["Resources"]["SecretUnavailableAlarm"]["Properties"]

    watched = [query["MetricStat"]["Metric"] for query in alarm["Metrics"] if "MetricStat" in query]
    assert {metric["Namespace"] for metric in watched} == {namespace}
    assert {metric["MetricName"] for metric in watched} == {"SecretUnavailable"}
    assert sorted(d["Value"] for metric in watched for d in metric["Dimensions"]) == sorted(
        [services["ArticlesFunction"], services["CommentsFunction"]]
    )
    (total,) = [query for query in alarm["Metrics"] if query.get("ReturnData")]
    assert "FILL(" in total["Expression"]  # a function with no 503 reports no data at all
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


# The CDN in front of the API (Cdn on)

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
# Managed policies that forward the viewer's Host, which API Gateway answers with 403.
POLICIES_THAT_FORWARD_HOST = {
    "216adef6-5c7f-47e4-b989-5492eafa07d3",  # AllViewer
    "33f36d7e-f396-46d9-90e0-52428a34d9dc",  # AllViewerAndCloudFrontHeaders-2022-06
}
ALL_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}


def distribution_config(template: TemplateDict) -> dict[str, Any]:
    (distribution,) = resources(template, "AWS::CloudFront::Distribution").values()
    config: dict[str, Any] = distribution["Properties"]["DistributionConfig"]
    return config


def cached_behaviours(template: TemplateDict) -> list[dict[str, Any]]:
    behaviours: list[dict[str, Any]] = distribution_config(template)["CacheBehaviors"]
    return behaviours


def behaviour_for(template: TemplateDict, path: str) -> dict[str, Any]:
    """The behaviour CloudFront applies to a viewer path: the first pattern that matches, else
    the default (CloudFront's `*` and `?` match as fnmatch's do; the template uses no `[`)."""
    for behaviour in cached_behaviours(template):
        if fnmatchcase(path, behaviour["PathPattern"]):
            return behaviour
    default: dict[str, Any] = distribution_config(template)["DefaultCacheBehavior"]
    return default


def example_path(route: str) -> str:
    """A viewer path for an API route: /articles/{slug} becomes /articles/x."""
    return "/".join("x" if part.startswith("{") else part for part in route.split("/"))


def public_reads_policy(template: TemplateDict) -> dict[str, Any]:
    (policy,) = resources(template, "AWS::CloudFront::CachePolicy").values()
    config: dict[str, Any] = policy["Properties"]["CachePolicyConfig"]
    return config


def test_cdn_is_off_unless_the_deployment_turns_it_on(template: TemplateDict) -> None:
    # Given the Cdn parameter and everything CloudFront
    parameter = template["Parameters"]["Cdn"]
    cloudfront = {
        name: spec
        for name, spec in template["Resources"].items()
        if spec["Type"].startswith("AWS::CloudFront::")
    }
    outputs = {name: o for name, o in template["Outputs"].items() if "Cdn" in name}

    # Then it is off by default, and each piece exists only under the condition
    assert parameter["Default"] == "off"
    assert parameter["AllowedValues"] == ["off", "on"]
    assert template["Conditions"]["HasCdn"] == {"Fn::Equals": [{"Ref": "Cdn"}, "on"]}
    assert set(cloudfront) == {"CdnDistribution", "CdnPublicReadsCachePolicy"}
    for name, spec in cloudfront.items():
        assert spec["Condition"] == "HasCdn", name
    assert outputs
    for name, output in outputs.items():
        assert output["Condition"] == "HasCdn", name


def test_cdn_reaches_the_api_stage_over_https_only(template: TemplateDict) -> None:
    config = distribution_config(template)

    (origin,) = config["Origins"]

    assert origin["DomainName"] == {
        "Fn::Sub": "${NewsroomApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    }
    assert origin["OriginPath"] == {"Fn::Sub": "/${StageName}"}
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    behaviours = [config["DefaultCacheBehavior"], *cached_behaviours(template)]
    for behaviour in behaviours:
        assert behaviour["TargetOriginId"] == origin["Id"]
        assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"


@pytest.mark.parametrize(
    "path",
    [
        "/articles",
        "/articles/x",
        "/articles/x/comments",
        "/articles/x/comments/y",
        "/comment-counts",
        "/embed/comments.js",
        "/embed/comments.css",
        "/feed",
        "/tags/x/feed",
        "/articles/x/comments/feed",
        "/comments/feed",
    ],
)
def test_public_reads_are_cached_as_long_as_the_api_says_and_compressed(
    template: TemplateDict, path: str
) -> None:
    behaviour = behaviour_for(template, path)

    assert behaviour["CachePolicyId"] == {"Ref": "CdnPublicReadsCachePolicy"}
    assert behaviour["Compress"] is True
    # GET and HEAD answers only: a comment POSTed to /articles/x/comments is never kept.
    assert set(behaviour["CachedMethods"]) == {"GET", "HEAD"}
    assert set(behaviour["AllowedMethods"]) == ALL_METHODS


def test_public_reads_policy_honours_cache_control_and_keys_on_query_and_origin(
    template: TemplateDict,
) -> None:
    config = public_reads_policy(template)
    key = config["ParametersInCacheKeyAndForwardedToOrigin"]

    # A minimum above 0 would keep no-store answers; a default above 0 would keep answers that
    # say nothing. The widget's versioned files say a year.
    assert config["MinTTL"] == 0
    assert config["DefaultTTL"] == 0
    assert config["MaxTTL"] >= 365 * 24 * 3600
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "all"}
    # CloudFront ignores Vary: Origin, so the Origin the answer was made for is in the key.
    assert key["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["Origin"]}
    assert "Host" not in key["HeadersConfig"]["Headers"]
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["EnableAcceptEncodingGzip"] is True
    assert key["EnableAcceptEncodingBrotli"] is True


def test_admin_link_and_unlisted_routes_pass_through_uncached_with_every_method(
    template: TemplateDict,
) -> None:
    # Given the API's admin and link routes, and a path no behaviour names
    passing_through = sorted(
        example_path(props["Path"])
        for _, _, props in api_events(template)
        if props["Path"].startswith(("/admin", "/links"))
    )
    assert passing_through

    for path in [*passing_through, "/unknown"]:
        # When CloudFront picks the behaviour for it
        behaviour = behaviour_for(template, path)

        # Then it is the default one, which keeps nothing and lets every method through
        assert behaviour is distribution_config(template)["DefaultCacheBehavior"], path
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        assert set(behaviour["AllowedMethods"]) == ALL_METHODS


def test_every_cached_path_is_a_public_route_without_authorizer(template: TemplateDict) -> None:
    routes = {example_path(props["Path"]): props for _, _, props in api_events(template)}

    cached = [
        path
        for path in routes
        if behaviour_for(template, path)
        is not distribution_config(template)["DefaultCacheBehavior"]
    ]

    assert cached
    for path in cached:
        assert "Auth" not in routes[path], path


def test_every_behaviour_forwards_all_viewer_headers_except_host(template: TemplateDict) -> None:
    config = distribution_config(template)

    for behaviour in [config["DefaultCacheBehavior"], *cached_behaviours(template)]:
        assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
        assert behaviour["OriginRequestPolicyId"] not in POLICIES_THAT_FORWARD_HOST
        assert "ForwardedValues" not in behaviour  # the legacy settings would bypass the policies
    assert not resources(template, "AWS::CloudFront::OriginRequestPolicy")


# Tables, layer and globals


# The listing each index of the content table serves (newsroom.data): article listings, the
# public comment threads, the moderation queues, the article feeds.
INDEX_LISTINGS = {
    "gsi1": ArticleSummary,
    "gsi2": PublicComment,
    "gsi3": AdminComment,
    "gsi5": FeedArticle,
}


def test_each_index_projects_what_its_listing_shows_and_nothing_more(
    template: TemplateDict,
) -> None:
    # A Query reads at most 1 MB of index entries: an index that carried the article body or
    # a comment's source text would make its pages cost several Queries, or more bytes each.
    table = resources(template, "AWS::DynamoDB::Table")["ContentTable"]["Properties"]

    projections = {
        index["IndexName"]: index["Projection"] for index in table["GlobalSecondaryIndexes"]
    }

    assert projections == {
        **{
            name: {"ProjectionType": "INCLUDE", "NonKeyAttributes": sorted(listing.model_fields)}
            for name, listing in INDEX_LISTINGS.items()
        },
        # Every item holding an address, read by key after (an export, an erasure).
        "gsi4": {"ProjectionType": "KEYS_ONLY"},
    }


def test_feed_index_is_keyed_as_the_listing_index_so_it_is_built_from_the_items_already_there(
    template: TemplateDict,
) -> None:
    # gsi5 reads the items gsi1 lists (articles and their tag items) by the keys they already
    # carry: adding it to a live table needs no item rewritten (docs/operations.md).
    table = resources(template, "AWS::DynamoDB::Table")["ContentTable"]["Properties"]

    keys = {index["IndexName"]: index["KeySchema"] for index in table["GlobalSecondaryIndexes"]}

    assert keys["gsi5"] == keys["gsi1"]


def test_projected_attributes_of_every_index_together_stay_within_dynamodbs_100(
    template: TemplateDict,
) -> None:
    # DynamoDB counts each INCLUDE attribute once per index that projects it (gsi1 and gsi5
    # both project the summary), and refuses a table past 100 (CreateTable's
    # GlobalSecondaryIndexes, NonKeyAttributes).
    for name, table in resources(template, "AWS::DynamoDB::Table").items():
        indexes = table["Properties"].get("GlobalSecondaryIndexes", [])

        projected = sum(len(i["Projection"].get("NonKeyAttributes", [])) for i in indexes)

        assert projected <= 100, name


def test_every_table_is_on_demand_with_point_in_time_recovery_and_encryption(
    template: TemplateDict,
) -> None:
    tables = resources(template, "AWS::DynamoDB::Table")

    assert set(tables) >= {"ContentTable", "IdempotencyTable"}
    for name, table in tables.items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], name
        assert props["SSESpecification"]["SSEEnabled"] is True, name


def test_layer_is_built_for_arm64_and_python_3_13(template: TemplateDict) -> None:
    (layer,) = resources(template, "AWS::Serverless::LayerVersion").values()

    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    # shared/Makefile: the locked wheels for python3.13 on arm64, compiled to bytecode (what it
    # builds is checked by make check-arm64: the lock's versions, aarch64, the bytecode)
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    makefile = (PROJECT_ROOT / layer["Properties"]["ContentUri"] / "Makefile").read_text()
    assert "build-NewsroomLayer:" in makefile
    assert "--python-version 3.13" in makefile
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]


def test_every_function_runs_python_3_13_on_arm64_traced_as_the_parameter_says(
    template: TemplateDict,
) -> None:
    globals_ = template["Globals"]["Function"]

    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    assert globals_["Tracing"] == {"Fn::If": ["TracingOn", "Active", "PassThrough"]}
    for name, props in function_properties(template).items():
        assert {"Runtime", "Architectures", "Tracing"}.isdisjoint(props), name


# SnapStart, and the published versions behind the alias (SnapStart on or off)

# What SAM makes of a function's versions, not part of the configuration a version snapshots.
NOT_VERSIONED = {"Events", "Policies", "VersionDescription"}
# Lambda's limit on a version's description.
DESCRIPTION_MAX_LENGTH = 256


def parameters_in(template: TemplateDict, node: Any) -> set[str]:
    """The template parameters `node` depends on: its `Ref`s and `Fn::Sub` names, and those of
    the conditions its `Fn::If`s test."""
    declared = template["Parameters"]
    if isinstance(node, list):
        return set().union(*(parameters_in(template, item) for item in node))
    if not isinstance(node, dict):
        return set()
    found: set[str] = set()
    for key, value in node.items():
        if key == "Ref":
            found |= {value} & set(declared)
        elif key == "Fn::Sub":
            text, names = (value, {}) if isinstance(value, str) else value
            found |= (set(re.findall(r"\$\{([A-Za-z0-9]+)\}", text)) - set(names)) & set(declared)
            found |= parameters_in(template, names)
        elif key in {"Fn::If", "Condition"}:
            condition, *branches = value if key == "Fn::If" else [value]
            found |= parameters_in(template, template["Conditions"][condition])
            found |= parameters_in(template, branches)
        else:
            found |= parameters_in(template, value)
    return found


def versioned_configuration(template: TemplateDict, function: str) -> dict[str, Any]:
    """The function's properties, Globals merged in, that each published version holds."""
    props = {**template["Globals"]["Function"], **function_properties(template)[function]}
    return {key: value for key, value in props.items() if key not in NOT_VERSIONED}


def another_value(template: TemplateDict, name: str, value: str) -> str:
    """A value of parameter `name` other than `value`."""
    allowed = [str(v) for v in template["Parameters"][name].get("AllowedValues", [])]
    if allowed:
        return next(v for v in allowed if v != value)
    return value + "-changed" if value else "https://comments.example.com"


def test_snapstart_is_off_unless_the_deployment_turns_it_on(template: TemplateDict) -> None:
    # Given the SnapStart parameter and the functions' setting
    parameter = template["Parameters"]["SnapStart"]
    apply_on = template["Globals"]["Function"]["SnapStart"]["ApplyOn"]
    defaults = parameter_defaults(template)

    # Then it is off unless set, and on only snapshots the published versions
    assert parameter["Default"] == "off"
    assert parameter["AllowedValues"] == ["off", "on"]
    assert template["Conditions"]["SnapStartOn"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "on"]}
    assert evaluate(template, apply_on, defaults) == "None"
    assert evaluate(template, apply_on, defaults | {"SnapStart": "on"}) == "PublishedVersions"
    for name, props in function_properties(template).items():
        assert "SnapStart" not in props, name


def test_akismet_is_off_unless_the_deployment_names_its_key_parameter(
    template: TemplateDict,
) -> None:
    # Given the parameter naming the SSM parameter with the Akismet key
    parameter = template["Parameters"]["AkismetKeyParameterName"]
    defaults = parameter_defaults(template)
    named = defaults | {"AkismetKeyParameterName": "/newsroom/akismet-key"}
    has_akismet = {"Condition": "HasAkismet"}

    # Then it is off unless named, and only an SSM parameter path can be named
    assert parameter["Default"] == ""
    assert evaluate(template, has_akismet, defaults) is False
    assert evaluate(template, has_akismet, named) is True
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("")
    assert pattern.fullmatch("/newsroom/akismet-key")
    assert not pattern.fullmatch("newsroom/akismet-key")
    # And the two functions that call Akismet (comment-check on a post, submit-spam/ham from
    # the stream) are told it only then; no other function is
    told = {
        name
        for name, props in function_properties(template).items()
        if "AKISMET_KEY_PARAMETER_NAME" in props["Environment"]["Variables"]
    }
    assert told == {"CommentsFunction", "NotificationsFunction"}
    for name in told:
        variables = function_properties(template)[name]["Environment"]["Variables"]
        assert variables["AKISMET_KEY_PARAMETER_NAME"] == {
            "Fn::If": ["HasAkismet", {"Ref": "AkismetKeyParameterName"}, {"Ref": "AWS::NoValue"}]
        }


def test_every_function_is_published_behind_the_live_alias_old_versions_deleted(
    template: TemplateDict,
) -> None:
    globals_ = template["Globals"]["Function"]
    (layer,) = resources(template, "AWS::Serverless::LayerVersion").values()

    # SAM points the API's integrations, their permissions and the stream's mapping at the alias.
    assert globals_["AutoPublishAlias"] == "live"
    assert globals_["VersionDeletionPolicy"] == "Delete"
    # A new version when any property or the layer changes, not only the function's own code.
    assert layer["Properties"]["PublishLambdaVersion"] is True
    for name, props in function_properties(template).items():
        assert {"AutoPublishAlias", "VersionDeletionPolicy"}.isdisjoint(props), name
        assert props["AutoPublishAliasAllProperties"] is True, name


@pytest.mark.parametrize(
    "function", ["ArticlesFunction", "CommentsFunction", "NotificationsFunction"]
)
def test_a_new_value_of_any_parameter_a_function_reads_publishes_a_new_version(
    template: TemplateDict, function: str
) -> None:
    # Given the parameters the function's versions are configured with (SAM's version hash
    # sees their !Refs, not their values), and its version description
    read = parameters_in(template, versioned_configuration(template, function))
    description = function_properties(template)[function]["VersionDescription"]
    defaults = parameter_defaults(template)

    # When one of them changes
    for name in sorted(read):
        changed = defaults | {name: another_value(template, name, defaults[name])}

        # Then so does the description, which has CloudFormation publish a new version
        assert evaluate(template, description, changed) != evaluate(
            template, description, defaults
        ), name
    # And it names no other: a change of that would replace the version with nothing new in it
    assert parameters_in(template, description) <= read
    assert {"SnapStart", "Tracing"} <= read


@pytest.mark.parametrize("snapstart", ["off", "on"])
def test_version_descriptions_fit_lambdas_limit_with_the_default_parameters(
    template: TemplateDict, snapstart: str
) -> None:
    values = parameter_defaults(template) | {"SnapStart": snapstart}

    for name, props in function_properties(template).items():
        description = evaluate(template, props["VersionDescription"], values)
        assert len(description) <= DESCRIPTION_MAX_LENGTH, name


def test_every_waived_checkov_check_says_why(template: TemplateDict) -> None:
    waivers = [
        (name, skip)
        for name, spec in template["Resources"].items()
        for skip in spec.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]

    for name, skip in waivers:
        assert skip["id"].startswith(("CKV_", "CKV2_")), (name, skip)
        assert len(skip.get("comment", "").split()) >= 5, (name, skip["id"])


# SES's EventBridge detail-types (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-ses.html)
# of the events the configuration set publishes, by the set's CloudFormation event type.
DELIVERY_EVENT_TYPES = {
    "bounce": "Email Bounced",
    "complaint": "Email Complaint Received",
    "delivery": "Email Delivered",
    "reject": "Email Rejected",
    "deliveryDelay": "Email Delivery Delayed",
}


def test_every_sending_function_sends_with_the_delivery_configuration_set(
    template: TemplateDict,
) -> None:
    senders = {
        name
        for name, statement in inline_statements(template)
        if "ses:SendEmail" in as_list(statement["Action"])
    }
    assert senders == {"CommentsFunction", "NotificationsFunction"}
    for name in senders:
        variables = function_properties(template)[name]["Environment"]["Variables"]
        assert variables["CONFIGURATION_SET_NAME"] == {"Ref": "DeliveryConfigurationSet"}, name


def test_configuration_set_publishes_its_delivery_events_to_the_default_bus(
    template: TemplateDict,
) -> None:
    (destination,) = resources(template, "AWS::SES::ConfigurationSetEventDestination").values()
    props = destination["Properties"]
    assert props["ConfigurationSetName"] == {"Ref": "DeliveryConfigurationSet"}
    event_destination = props["EventDestination"]
    assert event_destination["Enabled"] is True
    assert sorted(event_destination["MatchingEventTypes"]) == sorted(DELIVERY_EVENT_TYPES)
    # SES publishes to the default bus only.
    bus = event_destination["EventBridgeDestination"]["EventBusArn"]["Fn::Sub"]
    assert bus.endswith(":event-bus/default")


def test_delivery_events_are_queued_by_a_rule_on_this_stacks_configuration_set(
    template: TemplateDict,
) -> None:
    (rule,) = resources(template, "AWS::Events::Rule").values()
    props = rule["Properties"]
    pattern = props["EventPattern"]
    assert props["EventBusName"] == "default"  # the only bus SES publishes to
    assert pattern["source"] == ["aws.ses"]
    assert sorted(pattern["detail-type"]) == sorted(DELIVERY_EVENT_TYPES.values())
    # Only this stack's emails: SES tags each event with the configuration set's name.
    assert pattern["detail"]["mail"]["tags"]["ses:configuration-set"] == [
        {"Ref": "DeliveryConfigurationSet"}
    ]
    (target,) = props["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["DeliveryEventsQueue", "Arn"]}
    assert "RoleArn" not in target  # an SQS target is allowed by the queue's policy
    # An event EventBridge cannot queue: retried for a day, then kept.
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400
    assert target["RetryPolicy"]["MaximumRetryAttempts"] <= 185  # EventBridge's maximum
    assert target["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": ["DeliveryEventsDeadLetterQueue", "Arn"]}
    }


def test_only_the_delivery_events_rule_may_send_to_its_queues(template: TemplateDict) -> None:
    (policy,) = resources(template, "AWS::SQS::QueuePolicy").values()
    props = policy["Properties"]
    (statement,) = props["PolicyDocument"]["Statement"]

    assert props["Queues"] == [
        {"Ref": "DeliveryEventsQueue"},
        {"Ref": "DeliveryEventsDeadLetterQueue"},
    ]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == [
        {"Fn::GetAtt": ["DeliveryEventsQueue", "Arn"]},
        {"Fn::GetAtt": ["DeliveryEventsDeadLetterQueue", "Arn"]},
    ]
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["DeliveryEventsRule", "Arn"]}}
    }


def test_delivery_events_reach_their_function_in_batches_with_partial_failures(
    template: TemplateDict,
) -> None:
    props = function_properties(template)["DeliveryEventsFunction"]
    (event,) = props["Events"].values()
    queue = template["Resources"]["DeliveryEventsQueue"]["Properties"]
    timeout = props.get("Timeout", template["Globals"]["Function"]["Timeout"])

    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::GetAtt": ["DeliveryEventsQueue", "Arn"]}
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= event["Properties"]["BatchSize"] <= 10
    # Lambda's advice: a visibility timeout of six times the function's.
    assert queue["VisibilityTimeout"] >= 6 * timeout
    # An event failed five times is kept in the dead-letter queue, not lost.
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["DeliveryEventsDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }
    assert queue["SqsManagedSseEnabled"] is True
    # No asynchronous invocation any more: its retries and dead-letter queue would not apply.
    assert "DeadLetterQueue" not in props
    assert "EventInvokeConfig" not in props


@pytest.mark.parametrize(
    ("metric", "threshold"),
    [("Reputation.BounceRate", 0.04), ("Reputation.ComplaintRate", 0.0008)],
)
def test_ses_reputation_alarms_a_step_before_ses_reviews_the_account(
    template: TemplateDict, metric: str, threshold: float
) -> None:
    alarms = [
        alarm["Properties"]
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == metric
    ]

    (alarm,) = alarms
    assert alarm["Namespace"] == "AWS/SES"
    assert float(alarm["Threshold"]) == threshold
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["Period"] == 86400  # over a day
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        ('["moderator@example.com"]', True),
        ("editor@example.com", True),
        ("editor@example.com, desk@example.org", True),
        ('[ "editor@example.com" , "desk@example.org" ]', True),
        ("editor", False),
        ("editor@example.com; desk@example.org", False),
        ('["editor@example.com"', False),
        ("", False),
    ],
)
def test_moderator_emails_are_checked_at_deploy_time_as_the_function_reads_them(
    template: TemplateDict, typed: str, accepted: bool
) -> None:
    from pydantic import ValidationError

    from newsroom.comment_settings import NotificationsSettings

    pattern = template["Parameters"]["ModeratorEmails"]["AllowedPattern"]
    environ = {
        "CONTENT_TABLE_NAME": "content",
        "SECRET_PARAMETER_NAME": "/newsroom/secret",
        "SENDER_EMAIL": "newsroom@example.com",
        "PUBLIC_BASE_URL": "https://news.example",
        "MODERATOR_EMAILS": typed,
    }
    try:
        read = bool(NotificationsSettings.from_environment(environ).moderator_emails)
    except (ValidationError, ValueError):
        read = False

    # CloudFormation refuses what the function could not read, and lets through what it can.
    assert bool(re.fullmatch(pattern, typed)) is accepted
    assert read is accepted


def test_stage_throttling_rate_and_burst_are_the_deployments_parameters(
    template: TemplateDict,
) -> None:
    (api,) = resources(template, "AWS::Serverless::Api").values()
    (settings,) = api["Properties"]["MethodSettings"]
    defaults = parameter_defaults(template)
    chosen = defaults | {"ThrottlingRateLimit": "200", "ThrottlingBurstLimit": "400"}

    # Every route, as deployed by default and as a site owner sets it
    assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
    assert [
        evaluate(template, settings[name], defaults)
        for name in ("ThrottlingRateLimit", "ThrottlingBurstLimit")
    ] == [defaults["ThrottlingRateLimit"], defaults["ThrottlingBurstLimit"]]
    assert [
        evaluate(template, settings[name], chosen)
        for name in ("ThrottlingRateLimit", "ThrottlingBurstLimit")
    ] == ["200", "400"]
    # Bounded by what API Gateway allows an account in a region by default
    for name, most in (("ThrottlingRateLimit", 10_000), ("ThrottlingBurstLimit", 5_000)):
        parameter = template["Parameters"][name]
        assert (parameter["Type"], parameter["MinValue"], parameter["MaxValue"]) == (
            "Number",
            1,
            most,
        )


def test_a_mail_from_subdomain_gives_the_identity_its_own_bounce_domain_and_records(
    template: TemplateDict,
) -> None:
    defaults = parameter_defaults(template)
    resources = template["Resources"]
    mail_from = resources["SenderDomainIdentity"]["Properties"]["MailFromAttributes"]
    records = [resources["SenderMailFromMxRecord"], resources["SenderMailFromSpfRecord"]]
    output = template["Outputs"]["SenderMailFromRecords"]
    on = defaults | {"SenderIdentity": "on", "SenderMailFromSubdomain": "mail"}

    # Only with an identity the stack creates, and a subdomain named
    has = {"Condition": "HasMailFrom"}
    assert defaults["SenderMailFromSubdomain"] == ""
    assert evaluate(template, has, defaults) is False
    assert evaluate(template, has, defaults | {"SenderMailFromSubdomain": "mail"}) is False
    assert evaluate(template, has, on) is True
    assert mail_from["Fn::If"][0] == output["Condition"] == "HasMailFrom"
    assert mail_from["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    # a subdomain of SenderEmail's domain; a missing MX record never refuses an email
    attributes = mail_from["Fn::If"][1]
    domain_of_sender = {"Fn::Select": [1, {"Fn::Split": ["@", {"Ref": "SenderEmail"}]}]}
    assert attributes["MailFromDomain"] == {
        "Fn::Sub": ["${SenderMailFromSubdomain}.${Domain}", {"Domain": domain_of_sender}]
    }
    assert attributes["BehaviorOnMxFailure"] == "USE_DEFAULT_VALUE"
    # SES's MX and SPF records, written only into a named hosted zone
    writes = {"Condition": "WritesMailFromRecords"}
    assert evaluate(template, writes, on) is False
    assert evaluate(template, writes, on | {"SenderHostedZoneId": "Z0123456789ABC"}) is True
    for record in records:
        assert record["Condition"] == "WritesMailFromRecords"
        assert record["Properties"]["Name"] == attributes["MailFromDomain"]
        assert record["Properties"]["HostedZoneId"] == {"Ref": "SenderHostedZoneId"}
    mx, spf = (record["Properties"] for record in records)
    assert (mx["Type"], mx["ResourceRecords"]) == (
        "MX",
        [{"Fn::Sub": "10 feedback-smtp.${AWS::Region}.amazonses.com"}],
    )
    assert (spf["Type"], spf["ResourceRecords"]) == ("TXT", ['"v=spf1 include:amazonses.com ~all"'])
    # the pattern takes one DNS label or nothing
    pattern = re.compile(template["Parameters"]["SenderMailFromSubdomain"]["AllowedPattern"])
    assert all(pattern.fullmatch(v) for v in ("", "mail", "bounce-1"))
    assert not any(pattern.fullmatch(v) for v in ("mail.example.com", "-mail", "Mail", "a b"))


def test_sender_identity_on_creates_the_senders_domain_with_easy_dkim_and_its_records(
    template: TemplateDict,
) -> None:
    defaults = parameter_defaults(template)
    conditions = template["Conditions"]
    identity = template["Resources"]["SenderDomainIdentity"]
    records = [template["Resources"][f"SenderDkimRecord{n}"] for n in (1, 2, 3)]
    output = template["Outputs"]["SenderDkimRecords"]

    # Off by default; on, the domain of SenderEmail (what SES signs for, DMARC aligns with)
    assert defaults["SenderIdentity"] == "off"
    created = {"Condition": "CreatesSenderIdentity"}
    assert evaluate(template, created, defaults) is False
    assert evaluate(template, created, defaults | {"SenderIdentity": "on"}) is True
    assert identity["Condition"] == output["Condition"] == "CreatesSenderIdentity"
    props = identity["Properties"]
    assert (
        evaluate(
            template, props["EmailIdentity"], defaults | {"SenderEmail": "news@courier.example"}
        )
        == "courier.example"
    )
    # Easy DKIM (no key of our own), signing, the delivery events' configuration set by default
    assert props["DkimSigningAttributes"] == {"NextSigningKeyLength": "RSA_2048_BIT"}
    assert props["DkimAttributes"] == {"SigningEnabled": True}
    assert props["ConfigurationSetAttributes"] == {
        "ConfigurationSetName": {"Ref": "DeliveryConfigurationSet"}
    }
    # The three CNAMEs SES gives, written only when a hosted zone is named
    writes = {"Condition": "WritesDkimRecords"}
    on = defaults | {"SenderIdentity": "on"}
    assert evaluate(template, writes, on) is False
    assert evaluate(template, writes, on | {"SenderHostedZoneId": "Z0123456789ABC"}) is True
    assert evaluate(template, writes, defaults | {"SenderHostedZoneId": "Z0123456789ABC"}) is False
    assert "WritesDkimRecords" in conditions
    for n, record in enumerate(records, start=1):
        assert record["Condition"] == "WritesDkimRecords"
        assert record["Properties"]["Type"] == "CNAME"
        assert record["Properties"]["Name"] == {
            "Fn::GetAtt": ["SenderDomainIdentity", f"DkimDNSTokenName{n}"]
        }
        assert record["Properties"]["ResourceRecords"] == [
            {"Fn::GetAtt": ["SenderDomainIdentity", f"DkimDNSTokenValue{n}"]}
        ]
