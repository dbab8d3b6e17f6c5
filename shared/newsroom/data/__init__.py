"""Data access: the only package that speaks DynamoDB."""
