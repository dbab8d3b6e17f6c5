"""How this workplace launches Chromium headless, shared by the browser tests' conftest and
the benches that drive a page (tests/bench/altcha_cost.py), without pytest."""

# What the machine check of this workplace found Chromium needs headless, as root, offline: no
# sandbox (root), and no calls home (they are refused here, many at a time).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
