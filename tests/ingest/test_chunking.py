"""Structure-aware chunking: offsets, sizes, headings, articles, lists, sentences."""

from __future__ import annotations

import re
from itertools import pairwise

from territoria.ingest.chunking import Chunk, chunk_document, document_text
from territoria.settings import Settings
from territoria.types import LoadedDocument, Section

SMALL = Settings(chunk_words=40, chunk_max_words=60)


def doc(*sections: Section, title: str = "Document") -> LoadedDocument:
    return LoadedDocument(title=title, sections=sections, source="test")


def sentence(i: int, words: int = 10) -> str:
    return " ".join([f"Phrase{i}"] + [f"mot{i}x{j}" for j in range(words - 2)] + ["fin."])


def words(text: str) -> int:
    return len(text.split())


def check_invariants(d: LoadedDocument, chunks: list[Chunk], settings: Settings) -> None:
    full = document_text(d)
    for chunk in chunks:
        assert chunk.text == full[chunk.start : chunk.end]
        assert words(chunk.text) <= settings.chunk_max_words
        assert chunk.text == chunk.text.strip()
    # in order, no overlap, and every word of the document is in exactly one chunk
    assert all(a.end <= b.start for a, b in pairwise(chunks))
    assert " ".join(c.text for c in chunks).split() == full.split()


def test_document_text_joins_sections_with_a_blank_line() -> None:
    d = doc(Section("Un."), Section("Deux."))
    assert document_text(d) == "Un.\n\nDeux."


def test_paragraphs_are_packed_up_to_the_target() -> None:
    paragraphs = "\n\n".join(sentence(i) for i in range(12))  # 12 x 10 words
    d = doc(Section(paragraphs))
    chunks = chunk_document(d, SMALL)
    check_invariants(d, chunks, SMALL)
    assert [words(c.text) for c in chunks] == [40, 40, 40]


def test_long_paragraph_is_split_at_sentence_ends() -> None:
    text = " ".join(sentence(i, 15) for i in range(10))  # one 150-word paragraph
    d = doc(Section(text))
    chunks = chunk_document(d, SMALL)
    check_invariants(d, chunks, SMALL)
    assert len(chunks) > 2
    assert all(c.text.endswith("fin.") for c in chunks)
    assert all(re.match(r"Phrase\d", c.text) for c in chunks)


def test_run_on_sentence_is_cut_by_words() -> None:
    d = doc(Section(" ".join(f"mot{i}" for i in range(200))))
    chunks = chunk_document(d, SMALL)
    check_invariants(d, chunks, SMALL)
    assert max(words(c.text) for c in chunks) == 60


def test_abbreviations_do_not_end_sentences() -> None:
    body = " ".join(["mot"] * 50)
    text = f"Selon M. Dupont et l'art. L. 2212-2 du code, {body} fin. " + sentence(1, 30)
    d = doc(Section(text))
    chunks = chunk_document(d, Settings(chunk_words=40, chunk_max_words=70))
    check_invariants(d, chunks, Settings(chunk_words=40, chunk_max_words=70))
    assert chunks[0].text.startswith("Selon M. Dupont et l'art. L. 2212-2 du code")
    assert chunks[0].text.endswith("fin.")


def test_a_heading_change_starts_a_chunk_once_the_chunk_is_big_enough() -> None:
    d = doc(
        Section(sentence(1, 30), headings=("Tarifs",)),
        Section(sentence(2, 10), headings=("Inscription",)),
        Section(sentence(3, 5), headings=("Inscription", "Pièces")),
        Section(sentence(4, 30), headings=("Horaires",)),
    )
    chunks = chunk_document(d, SMALL)
    check_invariants(d, chunks, SMALL)
    # 30 words >= a third of 40: "Inscription" starts anew; its 10 words are too few to stand
    # alone, so "Pièces" joins it; at 15 words, "Horaires" starts a chunk again
    assert [c.headings for c in chunks] == [("Tarifs",), ("Inscription",), ("Horaires",)]
    assert "Phrase3" in chunks[1].text


def test_a_tiny_chunk_takes_in_the_next_section() -> None:
    d = doc(
        Section(sentence(1, 5), headings=("Inscription",)),
        Section(sentence(2, 30), headings=("Horaires",)),
    )
    chunks = chunk_document(d, SMALL)
    assert len(chunks) == 1
    assert chunks[0].headings == ("Inscription",)


def test_markdown_headings_inside_the_text_set_the_heading_path() -> None:
    text = (
        f"# Cantine\n\n{sentence(0, 30)}\n\n## Tarifs\n\n{sentence(1, 30)}\n\n"
        f"## Inscription\n{sentence(2, 30)}\n\n### Pièces\n\n{sentence(3, 30)}"
    )
    d = doc(Section(text))
    chunks = chunk_document(d, SMALL)
    check_invariants(d, chunks, SMALL)
    assert [c.headings for c in chunks] == [
        ("Cantine",),
        ("Cantine", "Tarifs"),
        ("Cantine", "Inscription"),
        ("Cantine", "Inscription", "Pièces"),
    ]
    assert chunks[1].text.startswith("## Tarifs")


def test_a_heading_line_never_ends_a_chunk() -> None:
    text = f"{sentence(0, 38)}\n\n## Suite\n\n{sentence(1, 30)}"
    d = doc(Section(text))
    chunks = chunk_document(d, Settings(chunk_words=40, chunk_max_words=45))
    assert chunks[1].text.startswith("## Suite")


def test_each_article_starts_a_chunk() -> None:
    articles = "\n\n".join(f"Article {i} : {sentence(i, 6)}" for i in range(1, 5))
    d = doc(Section(f"Le conseil municipal délibère.\n\n{articles}"))
    chunks = chunk_document(d, SMALL)
    check_invariants(d, chunks, SMALL)
    assert [c.text.split(" :")[0] for c in chunks[1:]] == [f"Article {i}" for i in range(1, 5)]


def test_a_list_under_the_maximum_is_kept_whole() -> None:
    items = "\n".join(f"- élément {i} de la liste" for i in range(10))  # 50 words
    d = doc(Section(sentence(0, 30)), Section(items, kind="list"))
    chunks = chunk_document(d, SMALL)
    check_invariants(d, chunks, SMALL)
    assert any(c.text == items for c in chunks)


def test_a_long_table_is_split_between_rows() -> None:
    rows = [f"| ligne {i} | tarif {i} euros | quotient {i} |" for i in range(30)]
    table = "\n".join(rows)
    d = doc(Section(table, kind="table"))
    chunks = chunk_document(d, SMALL)
    check_invariants(d, chunks, SMALL)
    assert len(chunks) > 1
    for chunk in chunks:
        assert all(line in rows for line in chunk.text.split("\n"))


def test_pages_and_empty_documents() -> None:
    d = doc(Section(sentence(0, 30), page=1), Section(sentence(1, 30), page=2))
    chunks = chunk_document(d, SMALL)
    assert [c.page for c in chunks] == [1, 2]
    assert chunk_document(doc(Section("   ")), SMALL) == []
    assert chunk_document(doc(), SMALL) == []


def test_a_chunk_starting_before_any_heading_takes_its_first_heading() -> None:
    d = doc(Section(sentence(0, 5)), Section(sentence(1, 5), headings=("Tarifs",)))
    [chunk] = chunk_document(d, SMALL)
    assert chunk.headings == ("Tarifs",)
