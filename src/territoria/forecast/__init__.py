"""Decision support: honest forecasts of a collectivité's own series.

    run = run_forecast([Path("energie.csv")], settings, horizon=12, out_dir=Path("prevision"))
    run.document["series"][0]["backtest"]["mase"]    # how wrong such forecasts have been
    run.document["series"][0]["abstained"]           # True when it cannot do better than naive

Steps: read the files (`importer`), forecast each frequency group (`engine`: cleaning, pooled
seasonality, statsforecast models, rolling-origin backtest, calibrated intervals, flags in
`judge`), compare communes with their peers per inhabitant (`peers`), build the report
document (`report`, the JSON contract) and its HTML page (`html`), keep the run (`storage`)
and log it in the audit log (inputs' digest, model, versions, backtest).
"""

from __future__ import annotations

import json
import re
import resource
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from territoria.errors import InvalidRequest
from territoria.forecast.engine import Options
from territoria.forecast.importer import Series, SeriesSet, parse_mapping, read_series
from territoria.forecast.storage import RunStore, StoredRun, open_run_store
from territoria.settings import Settings
from territoria.types import Access

if TYPE_CHECKING:
    from territoria.audit import AuditLog

__all__ = [
    "ForecastRun",
    "Options",
    "RunStore",
    "StoredRun",
    "open_run_store",
    "parse_mapping",
    "run_forecast",
]

SCHEMA = "territoria-forecast/1"
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ForecastRun:
    run_id: str
    document: dict[str, Any]
    json_path: Path | None = None
    html_path: Path | None = None


def run_forecast(
    paths: Sequence[Path],
    settings: Settings,
    *,
    horizon: int | None = None,
    mapping: str | Mapping[str, str] | None = None,
    population: Sequence[Path] = (),
    access: Access | None = None,
    user: str = "",
    out_dir: Path | None = None,
    options: Options | None = None,
    audit: AuditLog | None = None,
    store: RunStore | None = None,
    progress: Progress | None = None,
) -> ForecastRun:
    """Forecast every series in `paths`, log the run, keep it, and write `forecast.json` and
    `report.html` into `out_dir` when given."""
    from territoria.energy import estimate
    from territoria.forecast import html, models, peers, report
    from territoria.forecast.engine import fit_group
    from territoria.forecast.judge import judge_all

    if horizon is not None and not 1 <= horizon <= 120:
        raise InvalidRequest("L'horizon doit être compris entre 1 et 120 périodes.")
    access = access or Access(role="agent")
    options = options or Options()
    if horizon is not None:
        options = Options(**{**options.__dict__, "horizon": horizon})
    cpu0, wall0 = _cpu(), time.perf_counter()
    fields = parse_mapping(mapping) if not isinstance(mapping, Mapping) else dict(mapping)
    data = read_series(list(paths), mapping=fields, settings=settings)
    reference = read_series(list(population), settings=settings) if population else SeriesSet()
    if not data.series:
        reasons = "; ".join(f"{i.source} : {i.reason}" for i in data.issues[:5])
        raise InvalidRequest(
            "Aucune série lisible dans les fichiers donnés" + (f" ({reasons})." if reasons else ".")
        )
    fitted = []
    for name, group in groups(data.series).items():
        step = (lambda d, t, n=name: progress(n, d, t)) if progress else None
        fitted.append(fit_group(group, options, step))
    # judged together: a common shock is looked for across the groups of one frequency
    results = {r.series.series_id: r for judged in judge_all(fitted, options) for r in judged}
    compared = peers.compare(data.series, reference.series)
    entries = [
        report.series_entry(results[s.series_id], peers=compared.get(s.series_id))
        for s in data.series
    ]
    run_id = secrets.token_hex(8)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    cpu, wall = _cpu() - cpu0, time.perf_counter() - wall0
    energy = estimate(settings, cpu, wall)
    versions = {"forecast": SCHEMA, **models.versions()}
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "series": entries,
        "issues": [
            {"file": i.source, "line": i.line, "reason": i.reason}
            for i in [*data.issues, *reference.issues]
        ],
        "inputs": {
            "files": [f.__dict__ for f in [*data.files, *reference.files]],
            "sha256": _digest(data, reference, fields, options),
            "mapping": fields,
        },
        "run": {
            "run_id": run_id,
            "created_at": created,
            "horizon": horizon,
            "cpu_seconds": round(cpu, 3),
            "wall_seconds": round(wall, 3),
            "energy_wh": round(energy.wh, 4),
            "energy_method": energy.method,
            "versions": versions,
            "tenant": access.tenant,
        },
        "method": method(options),
    }
    record_id = _audit(audit, settings, document, access, user, energy, wall)
    document["run"]["audit_record_id"] = record_id
    owned = store or open_run_store(settings)
    try:
        owned.save(
            StoredRun(run_id, access.tenant, user, created, document["inputs"]["sha256"], document)
        )
    finally:
        if store is None:
            owned.close()
    json_path = html_path = None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        json_path = out_dir / "forecast.json"
        json_path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
        html_path = out_dir / "report.html"
        html_path.write_text(html.render(document, settings), encoding="utf-8")
    return ForecastRun(run_id, document, json_path, html_path)


