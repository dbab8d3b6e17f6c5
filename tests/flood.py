"""Flood control's intervals for tests.

`QUICK_FLOOD_SECONDS` is for tests where one commenter posts twice: short, so they wait little
(`tests.integration.comments_api.post_when_flood_allows`), and not zero, so the guard still runs
as it does in production. A test that then wants flood control to refuse a post sets
`STEADY_FLOOD_SECONDS` first: the cutoff is taken from the interval at check time, so every guard
the test took is within it however slowly the machine ran (a fraction of a second is not)."""

QUICK_FLOOD_SECONDS = "0.2"
STEADY_FLOOD_SECONDS = "60"
