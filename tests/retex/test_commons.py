from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from retex.conftest import MARKERS, fiche
from territoria.errors import Conflict, InvalidRequest
from territoria.retex.signing import InstanceKey


def exchange(a: Any, b: Any, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "a.json"
    a.export(path)
    return b.import_file(path).to_json()


def test_export_then_import_with_a_trusted_key(make_commons: Any, tmp_path: Path) -> None:
    a, b = make_commons("a"), make_commons("b")
    a.add(fiche())
    a.add(fiche("draft-only-01", title="Brouillon"), draft=True)
    assert exchange(a, b, tmp_path)["rejected"][0]["reason"].startswith("clé inconnue")
    assert b.fiches() == []
    b.trust("Pays de Test", a.key.public_key)
    report = exchange(a, b, tmp_path)
    assert (report["imported"], report["updated"], report["rejected"]) == (1, 0, [])
    got = b.get("velo-test-01")
    assert got.origin == "remote" and got.instance == a.instance
    assert not set(MARKERS) & set(got.body or {})
    assert exchange(a, b, tmp_path)["unchanged"] == 1  # the same version again


def test_edit_and_withdrawal_reach_the_follower(make_commons: Any, tmp_path: Path) -> None:
    a, b = make_commons("a"), make_commons("b")
    b.trust("A", a.key.public_key)
    first = a.add(fiche())
    exchange(a, b, tmp_path)
    second = a.add(fiche(summary="Nouvelle version : 300 vélos loués."))
    assert second.entry is not None and second.entry["supersedes"] == first.content_hash
    report = exchange(a, b, tmp_path)
    assert report["updated"] == 1
    assert b.get("velo-test-01").body["summary"].startswith("Nouvelle version")  # type: ignore[index]
    assert [h.id for h in b.search("300 vélos")] == ["velo-test-01"]
    a.withdraw("velo-test-01")
    assert exchange(a, b, tmp_path)["withdrawn"] == 1
    assert b.get("velo-test-01").withdrawn and b.search("vélos") == []


def test_each_bad_entry_is_rejected_with_its_reason_and_the_rest_imported(
    make_commons: Any, tmp_path: Path
) -> None:
    a, b = make_commons("a"), make_commons("b")
    b.trust("A", a.key.public_key)
    for i in range(4):
        a.add(fiche(f"fiche-ok-{i:02d}"))
    feed = a.feed()
    entries = feed["entries"]
    entries[0]["fiche"]["summary"] = entries[0]["fiche"]["summary"].replace("loue", "lone")
    del entries[1]["signature"]
    # re-signed by a key nobody trusts
    stranger = InstanceKey.load_or_create(tmp_path / "stranger")
    body = {k: v for k, v in entries[2].items() if k != "signature"}
    body["origin"] = {**body["origin"], "key": stranger.public_key}
    entries[2] = {**body, "signature": stranger.sign(body)}
    entries.append("not an entry")
    report = b.import_feed(feed)
    reasons = {r["id"]: r["reason"] for r in report.rejected}
    assert "signature invalide" in reasons["fiche-ok-00"]
    assert "non signée" in reasons["fiche-ok-01"]
    assert "clé inconnue" in reasons["fiche-ok-02"]
    assert "illisible" in reasons[""]
    assert report.imported == 1 and [f.id for f in b.fiches()] == ["fiche-ok-03"]


def test_a_signed_entry_with_restricted_fields_or_a_schema_error_is_refused(
    make_commons: Any,
) -> None:
    a, b = make_commons("a"), make_commons("b")
    b.trust("A", a.key.public_key)
    a.add(fiche())
    feed = a.feed()
    good = feed["entries"][0]
    leaky = copy.deepcopy(good)
    leaky["fiche"]["contact"] = {"name": "fuite"}
    broken = copy.deepcopy(good)
    broken["fiche"]["status"] = "fini"
    for bad, reason in ((leaky, "champs restreints"), (broken, "schéma")):
        body = {k: v for k, v in bad.items() if k not in ("signature", "content_hash")}
        from territoria.retex.signing import content_hash

        body["content_hash"] = content_hash(body["fiche"])
        bad.clear()
        bad.update({**body, "signature": a.key.sign(body)})
        report = b.import_feed({**feed, "entries": [bad]})
        assert reason in report.rejected[0]["reason"]
    assert b.fiches() == []


def test_ids_cannot_be_taken_over(make_commons: Any) -> None:
    a, b, c = make_commons("a"), make_commons("b"), make_commons("c")
    a.add(fiche("same-id-001"))
    c.add(fiche("same-id-001", title="Autre"))
    b.trust("A", a.key.public_key)
    b.trust("C", c.key.public_key)
    assert b.import_feed(a.feed()).imported == 1
    report = b.import_feed(c.feed())
    assert "déjà utilisé" in report.rejected[0]["reason"]
    with pytest.raises(Conflict):
        b.add(fiche("same-id-001"))


def test_bad_input_is_refused_in_french(make_commons: Any, tmp_path: Path) -> None:
    a = make_commons("a")
    with pytest.raises(InvalidRequest, match="Fiche invalide"):
        a.add({"title": "x"})
    with pytest.raises(InvalidRequest, match="flux RETEX"):
        a.import_feed({"entries": []})
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(InvalidRequest, match="lisible"):
        a.import_file(bad)
    with pytest.raises(InvalidRequest, match="cette instance"):
        a.trust("moi", a.key.public_key)


def test_export_and_import_are_noted_in_the_audit_log(tmp_path: Path) -> None:
    from retex.conftest import NoPII
    from territoria.audit import AuditLog
    from territoria.retex import Commons
    from territoria.settings import Settings

    settings = Settings(home=tmp_path / "h", embedder="fake", title_embedder="fake")
    with AuditLog(settings) as audit:
        commons = Commons(settings, guard=NoPII(), audit=audit)
        commons.add(fiche())
        commons.export(tmp_path / "out.json")
        commons.import_file(tmp_path / "out.json")
        kinds = [e["kind"] for e in audit.events()]
        assert "retex_export" in kinds and "retex_import" in kinds
        assert audit.verify().ok
        commons.close()
    assert json.loads((tmp_path / "out.json").read_text())["entries"]


def test_a_fiche_published_again_after_a_withdrawal_comes_back(
    make_commons: Any, tmp_path: Path
) -> None:
    a, b = make_commons("a"), make_commons("b")
    b.trust("A", a.key.public_key)
    a.add(fiche())
    exchange(a, b, tmp_path)
    a.withdraw("velo-test-01")
    assert exchange(a, b, tmp_path)["withdrawn"] == 1
    a.add(fiche(summary="De retour."))
    assert exchange(a, b, tmp_path)["imported"] == 1
    assert not b.get("velo-test-01").withdrawn