_KIND = re.compile(r"^(?P<kind>.+?)[-_ ]?(?:\d[\dA-Z]{0,5}|2[AB]\d{0,3})$")
MIN_KIND = 3


def kind(series_id: str) -> str:
    """`accidents-dep-2A` -> `accidents-dep`: the id without its trailing code."""
    match = _KIND.match(series_id.strip())
    return match.group("kind") if match else series_id


def groups(series: Sequence[Series]) -> dict[str, list[Series]]:
    """Similar series, whose seasonal profiles and errors are pooled: one frequency and one
    kind of id (`accidents-dep-*`) when at least `MIN_KIND` series share it; the others of
    one frequency and one file together."""
    kinds: dict[tuple[str, str], int] = {}
    for s in series:
        key = (s.frequency, kind(s.series_id))
        kinds[key] = kinds.get(key, 0) + 1
    out: dict[str, list[Series]] = {}
    for s in series:
        key = (s.frequency, kind(s.series_id))
        name = f"{s.frequency} {key[1]}" if kinds[key] >= MIN_KIND else f"{s.frequency} {s.source}"
        out.setdefault(name, []).append(s)
    return out


def _cpu() -> float:
    """CPU seconds of this process and of its finished child processes (the fitting
    workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _digest(data: SeriesSet, reference: SeriesSet, fields: dict[str, str], options: Options) -> str:
    import hashlib

    digest = hashlib.sha256(data.inputs_sha256.encode())
    digest.update(reference.inputs_sha256.encode())
    digest.update(json.dumps(fields, sort_keys=True).encode())
    return digest.hexdigest()


def method(options: Options) -> dict[str, Any]:
    from territoria.forecast import calibration, judge
    from territoria.forecast.engine import DEFAULT_HORIZON, DEFAULT_WINDOWS, MEMBERS

    return {
        "members": {f: list(options.members or m) for f, m in MEMBERS.items()},
        "default_horizon": DEFAULT_HORIZON,
        "backtest_windows": {f: options.windows or w for f, w in DEFAULT_WINDOWS.items()},
        "pooled_seasonality": options.pool_seasonality,
        "calibration": {
            "mode": options.calibration_mode,
            "group_weight": options.group_weight,
            "prior_weight": options.prior_weight,
            "levels": list(calibration.LEVELS),
        },
        "breaks": {
            "break_share": judge.BREAK_SHARE,
            "shock_min_series": judge.SHOCK_MIN_SERIES,
            "shock_threshold": "largest |median error| of the earlier backtest windows",
        },
    }


def _audit(
    audit: AuditLog | None,
    settings: Settings,
    document: dict[str, Any],
    access: Access,
    user: str,
    energy: Any,
    wall: float,
) -> str:
    from territoria.audit import AuditLog

    files = document["inputs"]["files"]
    summary = "Prévision : " + ", ".join(f"{f['name']} (sha256 {f['sha256'][:12]}…)" for f in files)
    entries = document["series"]
    abstained = sum(1 for e in entries if e["abstained"])
    outcome = (
        f"{len(entries)} série(s) prévue(s), {abstained} abstention(s), "
        f"{len(document['issues'])} ligne(s) ou fichier(s) signalé(s)."
    )
    details = {
        "run_id": document["run"]["run_id"],
        "inputs_sha256": document["inputs"]["sha256"],
        "files": files,
        "horizon": document["run"]["horizon"],
        "method": document["method"],
        "series": [
            {
                "series_id": e["series_id"],
                "frequency": e["frequency"],
                "model": e["model"],
                "abstained": e["abstained"],
                "flags": e["flags"],
                "backtest": {k: e["backtest"][k] for k in ("windows", "mase", "baselines")},
            }
            for e in entries
        ],
    }
    log = audit or AuditLog(settings)
    try:
        return log.record_run(
            kind="forecast",
            access=access,
            summary=summary,
            outcome=outcome,
            details=details,
            versions=document["run"]["versions"],
            energy=energy,
            latency_ms=wall * 1000,
            abstained=abstained == len(entries),
            subject=user or None,
        )
    finally:
        if audit is None:
            log.close()
