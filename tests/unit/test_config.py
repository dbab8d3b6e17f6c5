"""Settings from the environment (newsroom.config): the rules pydantic-settings applied, kept
without it (names in any case, lists as JSON arrays, strings coerced by the field's type)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from newsroom.config import ArticlesSettings, CommentsSettings, CorsSettings

REQUIRED = {
    "CONTENT_TABLE_NAME": "content",
    "IDEMPOTENCY_TABLE_NAME": "idempotency",
    "SECRET_PARAMETER_NAME": "/newsroom/secret",
}


def test_fields_come_from_variables_of_the_same_name_in_any_case() -> None:
    settings = CommentsSettings.from_environment(
        {
            **REQUIRED,
            "flood_interval_seconds": "30",
            "Moderate_All": "true",
            "MODERATION_KEYS": '["casino", "viagra"]',
            "UNRELATED": "ignored",
        }
    )

    assert settings.content_table_name == "content"
    assert settings.flood_interval_seconds == 30
    assert settings.moderate_all is True
    assert settings.moderation_keys == ["casino", "viagra"]
    assert settings.require_previous_approval is True  # the default


@pytest.mark.parametrize(("text", "value"), [("false", False), ("0", False), ("on", True)])
def test_booleans_are_read_as_pydantic_reads_them(text: str, value: bool) -> None:
    environ = {"CONTENT_TABLE_NAME": "content", "SECRET_PARAMETER_NAME": "s", "API_DOCS": text}

    assert ArticlesSettings.from_environment(environ).api_docs is value


def test_a_list_that_is_not_json_names_the_variable() -> None:
    with pytest.raises(ValueError, match="MODERATION_KEYS is not JSON"):
        CommentsSettings.from_environment({**REQUIRED, "MODERATION_KEYS": "casino, viagra"})


@pytest.mark.parametrize(
    ("environ", "field"),
    [
        (
            {"IDEMPOTENCY_TABLE_NAME": "idempotency", "SECRET_PARAMETER_NAME": "s"},
            "content_table_name",
        ),
        ({**REQUIRED, "FLOOD_INTERVAL_SECONDS": "soon"}, "flood_interval_seconds"),
        ({**REQUIRED, "FLOOD_INTERVAL_SECONDS": "0"}, "flood_interval_seconds"),
        ({**REQUIRED, "THREAD_DEPTH": "9"}, "thread_depth"),
        ({**REQUIRED, "SENDER_DATA_RETENTION_DAYS": "0"}, "sender_data_retention_days"),
    ],
)
def test_a_missing_or_bad_value_is_a_validation_error_naming_the_field(
    environ: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        CommentsSettings.from_environment(environ)

    assert [error["loc"] for error in caught.value.errors()] == [(field,)]


def test_without_a_mapping_the_process_environment_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://news.example")

    assert CorsSettings.from_environment().allowed_origins == "https://news.example"
    assert CorsSettings.from_environment({}).allowed_origins == "*"
