"""SES's mailbox simulator, played locally: moto publishes no SES events, so mail sent to
``bounce@``, ``complaint@`` or ``success@simulator.amazonses.com`` (a ``+label`` allowed) yields
the EventBridge event SES would publish for it (a permanent bounce, a complaint, a delivery),
tagged with the configuration set it was sent with, and put on every queue whose
`AWS::Events::Rule` pattern matches it, as EventBridge does; the function reading that queue
gets it from there (`newsroom_tools.queues`).

Each sent email is looked at once, `delay` after it was first seen (the sending function
records SES's message id on its ledger entry just after the send, as with SES, whose events
come seconds later). A failure to queue an event is logged.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from newsroom_tools.apigateway import ACCOUNT_ID
from newsroom_tools.emulator import REGION
from newsroom_tools.event_filter import Pattern, matches, parse_pattern
from newsroom_tools.template import evaluate

log = logging.getLogger(__name__)

SIMULATOR_DOMAIN = "simulator.amazonses.com"
SIMULATED = ("success", "bounce", "complaint")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def simulated_event(
    message_id: str, source: str, recipient: str, *, now: datetime, configuration_set: str = ""
) -> dict[str, Any] | None:
    """The EventBridge event SES publishes for mail to a simulator address (sent with
    `configuration_set`, if any), or None."""
    local, _, domain = recipient.strip().lower().rpartition("@")
    kind = local.split("+", 1)[0]
    if domain != SIMULATOR_DOMAIN or kind not in SIMULATED:
        return None
    at = _iso(now)
    detail: dict[str, Any] = {
        "mail": {
            "timestamp": at,
            "source": source,
            "sendingAccountId": ACCOUNT_ID,
            "messageId": message_id,
            "destination": [recipient],
            "headersTruncated": False,
            "tags": {"ses:from-domain": [source.rpartition("@")[2]]},
        }
    }
    if configuration_set:
        detail["mail"]["tags"]["ses:configuration-set"] = [configuration_set]
    if kind == "bounce":
        detail_type, detail["eventType"] = "Email Bounced", "Bounce"
        detail["bounce"] = {
            "feedbackId": f"local-{uuid.uuid4().hex}",
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": recipient,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": at,
            "reportingMTA": "dsn; local.simulator",
        }
    elif kind == "complaint":
        detail_type, detail["eventType"] = "Email Complaint Received", "Complaint"
        detail["complaint"] = {
            "feedbackId": f"local-{uuid.uuid4().hex}",
            "complaintSubType": None,
            "complainedRecipients": [{"emailAddress": recipient}],
            "timestamp": at,
            "userAgent": "Amazon SES Mailbox Simulator",
            "complaintFeedbackType": "abuse",
        }
    else:
        detail_type, detail["eventType"] = "Email Delivered", "Delivery"
        detail["delivery"] = {
            "timestamp": at,
            "processingTimeMillis": 0,
            "recipients": [recipient],
            "smtpResponse": "250 2.6.0 Message received",
            "reportingMTA": "local.simulator",
        }
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.ses",
        "account": ACCOUNT_ID,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def ses_event_queues(
    template: Mapping[str, Any], names: Mapping[str, str]
) -> list[tuple[Pattern, str]]:
    """The queues the template's `AWS::Events::Rule`s on ``aws.ses`` put events in: each
    rule's pattern (its `!Ref`s resolved with `names`, what `template.provision` returned) and
    the URL of each SQS target (`!GetAtt Queue.Arn`).

    Raises
    ------
    UnresolvableError
        For a `!Ref` in a pattern that is not a local resource or parameter.
    """
    found = []
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        pattern = props.get("EventPattern", {})
        if resource.get("Type") != "AWS::Events::Rule" or "aws.ses" not in pattern.get(
            "source", []
        ):
            continue
        resolved = parse_pattern(evaluate(template, pattern, names))
        for target in props.get("Targets", []):
            arn = target.get("Arn")
            if isinstance(arn, dict) and "Fn::GetAtt" in arn:
                logical = arn["Fn::GetAtt"][0]
                if logical in names:
                    found.append((resolved, names[logical]))
    return found


def _recipients(destinations: Any) -> list[str]:
    """A sent email's addresses: moto keeps a raw email's as a list, a simple one's by field."""
    if isinstance(destinations, Mapping):
        return [str(a) for field in destinations.values() for a in field or []]
    return [str(a) for a in destinations or []]


class MailboxSimulator:
    """Watches the emulator's sent emails and delivers the simulator addresses' events."""

    def __init__(
        self,
        sent: Callable[[], Sequence[Any]],
        targets: Sequence[tuple[Pattern, Callable[[dict[str, Any]], Any]]],
        *,
        configuration_set: str = "",
        delay: float = 0.3,
        interval: float = 0.05,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sent = sent
        self._targets = list(targets)
        self._configuration_set = configuration_set
        self._delay = delay
        self._interval = interval
        self._clock = clock
        self._seen: dict[str, float] = {}  # message id: when first seen (monotonic)
        self._done: set[str] = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> MailboxSimulator:
        self._thread = threading.Thread(target=self._run, name="mailbox-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until every email sent so far has had its event delivered.

        Raises
        ------
        TimeoutError
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.step() == 0:
                return
            time.sleep(self._interval)
        raise TimeoutError("the mailbox simulator is still delivering events")

    def step(self) -> int:
        """Deliver what is due; how many emails are still waiting for their delay."""
        with self._lock:
            now = time.monotonic()
            waiting = 0
            for sent in list(self._sent()):
                message_id = str(getattr(sent, "id", ""))
                if not message_id or message_id in self._done:
                    continue
                first = self._seen.setdefault(message_id, now)
                if now - first < self._delay:
                    waiting += 1
                    continue
                self._done.add(message_id)
                source = str(getattr(sent, "source", ""))
                for recipient in _recipients(getattr(sent, "destinations", None)):
                    self._deliver(message_id, source, recipient)
            return waiting

    def _deliver(self, message_id: str, source: str, recipient: str) -> None:
        event = simulated_event(
            message_id,
            source,
            recipient,
            now=self._clock(),
            configuration_set=self._configuration_set,
        )
        if event is None:
            return
        for pattern, put in self._targets:
            if not matches(pattern, event):
                continue
            try:
                put(event)
            except Exception:
                log.exception("delivery event of %s not queued", message_id)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:
                log.exception("the mailbox simulator failed a round")
            self._stop.wait(self._interval)
