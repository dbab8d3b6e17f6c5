"""The template's two checked deployments, every option on and every option off
(tests/checkov/template_variants.py; `make cfn-lint`, `make sam-validate` and `make checkov` run
on both)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from newsroom_tools.template import PROJECT_ROOT
from tests.checkov.template_variants import (
    ON_VALUES,
    SETTINGS,
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


@pytest.mark.parametrize("variant", ["all-on", "all-off"])
def test_a_variant_sets_every_switch_and_option_and_keeps_the_settings(
    template: dict[str, Any], variant: str
) -> None:
    changed = copy.deepcopy(template)
    set_variant(changed, variant)

    parameters = changed["Parameters"]
    on = variant == "all-on"
    assert {parameters[name]["Default"] for name in switches(template)} == {"on" if on else "off"}
    for name, value in ON_VALUES.items():
        expected = value if on else off_value(parameters[name])
        assert parameters[name]["Default"] == expected, name
    for name in SETTINGS:
        assert parameters[name] == template["Parameters"][name], name


def test_a_parameter_nobody_classified_stops_the_variants(template: dict[str, Any]) -> None:
    changed = copy.deepcopy(template)
    changed["Parameters"]["ShinyNewOption"] = {"Type": "String", "Default": ""}

    with pytest.raises(SystemExit, match="ShinyNewOption"):
        set_variant(changed, "all-on")
