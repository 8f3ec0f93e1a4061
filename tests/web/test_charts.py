from __future__ import annotations

from xml.etree import ElementTree

from territoria.web.charts import bar_chart, day_label


def test_bar_chart_is_valid_accessible_svg_with_values_in_text() -> None:
    svg = bar_chart(
        "g1",
        "Avis par jour",
        ["01/03", "02/03"],
        [("Utiles", [3, 0], "serie-a"), ("Pas utiles", [1, 2], "hachure")],
    )
    root = ElementTree.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img" and root.get("aria-labelledby") == "g1-t g1-d"
    assert root.find(f"{ns}title") is not None or root.find("title") is not None
    rects = [r for r in root.iter() if r.tag.endswith("rect") and r.get("class")]
    assert len(rects) == 4
    # each bar carries its value in words; the second series is hatched, not only coloured
    assert "02/03 — Pas utiles : 2" in svg
    assert sum(1 for r in rects if r.get("fill") == "url(#g1-h)") == 2
    assert "Utiles : total 3" in svg


def test_empty_chart_does_not_divide_by_zero() -> None:
    svg = bar_chart("g2", "Rien", ["01/03"], [("Questions", [0], "serie-a")])
    assert 'height="0.0"' in svg


def test_day_label() -> None:
    assert day_label("2025-03-12") == "12/03"
