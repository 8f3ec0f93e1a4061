"""Answers: extractive and generative, abstention, personal data."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class AnswerSettings(BaseModel):
    # --- answers -------------------------------------------------------------------------
    answer_max_words: int = Field(
        default=80, description="Upper bound of an extractive answer, in words."
    )
    abstain_threshold: float | None = Field(
        default=None,
        description=(
            "Answers whose confidence is below this abstain. Empty (the default): calibrated "
            "for each collectivité from its own corpus when the index is built "
            "(`territoria documents` shows the value and how it was obtained); set it to "
            "override."
        ),
    )
    calibration_questions: int = Field(
        default=200,
        ge=20,
        description=(
            "Synthetic questions written from the corpus to calibrate the abstention "
            "threshold (each asked with and without the documents that answer it)."
        ),
    )
    contact: str = Field(
        default=(
            "Pour une réponse personnalisée, contactez l'accueil de la mairie "
            "au 05 00 00 00 00 ou à accueil@mairie-exemple.fr "
            "(du lundi au vendredi, 8 h 30 - 17 h 30)."
        ),
        description="Contact line shown when the assistant abstains.",
    )
    llm_url: str = Field(
        default="", description="Base URL of an OpenAI-compatible chat completions server."
    )
    llm_model: str = Field(default="", description="Model name sent to the LLM server.")
    llm_timeout_s: float = Field(default=60.0, description="Timeout of one LLM request, seconds.")
    llm_max_tokens: int = Field(
        default=400,
        ge=16,
        le=4096,
        description="Most tokens the LLM may generate for one answer (bounds its time and cost).",
    )
    llm_local: bool = Field(
        default=False,
        description="Declare the LLM server local (on premises): questions may reach it unmasked.",
    )

    # --- personal data ---------------------------------------------------------------------
    pii_key: SecretStr = Field(
        default=SecretStr(""),
        description=(
            "Secret key of the keyed pseudonyms (HMAC-SHA256), from TERRITORIA_PII_KEY only; "
            "placeholder values are refused. Empty: a random key is kept in <home>/pii.key."
        ),
    )
