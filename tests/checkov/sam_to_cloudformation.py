"""Expands template.yaml into the CloudFormation that SAM deploys, so that checkov also checks
what is really created from it: the functions' roles with their policy templates written out,
the API stage, the stream's event source mapping.

Runs in checkov's virtualenv, where aws-sam-translator is installed (`make checkov`). Resource
`Metadata` is carried over, so a waiver written on a SAM resource applies to what it becomes.

checkov leaves out a resource whose `Condition` is false at the parameters' defaults, so the
optional parts (the CDN, ...) are checked only in a second expansion, `--all-on`, where every
"off"/"on" parameter defaults to "on".
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

# checkov checks configuration, not code: local folders become a placeholder S3 location.
PLACEHOLDER_URI = "s3://newsroom-checkov/placeholder.zip"
LOCAL_URIS = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


class BundledManagedPoliciesOnly:
    """SAM knows AWS managed policies by name from a list it ships; asking IAM needs an account."""

    def load(self) -> dict[str, str]:
        raise SystemExit("a managed policy unknown to SAM: name it by ARN or use a policy template")


def expand(template_path: Path) -> dict[str, Any]:
    """The CloudFormation `sam deploy` would create from the SAM template at `template_path`."""
    template = yaml_parse(template_path.read_text(encoding="utf-8"))
    for resource in template["Resources"].values():
        uri_property = LOCAL_URIS.get(resource["Type"])
        properties = resource.get("Properties", {})
        if uri_property and "InlineCode" not in properties:
            properties[uri_property] = PLACEHOLDER_URI
    # The region only picks the partition of generated ARNs; the result is the same elsewhere.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    expanded: dict[str, Any] = transform(
        template, {}, BundledManagedPoliciesOnly(), passthrough_metadata=True
    )
    return expanded


def turn_everything_on(template: dict[str, Any]) -> list[str]:
    """Default every "off"/"on" parameter of `template` to "on"; the names, in order."""
    switches = [
        name
        for name, parameter in template.get("Parameters", {}).items()
        if sorted(parameter.get("AllowedValues", [])) == ["off", "on"]
    ]
    for name in switches:
        template["Parameters"][name]["Default"] = "on"
    return switches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("template", type=Path, nargs="?", default=Path("template.yaml"))
    parser.add_argument(
        "output", type=Path, nargs="?", default=Path(".aws-sam/checkov/template.json")
    )
    parser.add_argument(
        "--all-on", action="store_true", help='every "off"/"on" parameter defaults to "on"'
    )
    args = parser.parse_args()
    expanded = expand(args.template)
    if args.all_on:
        turn_everything_on(expanded)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(expanded, indent=2) + "\n", encoding="utf-8")
    print(f"{args.template} expanded to {args.output}" + (" (all on)" if args.all_on else ""))


if __name__ == "__main__":
    main()
