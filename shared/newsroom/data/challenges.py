"""Spent ALTCHA solutions in the content table (newsroom.proof_of_work's `spend`): one item per
solved challenge, kept until the challenge expires, then deleted by the table's TTL."""

from __future__ import annotations

from botocore.exceptions import ClientError

from newsroom.data import dynamo

ALTCHA_SK = "ALTCHA"


class SpentChallenges(dynamo.TableAccess):
    """The conditional write that spends a challenge once."""

    def spend(self, signature: str, expires_at: int) -> bool:
        """Record `signature` until `expires_at` (epoch seconds); False if it was before."""
        try:
            with dynamo.unavailable_as_domain_error():
                self.db.put_item(
                    TableName=self.table,
                    Item=dynamo.to_item(
                        {
                            "pk": f"ALTCHA#{signature}",
                            "sk": ALTCHA_SK,
                            "type": "spent_altcha",
                            "expires_at": expires_at,
                        }
                    ),
                    ConditionExpression="attribute_not_exists(pk)",
                )
        except ClientError as exc:
            if dynamo.error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True
