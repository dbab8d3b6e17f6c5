"""One invocation of the real notifications handler in a process of its own that dies in the
middle of sending: SIGKILL from a botocore hook on its first SES `SendEmail`, as the runtime
kills a function that runs out of memory or time. Nothing in the handler can catch it.

Run as ``python -m tests.integration.dying_invocation`` with a JSON request on stdin:
``{"event": <the stream event>, "seconds_left": <the invocation's remaining time>,
"die": "before-ses-accepts" | "after-ses-accepts"}``. The environment is the function's (the
local run's), so the process talks to the same emulator. It never returns normally when the
handler sends an email; otherwise it prints the handler's answer as JSON.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

# Where each way of dying hooks in: before the request leaves (SES never sees it), or once
# SES's answer is parsed (SES accepted the email; the ledger has not been told).
HOOKS = {
    "before-ses-accepts": "before-send.sesv2.SendEmail",
    "after-ses-accepts": "after-call.sesv2.SendEmail",
}


def die(**_: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    request = json.load(sys.stdin)
    from functions.notifications.app import lambda_handler
    from newsroom import mail
    from newsroom_tools.functions import LambdaContext, Limits

    mail._client().meta.events.register(HOOKS[request["die"]], die)
    context = LambdaContext(
        "NotificationsFunction", Limits(timeout_seconds=int(request["seconds_left"]))
    )
    print(json.dumps(lambda_handler(request["event"], context)))


if __name__ == "__main__":
    main()
