"""Pydantic models: request input, public output and stored item shapes, kept apart."""
