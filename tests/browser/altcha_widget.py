"""ALTCHA's own widget (the npm package `altcha`, v3, the one matching the `altcha` 2.x PyPI
package's PoW v2), fetched once from the npm registry for the browser test that checks a site
may use it in place of newsroom's own solver. Pinned by version and by the registry's sha512.

    python -m tests.browser.altcha_widget     # fetch it now (the test does when it must)
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import urllib.request
from pathlib import Path

VERSION = "3.2.2"
TARBALL = f"https://registry.npmjs.org/altcha/-/altcha-{VERSION}.tgz"
# The registry's `dist.integrity` of that version (https://registry.npmjs.org/altcha/3.2.2).
INTEGRITY = (
    "sha512-yNITQaRSkRe0u/hMxdzoXFFqxqn9iDt1rJ0reREU3D3uDD3w1o"
    "Fz6v5C2PMww2XnGThtYUwe8MW+PxsiBglNqw=="
)
ROOT = Path(__file__).resolve().parents[2]
WIDGET = ROOT / ".cache" / f"altcha-{VERSION}" / "altcha.min.js"
MEMBER = "package/dist/main/altcha.min.js"  # the ES module build, with its workers inlined


class WidgetDownloadError(RuntimeError):
    """The package could not be fetched, or is not the one pinned."""


def widget() -> Path:
    """The widget's file, fetched and checked when it is not here yet.

    Raises
    ------
    WidgetDownloadError
    """
    if WIDGET.exists():
        return WIDGET
    try:
        with urllib.request.urlopen(TARBALL, timeout=60) as answer:
            packed = answer.read()
    except OSError as exc:
        raise WidgetDownloadError(f"{TARBALL} could not be fetched: {exc}") from exc
    digest = "sha512-" + base64.b64encode(hashlib.sha512(packed).digest()).decode()
    if digest != INTEGRITY:
        raise WidgetDownloadError(f"{TARBALL} is not the pinned package ({digest})")
    with tarfile.open(fileobj=io.BytesIO(packed), mode="r:gz") as archive:
        member = archive.extractfile(MEMBER)
        if member is None:
            raise WidgetDownloadError(f"{TARBALL} holds no {MEMBER}")
        content = member.read()
    WIDGET.parent.mkdir(parents=True, exist_ok=True)
    partial = WIDGET.with_suffix(".part")
    partial.write_bytes(content)
    partial.replace(WIDGET)
    return WIDGET


if __name__ == "__main__":
    print(widget().relative_to(ROOT))
