"""Reading every item a Query matches (newsroom.data.dynamo.query_all), across the pages
DynamoDB cuts at 1 MB, against a fake client that pages as DynamoDB does."""

from __future__ import annotations

from typing import Any

from newsroom.data.dynamo import query_all


class PagingClient:
    """Answers a Query `page` items at a time, with `LastEvaluatedKey` while more follow."""

    def __init__(self, items: list[dict[str, Any]], page: int) -> None:
        self.items, self.page = items, page
        self.requests: list[dict[str, Any]] = []

    def query(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        start = 0
        if "ExclusiveStartKey" in request:
            start = self.items.index(request["ExclusiveStartKey"]) + 1
        chunk = self.items[start : start + self.page]
        answer: dict[str, Any] = {"Items": chunk}
        if start + self.page < len(self.items):
            answer["LastEvaluatedKey"] = chunk[-1]
        return answer


def test_every_page_is_read_from_where_the_last_one_stopped() -> None:
    # Given 7 matching items that DynamoDB returns 3 per page (as if each page were 1 MB)
    items = [{"pk": {"S": f"p{n}"}} for n in range(7)]
    client = PagingClient(items, page=3)

    # When every item is read
    found = list(query_all(client, {"TableName": "t"}))  # type: ignore[arg-type]

    # Then all 7 come back in order, from 3 Queries, each after the last key of the one before
    assert found == items
    assert [r.get("ExclusiveStartKey") for r in client.requests] == [None, items[2], items[5]]


def test_a_query_matching_nothing_is_one_request() -> None:
    client = PagingClient([], page=3)

    assert list(query_all(client, {"TableName": "t"})) == []  # type: ignore[arg-type]
    assert len(client.requests) == 1
