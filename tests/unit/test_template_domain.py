"""template.yaml puts the API on the site's own domain (docs/domain.md): a regional custom
domain with its base path mapping when Cdn is off, the distribution's alternate name when it is
on; the Rules refuse what cannot be deployed; the functions strip the base path, link to the
public URL, and believe the reader's address CloudFront names only with the distribution's
secret. Everything is read from the template, never restated."""

from __future__ import annotations

import re
from typing import Any

import pytest

from newsroom_tools.runner import PSEUDO_PARAMETERS
from newsroom_tools.template import (
    UnresolvableError,
    evaluate,
    load_template,
    parameter_defaults,
)

TemplateDict = dict[str, Any]

DOMAIN = {
    "DomainName": "comments.example.com",
    "DomainCertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f",
    "DomainHostedZoneId": "Z0123456789ABC",
}
HTTP_FUNCTIONS = ("ArticlesFunction", "CommentsFunction")
LINKING_FUNCTIONS = ("ArticlesFunction", "CommentsFunction", "NotificationsFunction")
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"  # CloudFront's hosted zone for alias records


@pytest.fixture(scope="module")
def template() -> TemplateDict:
    return load_template()


def present(template: TemplateDict, values: dict[str, str]) -> set[str]:
    """The resources a deployment with `values` creates."""
    return {
        name
        for name, spec in template["Resources"].items()
        if "Condition" not in spec or evaluate(template, {"Condition": spec["Condition"]}, values)
    }


def variable(template: TemplateDict, function: str, name: str, values: dict[str, str]) -> Any:
    """A function's environment variable as deployed with `values` (None: not set)."""
    variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
    if name not in variables:
        return None
    known = PSEUDO_PARAMETERS | values | {"NewsroomApi": "abc123"}
    try:
        return evaluate(template, variables[name], known)
    except UnresolvableError as exc:  # AWS::NoValue: evaluate refuses a Ref it does not know
        if "AWS::NoValue" in str(exc):
            return None
        raise


def broken_rules(template: TemplateDict, values: dict[str, str]) -> list[str]:
    """The template's Rules a deployment with `values` fails, as CloudFormation checks them."""
    return [
        name
        for name, rule in template["Rules"].items()
        if evaluate(template, rule["RuleCondition"], values)
        and not all(evaluate(template, a["Assert"], values) for a in rule["Assertions"])
    ]


def test_no_domain_by_default_and_links_where_the_request_came_in(template: TemplateDict) -> None:
    defaults = parameter_defaults(template)

    assert {defaults[name] for name in [*DOMAIN, "DomainBasePath"]} == {""}
    created = present(template, defaults)
    assert not {"ApiDomainName", "ApiBasePathMapping", "ApiDomainRecord"} & created
    assert not {"CdnDomainRecord", "CdnDomainIpv6Record"} & created
    for function in HTTP_FUNCTIONS:
        assert variable(template, function, "PUBLIC_BASE_URL", defaults) is None, function
        assert variable(template, function, "BASE_PATH", defaults) is None, function
    assert variable(template, "NotificationsFunction", "PUBLIC_BASE_URL", defaults) == (
        "https://abc123.execute-api.us-east-1.amazonaws.com/v1"
    )
    assert broken_rules(template, defaults) == []


