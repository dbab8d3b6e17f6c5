"""The deployments the template is checked as, besides its defaults: every option on, every
option off, and every option on with the domain on API Gateway instead of CloudFront
(`make template-variants`; cfn-lint, `sam validate --lint` and checkov run on each).

A parameter is a switch (AllowedValues "off"/"on"), an option turned on by a value
(`ON_VALUES`: empty or zero means off) or a setting that is never off (`SETTINGS`: it keeps its
default in every variant). A parameter none of them names stops the script, so a new one is
checked on and off from the day it is added.

Writing the variants reads YAML with cfn-lint's reader (the project's virtualenv);
`sam_to_cloudformation.py` imports the rest in checkov's virtualenv, which has only the standard
library and its own packages.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

SWITCH_VALUES = ["off", "on"]

# What turns each option on; off is its empty (or zero) default.
ON_VALUES = {
    "AkismetKeyParameterName": "/newsroom/akismet-key",
    "SenderHostedZoneId": "Z0123456789ABCDEFGHIJ",
    "SenderMailFromSubdomain": "mail",
    "PublicBaseUrl": "https://comments.example.com",
    "ArticleUrlTemplate": "https://www.example.com/{slug}/",
    "AlarmEmail": "alerts@example.com",
    "MinimumFormSeconds": "3",
    "DomainName": "comments.example.com",
    "DomainCertificateArn": (
        "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
    ),
    "DomainHostedZoneId": "Z0123456789ABCDEFGHIJ",
    "DomainBasePath": "api",
}

# Never off: every variant keeps the default.
SETTINGS = {
    "StageName",
    "ThrottlingRateLimit",
    "ThrottlingBurstLimit",
    "AllowedOrigins",
    "SecretParameterName",
    "SenderEmail",
    "ModeratorEmails",
    "LogRetentionDays",
    "CdnPriceClass",
}

# Each variant: whether options are on, and what differs from that. Some options exclude
# each other (the template's Rules): with Cdn on the domain is the distribution's whole host, so
# a base path (an API Gateway mapping) is checked with the domain on the API, Cdn off.
VARIANTS = {
    "all-on": (True, {"DomainBasePath": ""}),
    "all-off": (False, {}),
    "api-domain": (True, {"Cdn": "off"}),
}


def unclassified(template: dict[str, Any]) -> list[str]:
    """The parameters of `template` that are neither a switch, an option nor a setting."""
    return [
        name
        for name, parameter in template.get("Parameters", {}).items()
        if sorted(parameter.get("AllowedValues", [])) != SWITCH_VALUES
        and name not in ON_VALUES
        and name not in SETTINGS
    ]


def off_value(parameter: dict[str, Any]) -> str:
    """An option's off value: zero for a number, else empty."""
    return "0" if parameter.get("Type") == "Number" else ""


def set_variant(template: dict[str, Any], variant: str) -> None:
    """Default every switch and option of `template` as `variant` (one of `VARIANTS`) sets it."""
    missing = unclassified(template)
    if missing:
        raise SystemExit(
            f"parameters neither a switch, an option nor a setting: {', '.join(missing)}: "
            "name them in tests/checkov/template_variants.py (ON_VALUES or SETTINGS)"
        )
    on, exceptions = VARIANTS[variant]
    for name, parameter in template.get("Parameters", {}).items():
        if name in SETTINGS:
            continue
        if name in exceptions:
            parameter["Default"] = exceptions[name]
        elif name in ON_VALUES:
            parameter["Default"] = ON_VALUES[name] if on else off_value(parameter)
        else:
            parameter["Default"] = "on" if on else "off"


def read_template(path: Path) -> dict[str, Any]:
    """The SAM template at `path`, its short intrinsic tags (!Ref) in long form."""
    from cfnlint.decode.cfn_yaml import loads

    template: dict[str, Any] = loads(path.read_text(encoding="utf-8"), str(path))
    return template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("template", type=Path, nargs="?", default=Path("template.yaml"))
    parser.add_argument(
        "directory",
        type=Path,
        nargs="?",
        default=Path(".aws-sam/variants"),
        help="where template-<variant>.json are written",
    )
    args = parser.parse_args()
    args.directory.mkdir(parents=True, exist_ok=True)
    for variant in VARIANTS:
        template = read_template(args.template)
        set_variant(template, variant)
        output = args.directory / f"template-{variant}.json"
        output.write_text(json.dumps(template, indent=2) + "\n", encoding="utf-8")
        print(f"{args.template} as {variant}: {output}")


if __name__ == "__main__":
    main()
