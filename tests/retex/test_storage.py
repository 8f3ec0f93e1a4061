"""The RETEX store on both backends (`replicas`: one SQLite home, or two homes on one
PostgreSQL database as two replicas have): what one handle writes, the other reads; one
signing key for the whole deployment."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from retex.conftest import NoPII, fiche
from territoria.retex import Commons
from territoria.retex.signing import InstanceKey, new_private_pem
from territoria.retex.storage import Follow, StoredFiche, m001_retex, open_retex_store
from territoria.settings import Settings
from territoria.store.database import connect_sqlite
from territoria.store.migrations import Migrations


def stored(fiche_id: str, **changes: Any) -> StoredFiche:
    base = StoredFiche(
        id=fiche_id, origin="local", key="ed25519:k", instance="Ville", updated="2025-01-01",
        content_hash=f"sha256:{fiche_id}", body={"title": fiche_id, "é": "ü"},
    )  # fmt: skip
    return replace(base, **changes)


def test_fiches_written_through_one_handle_are_read_through_the_other(
    replicas: tuple[Settings, Settings],
) -> None:
    first, second = replicas
    a, b = open_retex_store(first), open_retex_store(second)
    try:
        before = b.generation()
        a.put_many([stored("z-1"), stored("a-2", origin="remote", entry={"sig": "x"})])
        assert b.generation() == before + 1
        assert [f.id for f in b.iter()] == ["z-1", "a-2"]  # in the order written
        assert [f.id for f in b.iter(origin="remote")] == ["a-2"]
        got = b.get("a-2")
        assert got is not None and got.entry == {"sig": "x"}
        assert got.body == {"title": "a-2", "é": "ü"}
        b.put_many([stored("z-1", withdrawn=True, body=None, published=False)])
        again = a.get("z-1")
        assert again is not None and again.withdrawn and not again.published and again.body is None
        assert [f.id for f in a.iter()] == ["z-1", "a-2"]  # a new version keeps its place
        assert a.get("absent") is None
        assert a.generation() == before + 2
    finally:
        a.close()
        b.close()


def test_trusted_keys_and_follows_are_shared(replicas: tuple[Settings, Settings]) -> None:
    first, second = replicas
    a, b = open_retex_store(first), open_retex_store(second)
    try:
        a.trust("ed25519:b", "Bourg")
        a.trust("ed25519:a", "Anse")
        b.trust("ed25519:b", "Bourg-en-Val")
        assert a.trusted() == {"ed25519:a": "Anse", "ed25519:b": "Bourg-en-Val"}
        assert list(a.trusted()) == ["ed25519:a", "ed25519:b"]
        assert b.untrust("ed25519:a") and not a.untrust("ed25519:a")
        a.follow(Follow("https://b.example/retex/feed.json", "ed25519:b", "Bourg"))
        b.follow(
            Follow("https://b.example/retex/feed.json", "ed25519:b", "Bourg", "t", {"imported": 2})
        )
        (item,) = a.follows()
        assert (item.last_pull, item.last_result) == ("t", {"imported": 2})
        assert a.unfollow(item.url) and b.follows() == []
    finally:
        a.close()
        b.close()


def test_the_first_signing_key_kept_is_every_handles_key(
    replicas: tuple[Settings, Settings],
) -> None:
    first, second = replicas
    a, b = open_retex_store(first), open_retex_store(second)
    try:
        one, other = new_private_pem(), new_private_pem()
        assert a.signing_key(one) == one
        assert b.signing_key(other) == one
    finally:
        a.close()
        b.close()


def test_replicas_publish_as_one_instance(replicas: tuple[Settings, Settings]) -> None:
    """Two replicas' commons: same key, a fiche added on one is in the other's feed and
    search; on the embedded default the key stays in the home's file."""
    first, second = replicas
    a, b = Commons(first, guard=NoPII()), Commons(second, guard=NoPII())
    try:
        a.add(fiche())
        assert a.key.public_key == b.key.public_key
        feed = b.feed()
        assert [e["id"] for e in feed["entries"]] == ["velo-test-01"]
        assert feed["instance"]["public_key"] == a.key.public_key
        assert [hit.id for hit in b.search("vélos électriques")] == ["velo-test-01"]
        b.withdraw("velo-test-01")
        assert a.fiches() == []
        key_file = first.home / "retex.key"
        if first.store == "postgres":
            assert not key_file.exists()
        else:
            assert InstanceKey.load_or_create(first.home).public_key == a.key.public_key
    finally:
        a.close()
        b.close()


def test_a_home_of_the_first_version_keeps_its_fiches(tmp_path: Path) -> None:
    """The tables of a home created before the PostgreSQL backend are renamed in place."""
    settings = Settings(home=tmp_path / "home")
    first = Migrations("territoria.retex")
    first(m001_retex)
    conn = connect_sqlite(settings.home / "retex.sqlite3", first)
    conn.execute(
        "INSERT INTO fiches (id, origin, key, instance, updated, content_hash, body)"
        " VALUES ('ancienne-01', 'local', 'ed25519:k', 'Ville', '2025', 'sha256:x', '{}')"
    )
    conn.execute("UPDATE meta SET value = '7'")
    conn.close()
    store = open_retex_store(settings)
    try:
        assert [f.id for f in store.iter()] == ["ancienne-01"] and store.generation() == 7
        store.put_many([stored("nouvelle-02")])
        assert [f.id for f in store.iter()] == ["ancienne-01", "nouvelle-02"]
    finally:
        store.close()