def test_with_cdn_off_the_domain_is_a_regional_api_domain_mapped_at_its_base_path(
    template: TemplateDict,
) -> None:
    values = parameter_defaults(template) | DOMAIN | {"DomainBasePath": "api"}
    resources = template["Resources"]

    # The regional custom domain with the certificate, TLS 1.2, mapped to the stage at /api
    created = present(template, values)
    assert {"ApiDomainName", "ApiBasePathMapping", "ApiDomainRecord"} <= created
    assert not {"CdnDistribution", "CdnDomainRecord", "CdnDomainIpv6Record"} & created
    domain = resources["ApiDomainName"]["Properties"]
    assert domain["DomainName"] == {"Ref": "DomainName"}
    assert domain["RegionalCertificateArn"] == {"Ref": "DomainCertificateArn"}
    assert domain["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert domain["SecurityPolicy"] == "TLS_1_2"
    mapping = resources["ApiBasePathMapping"]["Properties"]
    assert mapping["DomainName"] == {"Ref": "ApiDomainName"}
    assert mapping["RestApiId"] == {"Ref": "NewsroomApi"}
    assert mapping["Stage"] == {"Ref": "NewsroomApi.Stage"}
    assert evaluate(template, mapping["BasePath"], values) == "api"
    # The alias record in the hosted zone, to the regional domain
    record = resources["ApiDomainRecord"]["Properties"]
    assert record["HostedZoneId"] == {"Ref": "DomainHostedZoneId"}
    assert (record["Name"], record["Type"]) == ({"Ref": "DomainName"}, "A")
    assert record["AliasTarget"]["DNSName"] == {
        "Fn::GetAtt": ["ApiDomainName", "RegionalDomainName"]
    }
    assert record["AliasTarget"]["HostedZoneId"] == {
        "Fn::GetAtt": ["ApiDomainName", "RegionalHostedZoneId"]
    }
    # The functions strip the base path and link to the domain under it
    for function in HTTP_FUNCTIONS:
        assert variable(template, function, "BASE_PATH", values) == "api", function
    for function in LINKING_FUNCTIONS:
        assert variable(template, function, "PUBLIC_BASE_URL", values) == (
            "https://comments.example.com/api"
        ), function
    # PublicBaseUrl, when given, still wins
    given = values | {"PublicBaseUrl": "https://news.example.com/comments"}
    for function in LINKING_FUNCTIONS:
        assert variable(template, function, "PUBLIC_BASE_URL", given) == given["PublicBaseUrl"]
    # Mapped at the root without a base path; no record without a hosted zone
    root = values | {"DomainBasePath": ""}
    condition, _, at_root = mapping["BasePath"]["Fn::If"]
    assert evaluate(template, {"Condition": condition}, root) is False
    assert at_root == {"Ref": "AWS::NoValue"}
    assert variable(template, "CommentsFunction", "PUBLIC_BASE_URL", root) == (
        "https://comments.example.com"
    )
    assert "ApiDomainRecord" not in present(template, values | {"DomainHostedZoneId": ""})
    assert broken_rules(template, values) == []


def test_with_cdn_on_the_domain_is_the_distributions_name_with_its_certificate(
    template: TemplateDict,
) -> None:
    values = parameter_defaults(template) | DOMAIN | {"Cdn": "on"}
    resources = template["Resources"]
    config = resources["CdnDistribution"]["Properties"]["DistributionConfig"]

    created = present(template, values)
    assert {"CdnDistribution", "CdnDomainRecord", "CdnDomainIpv6Record"} <= created
    assert not {"ApiDomainName", "ApiBasePathMapping", "ApiDomainRecord"} & created
    assert evaluate(template, config["Aliases"], values) == ["comments.example.com"]
    condition, on_domain, on_own_name = config["ViewerCertificate"]["Fn::If"]
    assert evaluate(template, {"Condition": condition}, values) is True
    assert on_domain == {
        "AcmCertificateArn": {"Ref": "DomainCertificateArn"},
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    # Without a domain, the distribution's own name and CloudFront's certificate
    plain = values | dict.fromkeys(DOMAIN, "")
    assert evaluate(template, {"Condition": condition}, plain) is False
    assert on_own_name == {"CloudFrontDefaultCertificate": True}
    # IPv4 and IPv6 aliases to the distribution
    for name, kind in (("CdnDomainRecord", "A"), ("CdnDomainIpv6Record", "AAAA")):
        record = resources[name]["Properties"]
        assert record["Type"] == kind
        assert record["Name"] == {"Ref": "DomainName"}
        assert record["AliasTarget"] == {
            "DNSName": {"Fn::GetAtt": ["CdnDistribution", "DomainName"]},
            "HostedZoneId": CLOUDFRONT_ZONE,
            "EvaluateTargetHealth": False,
        }
    # No base path to strip; links to the domain
    for function in HTTP_FUNCTIONS:
        assert variable(template, function, "BASE_PATH", values) is None
    for function in LINKING_FUNCTIONS:
        assert variable(template, function, "PUBLIC_BASE_URL", values) == (
            "https://comments.example.com"
        )
    target = template["Outputs"]["DomainTarget"]
    assert target["Condition"] == "HasDomain"
    assert target["Value"]["Fn::If"] == [
        "HasCdnDomain",
        {"Fn::GetAtt": ["CdnDistribution", "DomainName"]},
        {"Fn::GetAtt": ["ApiDomainName", "RegionalDomainName"]},
    ]
    assert broken_rules(template, values) == []


@pytest.mark.parametrize(
    ("values", "rule"),
    [
        ({"DomainName": "comments.example.com"}, "DomainHasCertificate"),
        ({"DomainCertificateArn": DOMAIN["DomainCertificateArn"]}, "DomainPartsNeedDomain"),
        ({"DomainBasePath": "api"}, "DomainPartsNeedDomain"),
        ({**DOMAIN, "DomainBasePath": "api", "Cdn": "on"}, "CdnDomainHasNoBasePath"),
    ],
)
def test_a_domain_that_cannot_be_deployed_is_refused_before_anything_is_created(
    template: TemplateDict, values: dict[str, str], rule: str
) -> None:
    assert broken_rules(template, parameter_defaults(template) | values) == [rule]


def test_the_domain_parameters_take_only_what_api_gateway_and_route53_take(
    template: TemplateDict,
) -> None:
    parameters = template["Parameters"]

    def takes(name: str, value: str) -> bool:
        return re.fullmatch(parameters[name]["AllowedPattern"], value) is not None

    assert all(takes("DomainName", v) for v in ("", "comments.example.com", "example.co.uk"))
    assert not any(takes("DomainName", v) for v in ("https://x.com", "x.com/api", "Example.com"))
    assert all(takes("DomainBasePath", v) for v in ("", "api", "comments-v1"))
    assert not any(takes("DomainBasePath", v) for v in ("/api", "api/v1", "API", "-x"))
    assert takes("DomainCertificateArn", DOMAIN["DomainCertificateArn"])
    assert not takes("DomainCertificateArn", "comments.example.com")
    assert takes("DomainHostedZoneId", "Z0123456789ABC")
    assert not takes("DomainHostedZoneId", "example.com")


def test_only_requests_through_the_distribution_carry_the_secret_the_comments_function_trusts(
    template: TemplateDict,
) -> None:
    values = parameter_defaults(template) | {"Cdn": "on"}
    config = template["Resources"]["CdnDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    (header,) = origin["CustomOriginConfig"] and origin["OriginCustomHeaders"]
    known = PSEUDO_PARAMETERS | values

    # The distribution sends the stack's own id in X-Newsroom-Edge, which the comments function
    # (which counts readers for flood control) is told, and no other function
    assert header["HeaderName"] == "X-Newsroom-Edge"
    secret = evaluate(template, header["HeaderValue"], known)
    assert secret == PSEUDO_PARAMETERS["AWS::StackId"].rsplit("/", 1)[1]
    assert variable(template, "CommentsFunction", "TRUSTED_EDGE_SECRET", values) == secret
    for function in ("ArticlesFunction", "NotificationsFunction", "DeliveryEventsFunction"):
        assert variable(template, function, "TRUSTED_EDGE_SECRET", values) is None, function
    # Without the distribution nobody's header is believed
    off = parameter_defaults(template)
    assert variable(template, "CommentsFunction", "TRUSTED_EDGE_SECRET", off) is None


def test_a_cdn_of_the_sites_own_is_trusted_with_the_header_the_stack_outputs(
    template: TemplateDict,
) -> None:
    values = parameter_defaults(template) | {"SiteCdn": "on"}
    output = template["Outputs"]["EdgeHeader"]
    secret = PSEUDO_PARAMETERS["AWS::StackId"].rsplit("/", 1)[1]

    assert parameter_defaults(template)["SiteCdn"] == "off"
    assert output["Condition"] == "SiteCdnOn"
    name, value = output["Value"]["Fn::Sub"]
    assert evaluate(template, {"Fn::Sub": name.replace("${Secret}", "")}, values) == (
        "X-Newsroom-Edge: "
    )
    assert evaluate(template, value["Secret"], PSEUDO_PARAMETERS | values) == secret
    assert variable(template, "CommentsFunction", "TRUSTED_EDGE_SECRET", values) == secret
    assert "CdnDistribution" not in present(template, values)
