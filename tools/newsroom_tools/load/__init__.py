"""A bounded load run on loopback: comments posted and pages read at once through the local
system, then a reconciliation that shows nothing was lost, doubled or miscounted.

    python -m newsroom_tools.load [--posts N] [--readers N] [--seconds S] [--articles K]
                                  [--writers N] [--flood-interval S] [--keep-articles]
                                  [--api URL [--emulator-port P]]

Without ``--api`` it starts a `LocalSystem` of its own on free ports; with ``--api`` it drives a
running ``make run`` (loopback only) and reads that run's emulator (``--emulator-port``), its
outbox (``URL/_local/outbox?format=json``) and its dead-letter queue.

What one run does, all through the HTTP API except creating its articles:

- K articles of its own (slugs and author addresses unique to the run), written as the importer
  writes them;
- "regulars" (one post in ten): each posts a first comment, held because nobody approved them
  before, and a moderator approves it through the SigV4-signed admin API; once the email flood
  interval has passed, each replies to another regular's comment and is approved at once
  (``REQUIRE_PREVIOUS_APPROVAL`` stays on: "previously approved" is earned, not configured);
- first-time commenters, held: top-level comments and replies to the regulars' comments (who
  asked to hear about replies), every other one ticking "notify me";
- duplicates: the same email and text again, from another address, once the original was
  answered and the email flood interval has passed: answered as a held comment, never stored;
- retries: a POST sent again with the same ``Idempotency-Key`` once its answer came back;
- readers, meanwhile: an article, its comments page by page, the article list page by page;
- then, from the moderation emails in the outbox, half of the held comments approved and one in
  six marked as spam through their signed links;
- at the end its articles are deleted (``--keep-articles`` keeps them), so the site lists what
  it listed before; the comments stay in the table, out of every listing.

Posting stops at the count or at ``--seconds``, whichever comes first; every sender has its own
127.x.y.z address (Linux routes all of 127/8 to loopback), so flood control sees distinct readers.
Regulars wait out the flood interval (``FLOOD_INTERVAL_SECONDS``, 15 s by default) between their
two comments; ``--flood-interval`` shortens it for a system this command starts (with ``--api``
it must say what the running system uses).

Then it checks, and prints, that: no answer was 5xx and every connection was answered; each post
was answered as the rules say; every 201 is stored exactly once (a Query on each article's
partition, never a Scan) with the status it should have; every approved comment is listed exactly
once across the pages; each article's ``comment_count`` equals its approved comments; the emails
sent are exactly one per (comment, kind, recipient) that docs/notifications.md calls for; and
nothing reached the dead-letter queue. Exit status 0 when all hold, 1 otherwise, 2 when the run
cannot start.

The parts: `options` (what a run is asked to do), `plan` (what it posts), `traffic` (its HTTP),
`target` (the system under load), `drive` (the traffic itself and its record), `emails` and
`reconcile` (what must hold afterwards), `report` (what it did and checked), `run` (one run from
start to end) and `cli` (the command line).
"""
