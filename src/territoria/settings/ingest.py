"""Reading documents: formats, bounded reading of archives, parse time and memory."""

from __future__ import annotations

from pydantic import BaseModel, Field


class IngestSettings(BaseModel):
    # --- ingestion -----------------------------------------------------------------------
    max_file_mb: float = Field(
        default=50.0, description="Files larger than this (MiB) are refused at ingestion."
    )
    chunk_words: int = Field(
        default=120, description="Target passage size in words (tuned on qa/cdtn-dev)."
    )
    chunk_max_words: int = Field(
        default=220, description="Hard upper bound of a passage in words; longer units are split."
    )

    # --- bounded reading: zip-based files (DOCX, ODT, XLSX), parse time and memory ---------
    archive_max_total_mb: float | None = Field(
        default=None,
        gt=0,
        description=(
            "Largest total uncompressed size (MiB) of a zip-based file (DOCX, ODT, XLSX); "
            "larger ones are refused before parsing. Unset: 4 x max_file_mb."
        ),
    )
    archive_max_member_mb: float | None = Field(
        default=None,
        gt=0,
        description=(
            "Largest uncompressed size (MiB) of one member of a zip-based file (such as "
            "word/document.xml). Unset: 2 x max_file_mb."
        ),
    )
    archive_max_ratio: float = Field(
        default=100.0,
        gt=1,
        description=(
            "Highest compression ratio (uncompressed / compressed size) of a member over 1 MiB "
            "uncompressed; Office XML is usually 5-35 times smaller compressed."
        ),
    )
    archive_max_members: int = Field(
        default=10_000, ge=1, description="Most members (files) a zip-based file may hold."
    )
    parse_isolated: bool = Field(
        default=True,
        description=(
            "Parse each file (except passages JSONL) in a separate worker process bounded by "
            "parse_timeout_s and parse_memory_mb; false parses in the calling process, unbounded."
        ),
    )
    parse_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description=(
            "Wall-clock seconds one file may take to parse; past it the worker is killed (and "
            "replaced), the file is reported as failed and the batch goes on."
        ),
    )
    parse_memory_mb: int = Field(
        default=1024,
        ge=64,
        description=(
            "Memory (MiB of address space, Linux) one file may add to its worker while it is "
            "parsed; past it the file is reported as failed and the batch goes on."
        ),
    )
    parse_workers: int = Field(
        default=2,
        ge=1,
        description=(
            "Most files one process parses at the same time (one worker each, such as "
            "concurrent web uploads); the others wait their turn. Parsing holds at most "
            "parse_workers x parse_memory_mb."
        ),
    )
