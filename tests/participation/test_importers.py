from __future__ import annotations

import json
from pathlib import Path

import pytest

from territoria.errors import InvalidRequest
from territoria.participation.importers import load_paths, parse_mapping


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def reasons(dataset: object) -> list[str]:
    return [i.reason for i in dataset.issues]  # type: ignore[attr-defined]


def test_mapping_accepts_both_directions_and_refuses_unknown_fields() -> None:
    assert parse_mapping("text=Avis, Commune=territory") == {"text": "Avis", "territory": "Commune"}
    with pytest.raises(InvalidRequest, match="Champ inconnu"):
        parse_mapping("texte=Avis")
    with pytest.raises(InvalidRequest, match="attendu champ=colonne"):
        parse_mapping("text")


def test_generic_csv_with_mapping_reports_empty_and_malformed_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path / "avis.csv",
        "Num;Avis;Commune;Auteur\n"
        "1;Plus de bus le soir vers la gare;Lille;a1\n"
        "2;;Roubaix;a2\n"
        "3;Des pistes cyclables;Lille\n"
        '4;"Un texte\nsur deux lignes";Tourcoing;a4\n',
    )
    data = load_paths(
        [path], mapping=parse_mapping("text=Avis,territory=Commune,id=Num,author=Auteur")
    )
    assert [(c.id, c.territory, c.author) for c in data.contributions] == [
        ("1", "Lille", "a1"),
        ("4", "Tourcoing", "a4"),
    ]
    assert data.contributions[1].text == "Un texte\nsur deux lignes"
    lines = {i.line: i.reason for i in data.issues}
    assert "texte vide" in lines[3]
    assert "nombre de colonnes" in lines[4]


def test_unknown_mapped_column_is_an_issue_naming_the_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "Avis,Commune\nbonjour à tous les habitants,Lille\n")
    data = load_paths([path], mapping={"text": "Texte"})
    assert not data.contributions
    assert "Texte" in data.issues[0].reason and "Avis" in data.issues[0].reason


def test_columns_found_by_their_french_names_without_mapping(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.csv",
        "identifiant,contribution,quartier,date\n"
        "7,Rénover le gymnase du quartier,Wazemmes,2024-03-01\n",
    )
    (c,) = load_paths([path]).contributions
    assert (c.id, c.territory, c.date) == ("7", "Wazemmes", "2024-03-01")


