"""Idempotency records against the emulator's IdempotencyTable (newsroom.idempotency): a
result stored with another answer's shape, as a release before an upgrade stored it, is not
read back into the new shape (which would fail its model and answer 500)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from newsroom.idempotency import run_once
from tests.apigw import LambdaContext


class Answer(BaseModel):
    id: str


class AnswerWithToken(BaseModel):
    id: str
    edit_token: str


def test_a_result_is_read_back_for_the_same_key_and_shape(tables: dict[str, str]) -> None:
    key, calls = uuid.uuid4().hex, []

    def compute() -> Answer:
        calls.append(1)
        return Answer(id=f"c{len(calls)}")

    first = run_once(key, {"n": 1}, compute, output=Answer, **_table(tables))
    again = run_once(key, {"n": 1}, compute, output=Answer, **_table(tables))

    assert (first, again, len(calls)) == (Answer(id="c1"), Answer(id="c1"), 1)


def test_a_result_stored_with_other_fields_is_not_replayed_into_the_new_answer(
    tables: dict[str, str],
) -> None:
    # Given an answer stored by a release whose answer had no edit_token
    key = uuid.uuid4().hex
    run_once(key, {"n": 1}, lambda: Answer(id="old"), output=Answer, **_table(tables))

    # When the upgraded function is retried with the same key
    answered = run_once(
        key,
        {"n": 1},
        lambda: AnswerWithToken(id="new", edit_token="t"),
        output=AnswerWithToken,
        **_table(tables),
    )

    # Then the call is made again (the comment's own duplicate check then stores nothing twice)
    assert answered == AnswerWithToken(id="new", edit_token="t")


def _table(tables: dict[str, str]) -> dict[str, object]:
    return {
        "table_name": tables["IdempotencyTable"],
        "expiry_seconds": 3600,
        "lambda_context": LambdaContext(),
    }
