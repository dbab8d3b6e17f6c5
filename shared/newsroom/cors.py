"""CORS on every answer of the HTTP functions.

With Lambda proxy integrations API Gateway answers only the preflight (the template's `Cors`);
every other answer must carry `Access-Control-Allow-Origin` itself, or a page on another origin
cannot read it ("Failed to fetch"). `add_headers` is applied to whatever a function returns:
its routes' answers, the error shape, 304s and the link pages alike.

The allowed origins are the template parameter `AllowedOrigins`: `*` lets any page read the
answers; a list (``https://www.example.com,https://example.com``) echoes a listed request
`Origin` and gives others no CORS header at all, with `Vary: Origin` on every answer, since it
then depends on who asks (a cache must not hand one site's answer to another).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

# What the widget reads from answers besides the always-readable headers.
EXPOSED_HEADERS = "ETag, Location, Retry-After"
ANY_ORIGIN = "*"


@dataclass(frozen=True)
class CorsPolicy:
    """The origins whose pages may read the API's answers (`{"*"}` for any)."""

    origins: frozenset[str]

    @classmethod
    def parse(cls, setting: str) -> CorsPolicy:
        """From `AllowedOrigins`: ``*`` or comma-separated origins (spaces and a trailing
        slash, as people type them, ignored)."""
        origins = {part.strip().rstrip("/") for part in setting.split(",")} - {""}
        return cls(frozenset(origins or {ANY_ORIGIN}))

    @property
    def any_origin(self) -> bool:
        return ANY_ORIGIN in self.origins

    def headers_for(self, origin: str | None) -> dict[str, str]:
        """The CORS headers of an answer to a request from `origin` (None: no Origin sent)."""
        if self.any_origin:
            return {
                "Access-Control-Allow-Origin": ANY_ORIGIN,
                "Access-Control-Expose-Headers": EXPOSED_HEADERS,
            }
        if origin is None or origin not in self.origins:
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": EXPOSED_HEADERS,
        }


@cache
def configured_policy() -> CorsPolicy:
    """The function's policy, from its environment (read once per container)."""
    from newsroom.config import cors_settings

    return CorsPolicy.parse(cors_settings().allowed_origins)


def request_origin(event: Mapping[str, Any]) -> str | None:
    """The request's `Origin` header (header names are case-insensitive), or None."""
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "origin" and value:
            return str(value)
    return None


def add_headers(
    event: Mapping[str, Any], response: dict[str, Any], policy: CorsPolicy | None = None
) -> dict[str, Any]:
    """`response` (an API Gateway proxy answer) with the CORS headers for `event`'s Origin."""
    policy = policy or configured_policy()
    headers: dict[str, list[str]] = response.setdefault("multiValueHeaders", {})
    for name, value in policy.headers_for(request_origin(event)).items():
        headers[name] = [value]
    if not policy.any_origin:
        vary = [
            value
            for name in [key for key in headers if key.lower() == "vary"]
            for value in headers.pop(name)
        ]
        if "origin" not in {part.strip().lower() for v in vary for part in v.split(",")}:
            vary.append("Origin")
        headers["Vary"] = [", ".join(vary)]
    return response
