"""Expands template.yaml into the CloudFormation that SAM deploys, so that checkov also checks
what is really created from it: the functions' roles with their policy templates written out,
the API stage, the stream's event source mapping.

Runs in checkov's virtualenv, where aws-sam-translator is installed (`make checkov`). Resource
`Metadata` is carried over, so a waiver written on a SAM resource applies to what it becomes.

checkov leaves out a resource whose `Condition` is false at the parameters' defaults, so the
optional parts (the CDN, the domain, ...) are checked in more expansions, `--variant all-on`,
`--variant all-off` and `--variant api-domain` (template_variants.py).

It also fails when the expansion's resources depend on each other in a cycle, which
CloudFormation refuses at deploy time and neither cfn-lint nor checkov reports here (a function
given its own API's URL, for one: the API's integration names the function).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse
from template_variants import VARIANTS, set_variant  # beside this script

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


def dependencies(resource: dict[str, Any], names: set[str]) -> set[str]:
    """The resources `resource` needs created first: its Ref, GetAtt, Sub names and DependsOn."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "Ref" and isinstance(inner, str):
                    found.add(inner)
                elif key == "Fn::GetAtt":
                    found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
                elif key == "Fn::Sub":
                    text, variables = (inner, {}) if isinstance(inner, str) else inner
                    found.update(n.split(".")[0] for n in re.findall(r"\$\{([^}!]+)\}", text))
                    walk(variables)
                else:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(resource.get("Properties", {}))
    depends_on = resource.get("DependsOn", [])
    found.update([depends_on] if isinstance(depends_on, str) else depends_on)
    return found & names


def dependency_cycle(template: dict[str, Any]) -> list[str]:
    """One cycle of resources that depend on each other (empty when there is none)."""
    resources = template["Resources"]
    needs = {name: dependencies(body, set(resources)) for name, body in resources.items()}
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(name: str) -> list[str]:
        state[name] = "open"
        path.append(name)
        for needed in sorted(needs[name]):
            if state.get(needed) == "open":
                return [*path[path.index(needed) :], needed]
            if needed not in state and (cycle := visit(needed)):
                return cycle
        state[name] = "done"
        path.pop()
        return []

    for name in sorted(resources):
        if name not in state and (cycle := visit(name)):
            return cycle
    return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("template", type=Path, nargs="?", default=Path("template.yaml"))
    parser.add_argument(
        "output", type=Path, nargs="?", default=Path(".aws-sam/checkov/template.json")
    )
    parser.add_argument(
        "--variant",
        choices=VARIANTS,
        help="every option on, every option off, or on with the domain on the API (default: as is)",
    )
    args = parser.parse_args()
    expanded = expand(args.template)
    if args.variant:
        set_variant(expanded, args.variant)
    cycle = dependency_cycle(expanded)
    if cycle:
        sys.exit(
            f"{args.template}: CloudFormation would refuse a dependency cycle: {' -> '.join(cycle)}"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(expanded, indent=2) + "\n", encoding="utf-8")
    print(
        f"{args.template} expanded to {args.output}"
        + (f" ({args.variant})" if args.variant else "")
    )


if __name__ == "__main__":
    main()
