"""template.yaml serves the articles a site's CMS hosts (docs/cms.md): the admin routes behind
AWS_IAM on the function that may write the table, in the moderators' policy, and
ArticleUrlTemplate checked at deploy time and given to every function that links to articles.
Everything is read from the template, never restated."""

from __future__ import annotations

import re
from typing import Any

import pytest

from newsroom_tools.runner import environment_of
from newsroom_tools.template import functions, load_template, parameter_values, resources

TemplateDict = dict[str, Any]
ADMIN_ARTICLE_ROUTES = {
    ("PUT", "/admin/articles/{slug}"),
    ("POST", "/admin/articles/{slug}/{action}"),
    ("DELETE", "/admin/articles/{slug}"),
}


@pytest.fixture(scope="module")
def template() -> TemplateDict:
    return load_template()


def test_article_admin_routes_are_signed_and_served_by_the_function_that_writes_the_table(
    template: TemplateDict,
) -> None:
    specs = functions(template)

    served = {
        (route.method, route.path): (name, route.auth)
        for name, spec in specs.items()
        for route in spec.routes
        if route.path.startswith("/admin/articles")
    }

    assert set(served) == ADMIN_ARTICLE_ROUTES
    assert set(served.values()) == {("CommentsFunction", "AWS_IAM")}
    policies = resources(template, "AWS::Serverless::Function")["CommentsFunction"]["Properties"]
    assert {"DynamoDBCrudPolicy": {"TableName": {"Ref": "ContentTable"}}} in policies["Policies"]


def test_articles_function_keeps_read_only_access(template: TemplateDict) -> None:
    policies = resources(template, "AWS::Serverless::Function")["ArticlesFunction"]["Properties"]

    table_policies = [p for p in policies["Policies"] if "Statement" not in p]

    assert table_policies == [{"DynamoDBReadPolicy": {"TableName": {"Ref": "ContentTable"}}}]


def test_moderator_policy_lets_moderators_call_each_article_route_with_its_method_alone(
    template: TemplateDict,
) -> None:
    policy = resources(template, "AWS::IAM::ManagedPolicy")["ModeratorPolicy"]["Properties"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    stage = parameter_values(template, {})["StageName"]

    arns = {arn["Fn::Sub"].replace("${StageName}", stage) for arn in statement["Resource"]}

    api = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${NewsroomApi}"
    prefix = f"{api}/{stage}/"
    for method, path in ADMIN_ARTICLE_ROUTES:
        wanted = prefix + method + re.sub(r"\{[a-z_]+\}", "*", path)
        assert wanted in arns, wanted


@pytest.mark.parametrize(
    "value",
    [
        "",
        "https://example.com/{slug}/",
        "https://www.example.com/news/{slug}.html",
        "http://localhost:8000/article.html?slug={slug}",
        "https://example.com/{slug}/#comments",
        "{base}/articles/{slug}",
    ],
)
def test_article_url_template_takes_an_empty_value_or_a_url_with_the_slug(
    template: TemplateDict, value: str
) -> None:
    pattern = template["Parameters"]["ArticleUrlTemplate"]["AllowedPattern"]

    assert re.fullmatch(pattern, value)


@pytest.mark.parametrize(
    "value",
    [
        "https://example.com/articles/",  # no slug: every link to the same page
        "example.com/{slug}/",  # no scheme
        "ftp://example.com/{slug}",
        "javascript:alert(1)//{slug}",
        "https://example.com/{slug}/{slug}",
        "https://example.com/{title}/{slug}",  # str.format would fail on {title}
        "https://example.com/{slug} x",
        "https://user:pw@example.com/{slug}",
    ],
)
def test_article_url_template_refuses_at_deploy_time_what_would_make_broken_links(
    template: TemplateDict, value: str
) -> None:
    pattern = template["Parameters"]["ArticleUrlTemplate"]["AllowedPattern"]

    assert re.fullmatch(pattern, value) is None


def functions_reading_the_article_url_template() -> set[str]:
    """The functions whose settings read ARTICLE_URL_TEMPLATE: those whose settings models are
    the ones declaring `article_url_template`, by the settings each function module uses."""
    readers = set()
    for name, spec in functions(load_template()).items():
        source = spec.module_file.read_text()
        settings = set(re.findall(r"\b(\w+_settings)\(\)", source))
        if settings & {"articles_settings", "comments_settings", "notifications_settings"}:
            readers.add(name)
    return readers


def test_every_function_that_links_to_articles_gets_the_article_url_template_when_set(
    template: TemplateDict,
) -> None:
    specs = functions(template)

    for name in functions_reading_the_article_url_template():
        variable = specs[name].environment.get("ARTICLE_URL_TEMPLATE")
        assert variable == {
            "Fn::If": [
                "HasArticleUrlTemplate",
                {"Ref": "ArticleUrlTemplate"},
                {"Ref": "AWS::NoValue"},
            ]
        }, name
        # A change of the parameter publishes a new version of the function (its live alias).
        version = resources(template, "AWS::Serverless::Function")[name]["Properties"]
        assert {"Ref": "ArticleUrlTemplate"} in version["VersionDescription"]["Fn::Join"][1], name
    assert {"ArticlesFunction", "CommentsFunction", "NotificationsFunction"} <= (
        functions_reading_the_article_url_template()
    )


def test_empty_article_url_template_leaves_the_setting_to_its_default_as_the_local_run_resolves_it(
    template: TemplateDict,
) -> None:
    spec = functions(template)["NotificationsFunction"]

    off = environment_of(spec, parameter_values(template, {}), template=template)
    on = environment_of(
        spec,
        parameter_values(template, {"ArticleUrlTemplate": "https://example.com/{slug}/"}),
        template=template,
    )

    assert "ARTICLE_URL_TEMPLATE" not in off
    assert on["ARTICLE_URL_TEMPLATE"] == "https://example.com/{slug}/"
