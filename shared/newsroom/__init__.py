"""newsroom: models, settings and data access shared by every Lambda function."""
