"""The template's checked deployments: every option on, every option off, and on with the
domain on API Gateway (tests/checkov/template_variants.py; `make cfn-lint`, `make sam-validate`
and `make checkov` run on each)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from newsroom_tools.template import PROJECT_ROOT
from tests.checkov.template_variants import (
    ON_VALUES,
    SETTINGS,
    VARIANTS,
    off_value,
    read_template,
    set_variant,
    unclassified,
)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return read_template(PROJECT_ROOT / "template.yaml")


def switches(template: dict[str, Any]) -> list[str]:
    return [
        name
        for name, parameter in template["Parameters"].items()
        if sorted(parameter.get("AllowedValues", [])) == ["off", "on"]
    ]


def test_every_parameter_is_a_switch_an_option_or_a_setting(template: dict[str, Any]) -> None:
    assert unclassified(template) == []
    # and nothing is named that the template no longer has
    assert set(ON_VALUES) | SETTINGS <= set(template["Parameters"])


def test_options_are_off_by_default_so_all_off_is_a_real_deployment(
    template: dict[str, Any],
) -> None:
    parameters = template["Parameters"]
    assert {parameters[name]["Default"] for name in switches(template)} == {"off"}
    for name in ON_VALUES:
        assert str(parameters[name]["Default"]) == off_value(parameters[name]), name


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_variant_sets_every_switch_and_option_and_keeps_the_settings(
    template: dict[str, Any], variant: str
) -> None:
    changed = copy.deepcopy(template)
    set_variant(changed, variant)

    parameters = changed["Parameters"]
    on, exceptions = VARIANTS[variant]
    for name in switches(template):
        assert parameters[name]["Default"] == exceptions.get(name, "on" if on else "off"), name
    for name, value in ON_VALUES.items():
        expected = value if on else off_value(parameters[name])
        assert parameters[name]["Default"] == exceptions.get(name, expected), name
    for name in SETTINGS:
        assert parameters[name] == template["Parameters"][name], name


def test_the_variants_together_turn_every_option_on_and_keep_the_rules(
    template: dict[str, Any],
) -> None:
    values = {}
    for variant in VARIANTS:
        changed = copy.deepcopy(template)
        set_variant(changed, variant)
        values[variant] = {name: p["Default"] for name, p in changed["Parameters"].items()}

    # Every option is on in some variant: an exception only moves it to another
    for name in switches(template):
        assert any(v[name] == "on" for v in values.values()), name
    for name, value in ON_VALUES.items():
        assert any(v[name] == value for v in values.values()), name
    # and no variant breaks a rule of the template: a base path only with the domain on the API
    for variant, given in values.items():
        assert not (given["Cdn"] == "on" and given["DomainBasePath"]), variant
        assert given["DomainName"] or not given["DomainCertificateArn"], variant


def test_a_parameter_nobody_classified_stops_the_variants(template: dict[str, Any]) -> None:
    changed = copy.deepcopy(template)
    changed["Parameters"]["ShinyNewOption"] = {"Type": "String", "Default": ""}

    with pytest.raises(SystemExit, match="ShinyNewOption"):
        set_variant(changed, "all-on")
