"""Flood control's interval for tests where one commenter posts twice: short, so they wait
little (`tests.integration.comments_api.post_when_flood_allows`), and not zero, so the guard
still runs as it does in production."""

QUICK_FLOOD_SECONDS = "0.2"