def test_xlsx_sheet(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Avis"
    sheet.append(["Texte", "Ville", "Votes"])
    sheet.append(["Ouvrir la piscine le dimanche matin", "Lille", 12])
    sheet.append([None, "Lille", 3])
    book.save(tmp_path / "avis.xlsx")
    data = load_paths([tmp_path / "avis.xlsx"])
    (c,) = data.contributions
    assert (c.text, c.territory, c.votes) == ("Ouvrir la piscine le dimanche matin", "Lille", 12)
    assert data.issues[0].line == 3 and "texte vide" in data.issues[0].reason


def test_json_list_nested_fields_and_jsonl_bad_line(tmp_path: Path) -> None:
    items = [{"id": 1, "body": "Plus de bancs au parc", "author": {"id": 9}}, {"id": 2}]
    write(tmp_path / "a.json", json.dumps({"data": items}))
    write(tmp_path / "b.jsonl", '{"texte": "Un marché bio le samedi"}\n{pas du json\n[1]\n')
    data = load_paths([tmp_path / "a.json", tmp_path / "b.jsonl"])
    assert [c.text for c in data.contributions] == [
        "Plus de bancs au parc",
        "Un marché bio le samedi",
    ]
    assert data.contributions[0].author == "9"
    found = reasons(data)
    assert any("texte vide" in r for r in found)
    assert any("JSON invalide" in r for r in found)
    assert any("pas un objet JSON" in r for r in found)


DECIDIM_PROPOSALS = (
    "id;category/id;category/name/fr;scope/id;scope/name/fr;title;body;votes;comments;"
    "created_at;url;component/id\n"
    "457;3;Mobilité;1;Lille-Sud;Plus de bus;<p>Un bus toutes les <b>10 minutes</b>.</p>;"
    "4;0;2019-01-24 22:29:15 +0100;http://x/457;111\n"
    "458;3;Mobilité;1;Lille-Sud;;;0;0;2019-01-25 10:00:00 +0100;http://x/458;111\n"
)
DECIDIM_DEBATES = (
    "id;author_id;title/fr;description/fr;comments;created_at;url;component/id\n"
    "29;;Faut-il reconnaître le vote blanc ?;<p>Démocratie</p>;2;2019-01-16;http://x/29;112\n"
    "31;77;Un débat ouvert par un habitant;<p>Parlons des <i>marchés</i></p>;0;2019-01-17;"
    "http://x/31;112\n"
)
DECIDIM_COMMENTS = (
    "id,created_at,body/fr,locale,author/id,author/name,alignment,depth,commentable_id,"
    "commentable_type,root_commentable_id,root_commentable_type\n"
    "515,2019-01-17,Oui il faut le compter,fr,12,Jean Dupont,1,0,29,Decidim::Debates::Debate,"
    "29,Decidim::Debates::Debate\n"
    "516,2019-01-17,,fr,13,Marie Martin,0,0,29,Decidim::Debates::Debate,29,"
    "Decidim::Debates::Debate\n"
)


def test_decidim_exports(tmp_path: Path) -> None:
    folder = tmp_path / "decidim"
    folder.mkdir()
    write(folder / "proposals.csv", DECIDIM_PROPOSALS)
    write(folder / "debates.csv", DECIDIM_DEBATES)
    write(folder / "comments.csv", DECIDIM_COMMENTS)
    data = load_paths([folder])
    formats = {Path(str(f["path"])).name: f["format"] for f in data.files}
    assert formats == {
        "proposals.csv": "decidim-proposals",
        "debates.csv": "decidim-debates",
        "comments.csv": "decidim-comments",
    }
    by_kind = {c.kind: c for c in data.contributions}
    proposal = by_kind["proposition"]
    assert proposal.text == "Plus de bus\nUn bus toutes les 10 minutes."
    assert (proposal.group, proposal.territory, proposal.votes) == ("Mobilité", "Lille-Sud", 4)
    comment = by_kind["commentaire"]
    assert comment.question == "Faut-il reconnaître le vote blanc ?"
    assert comment.author == "12"  # author/id, never the name
    assert "Jean Dupont" not in repr(data.contributions)
    debate = by_kind["débat"]
    assert debate.text == "Un débat ouvert par un habitant\nParlons des marchés"
    # Ids clash across files (31 is not reused here, but 457/515/31 live in separate files):
    assert len({c.id for c in data.contributions}) == len(data.contributions)
    assert sum("texte vide" in r for r in reasons(data)) == 2


def test_real_decidim_lille_comments(shared_data: Path) -> None:
    path = (
        shared_data / "participation/decidim_mel_granddebat/commentaires_debats.pseudonymised.csv"
    )
    data = load_paths([path])
    assert len(data.contributions) == 693
    assert all(c.question for c in data.contributions)
    assert not data.issues


def test_polis_folder_real_smallest_conversation(shared_data: Path) -> None:
    folder = shared_data / "participation/polis/london.youth.policing"
    data = load_paths([folder])
    (matrix,) = data.vote_matrices
    assert len(matrix.participants) == 26
    assert matrix.moderated_out == frozenset({"0", "2", "3"})
    assert len(data.contributions) == 36
    assert sum("modération" in r for r in reasons(data)) == 3
    assert matrix.reference_groups["1"] == "1"


def test_polis_bad_votes_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "conv"
    folder.mkdir()
    write(
        folder / "comments.csv",
        "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
        "1,x,0,0,1,0,1,Premier énoncé\n1,x,1,0,1,0,1,Second énoncé\n",
    )
    write(
        folder / "participants-votes.csv",
        "participant,group-id,n-comments,n-votes,n-agree,n-disagree,0,1\n"
        "0,0,0,2,1,1,1,-1\n1,,0,1,0,0,2,\n2,1,0,1\n",
    )
    data = load_paths([folder / "comments.csv"])  # a file of the folder stands for the folder
    (matrix,) = data.vote_matrices
    assert matrix.participants == ("0", "1")
    assert matrix.votes[1] == (None, None)
    found = reasons(data)
    assert any("vote invalide « 2 »" in r for r in found)
    assert any("nombre de colonnes" in r for r in found)


def test_questionnaire_scales_free_text_and_bad_answers(questionnaire_path: Path) -> None:
    data = load_paths([questionnaire_path])
    (q,) = data.questionnaires
    assert q.questions == (
        "Je suis satisfait(e) de l'offre de transports en commun",
        "La commune doit développer les pistes cyclables",
        "Fréquence d'utilisation du vélo",
    )
    assert q.ordered["Fréquence d'utilisation du vélo"][0] == "Jamais"
    assert q.respondents == 36
    assert len(data.contributions) == 35  # one respondent left the free text empty
    assert {c.question for c in data.contributions} == {
        "Vos suggestions pour améliorer la mobilité"
    }
    assert data.contributions[0].territory == "Saint-Amand"
    assert data.contributions[0].group == "18-29 ans"
    lines = {i.line: i.reason for i in data.issues}
    assert "Peut-être" in lines[7]
    assert "nombre de colonnes" in lines[38]


def test_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="introuvable"):
        load_paths([tmp_path / "absent.csv"])


def test_unsupported_file_is_an_issue(tmp_path: Path) -> None:
    write(tmp_path / "notes.pdf", "%PDF")
    data = load_paths([tmp_path / "notes.pdf"])
    assert "format non pris en charge" in data.issues[0].reason
