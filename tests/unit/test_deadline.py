"""The invocation's deadline: set for the length of one invocation, and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from newsroom import deadline


@dataclass(frozen=True)
class Context:
    remaining_millis: int

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


def test_outside_an_invocation_there_is_no_deadline() -> None:
    assert deadline.seconds_left() is None
    assert deadline.allows(3600)


def test_an_invocation_leaves_time_to_answer_and_ends_with_its_block() -> None:
    # Given an invocation with 10 s left
    with deadline.invocation(Context(10_000)):
        # Then the AWS calls in it have those 10 s, less the time kept for answering
        left = deadline.seconds_left()
        assert left is not None
        assert 10 - deadline.ANSWER_SECONDS - 0.5 < left <= 10 - deadline.ANSWER_SECONDS
        assert deadline.allows(9)
        assert not deadline.allows(10)

    # And after it, nothing is limited any more
    assert deadline.seconds_left() is None


def test_an_invocation_inside_another_restores_the_outer_deadline() -> None:
    with deadline.invocation(Context(60_000)):
        with deadline.invocation(Context(2_000)):
            assert not deadline.allows(2)
        assert deadline.allows(30)
