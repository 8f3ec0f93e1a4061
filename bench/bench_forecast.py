"""Decision support: accuracy, interval coverage, flags and speed of `territoria forecast`.

On the real series of ../shared/data/series (ONISR BAAC accidents, INSEE populations):
1. monthly département series, the 12 months after each cut-off (end of 2015, 2016, 2017,
   2018: the forecasts of 2016 to 2019), from the history before it: mean MASE (scaled by the
   in-sample seasonal naive error), coverage of the 80 % and 95 % intervals; beside them, in
   the same run, statsforecast's AutoETS, AutoTheta and the seasonal naive method alone;
2. the tuned values (the models averaged; the weight of a series' own errors against its
   group's in the calibration) chosen by cross-validation across held-apart groups of series
   (the three measures: accidents, killed, injured); out-of-group figures beside in-sample;
3. yearly commune series, 3 years after each cut-off 2012-2017: coverage, MASE, and whether
   every series whose backtest cannot beat naive is flagged;
4. the 2020 break: series forecast with data through 2020 (the last window is 2020, forecast
   from the end of 2019): share flagged; the same with data through 2016-2019 (false alarms);
5. speed: 1,000 monthly series (the real ones, ended at different months) in one run, with
   2 worker processes: wall time and CPU-seconds (the machine is shared).

    TERRITORIA_BENCH_HOME=/tmp/tb-x .venv/bin/python bench/bench_forecast.py [--quick]

Prints the figures and writes bench/results/forecast.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from common import DATA, RESULTS, write_result
from territoria.forecast import groups
from territoria.forecast.engine import Fitted, Options, Result, fit_group
from territoria.forecast.importer import Series, read_series
from territoria.forecast.judge import judge_all

SERIES = DATA / "series"
MONTHLY_CUTS = (2015, 2016, 2017, 2018)  # last year of training
YEARLY_CUTS = (2012, 2013, 2014, 2015, 2016, 2017)
MEMBER_CANDIDATES = (
    ("ses", "dotm", "log_dotm"),
    ("ses", "dotm"),
    ("ses",),
    ("dotm", "log_dotm"),
)
WEIGHT_CANDIDATES = (10.0, 30.0, 60.0, 150.0, 400.0)
CALIBRATION_CANDIDATES = tuple(
    (mode, w) for mode in ("scaled", "pooled") for w in WEIGHT_CANDIDATES
)


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def truncate(series: Series, end: int) -> Series:
    """The series up to ordinal `end` included."""
    return replace(series, values=series.values[: end - series.start + 1], missing=())


def measure(series_id: str) -> str:
    return series_id.split("-")[0]


# --- holding out the future -------------------------------------------------------------------


def fitted_at_cut(full: Sequence[Series], end: int, options: Options) -> list[Fitted]:
    """Each product group of the series cut at `end`, fitted once (judged several ways)."""
    cut = [truncate(s, end) for s in full]
    return [fit_group(group, options) for group in groups(cut).values()]


def judged(fitted: Sequence[Fitted], options: Options) -> list[Result]:
    """The results of the groups of one upload, judged together as the product does."""
    return [r for results in judge_all(fitted, options) for r in results]


def score(
    results: Sequence[Result], full: dict[str, Series], end: int, h: int
) -> list[dict[str, Any]]:
    """MASE and interval hits of each result on the `h` periods after `end`."""
    rows = []
    for r in results:
        s = full[r.series.series_id]
        train = np.asarray(s.values[: end - s.start + 1])
        actual = np.asarray(s.values[end - s.start + 1 : end - s.start + 1 + h])
        season = 12 if s.frequency == "monthly" else 1
        lag = season if len(train) > season else 1
        scale = float(np.mean(np.abs(train[lag:] - train[:-lag])))
        rows.append(
            {
                "series_id": s.series_id,
                "group": measure(s.series_id),
                "end": end,
                "mase": float(np.mean(np.abs(actual - r.mean[:h]))) / scale,
                "hit80": np.mean((actual >= r.bounds[80][0][:h]) & (actual <= r.bounds[80][1][:h])),
                "hit95": np.mean((actual >= r.bounds[95][0][:h]) & (actual <= r.bounds[95][1][:h])),
                "flags": list(r.flags),
                "backtest_mase": r.mase,
                "backtest_naive": min(
                    v for k, v in r.baselines.items() if k != "drift" and v is not None
                )
                if r.windows
                else None,
                "naive_mase": float(np.mean(np.abs(actual - train[-1]))) / scale,
            }
        )
    return rows


def summary(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    return {
        "n": len(rows),
        "mase": round(float(np.mean([r["mase"] for r in rows])), 4),
        "coverage80": round(float(np.mean([r["hit80"] for r in rows])), 4),
        "coverage95": round(float(np.mean([r["hit95"] for r in rows])), 4),
    }


def choose(
    rows_by_value: dict[Any, list[dict[str, Any]]], loss: Callable[[list[dict[str, Any]]], float]
) -> dict[str, Any]:
    """Cross-validation across held-apart groups: for each group, the value with the lowest
    loss on the other groups, scored on the held-out group."""
    names = sorted({r["group"] for rows in rows_by_value.values() for r in rows})
    folds = []
    for held in names:
        inside = {v: [r for r in rows if r["group"] != held] for v, rows in rows_by_value.items()}
        best = min(inside, key=lambda v: loss(inside[v]))
        out = [r for r in rows_by_value[best] if r["group"] == held]
        folds.append({"held_out": held, "chosen": best, **summary(out)})
    chosen_all = min(rows_by_value, key=lambda v: loss(rows_by_value[v]))
    held_rows = [
        r for fold in folds for r in rows_by_value[fold["chosen"]] if r["group"] == fold["held_out"]
    ]
    return {
        "chosen_on_all": chosen_all,
        "in_sample": summary(rows_by_value[chosen_all]),
        "out_of_group": summary(held_rows),
        "folds": folds,
        "candidates": {str(v): summary(rows) for v, rows in rows_by_value.items()},
    }


def coverage_loss(rows: list[dict[str, Any]]) -> float:
    s = summary(rows)
    return abs(s["coverage80"] - 0.80) + abs(s["coverage95"] - 0.95)


# --- the sections -------------------------------------------------------------------------------


def monthly_section(monthly: list[Series], quick: bool) -> dict[str, Any]:
    full = {s.series_id: s for s in monthly}
    cuts = MONTHLY_CUTS[-2:] if quick else MONTHLY_CUTS
    candidates = MEMBER_CANDIDATES[:2] if quick else MEMBER_CANDIDATES
    by_members: dict[Any, list[dict[str, Any]]] = {}
    by_weight: dict[Any, list[dict[str, Any]]] = {c: [] for c in CALIBRATION_CANDIDATES}
    t0, c0 = time.perf_counter(), cpu()
    for members in candidates:
        options = Options(members=members)
        rows = []
        for year in cuts:
            end = year * 12 + 11
            fitted = fitted_at_cut(monthly, end, options)
            rows += score(judged(fitted, options), full, end, 12)
            if members == MEMBER_CANDIDATES[0]:
                for mode, w in CALIBRATION_CANDIDATES:
                    weighted = Options(members=members, calibration_mode=mode, group_weight=w)
                    by_weight[mode, w] += score(judged(fitted, weighted), full, end, 12)
        by_members["+".join(members)] = rows
        print(f"  members {'+'.join(members)}: {summary(rows)}", flush=True)
    default = by_members["+".join(MEMBER_CANDIDATES[0])]
    per_cut = {str(y + 1): summary([r for r in default if r["end"] == y * 12 + 11]) for y in cuts}
    per_group = {
        g: summary([r for r in default if r["group"] == g])
        for g in sorted({r["group"] for r in default})
    }
    reference = reference_models(monthly, cuts, quick)
    return {
        "default": summary(default),
        "forecast_year": per_cut,
        "issue_windows_2017_2019": summary([r for r in default if r["end"] >= 2016 * 12 + 11]),
        "per_group": per_group,
        "reference_models": reference,
        "cv_members": choose(by_members, lambda rows: summary(rows)["mase"]),
        "cv_calibration": choose(by_weight, coverage_loss),
        "seconds": round(time.perf_counter() - t0, 1),
        "cpu_seconds": round(cpu() - c0, 1),
    }


def reference_models(monthly: list[Series], cuts: Sequence[int], quick: bool) -> dict[str, Any]:
    """statsforecast's models alone, on the raw series, with their own intervals."""
    from territoria.forecast import models

    names = ("seasonal_naive", "ets", "theta") if not quick else ("seasonal_naive", "theta")
    out: dict[str, Any] = {}
    for name in names:
        mases, hit80, hit95 = [], [], []
        for year in cuts:
            end = year * 12 + 11
            for s in monthly:
                train = np.asarray(s.values[: end - s.start + 1])
                actual = np.asarray(s.values[end - s.start + 1 : end - s.start + 13])
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    p = models.predict(name, train, 12, 12)
                scale = float(np.mean(np.abs(train[12:] - train[:-12])))
                mases.append(float(np.mean(np.abs(actual - p.mean))) / scale)
                z80, z95 = 1.2815515655446004, 1.959963984540054
                hit80.append(np.mean(np.abs(actual - p.mean) <= z80 * p.sigma))
                hit95.append(np.mean(np.abs(actual - p.mean) <= z95 * p.sigma))
        out[name] = {
            "mase": round(float(np.mean(mases)), 4),
            "coverage80_own_intervals": round(float(np.mean(hit80)), 4),
            "coverage95_own_intervals": round(float(np.mean(hit95)), 4),
        }
        print(f"  reference {name}: {out[name]}", flush=True)
    return out


def yearly_section(yearly: list[Series], quick: bool) -> dict[str, Any]:
    full = {s.series_id: s for s in yearly}
    cuts = YEARLY_CUTS[-3:] if quick else YEARLY_CUTS
    by_weight: dict[Any, list[dict[str, Any]]] = {c: [] for c in CALIBRATION_CANDIDATES}
    rows: list[dict[str, Any]] = []
    options = Options()
    for year in cuts:
        fitted = fitted_at_cut(yearly, year, options)
        rows += score(judged(fitted, options), full, year, 3)
        for mode, w in CALIBRATION_CANDIDATES:
            chosen = Options(calibration_mode=mode, group_weight=w)
            by_weight[mode, w] += score(judged(fitted, chosen), full, year, 3)
    for collection in (rows, *by_weight.values()):  # three held-apart groups of communes
        for r in collection:
            r["group"] = f"communes-{int(r['series_id'][-3:]) % 3}"
    violations = [
        r
        for r in rows
        if r["backtest_mase"] is not None
        and r["backtest_naive"] is not None
        and r["backtest_mase"] >= r["backtest_naive"]
        and "not_better_than_naive" not in r["flags"]
    ]
    flagged = [r for r in rows if "not_better_than_naive" in r["flags"]]
    kept = [r for r in rows if "not_better_than_naive" not in r["flags"]]
    return {
        "default": summary(rows),
        "naive_mase": round(float(np.mean([r["naive_mase"] for r in rows])), 4),
        "flagged_not_better_than_naive": len(flagged),
        "unflagged_although_backtest_not_better": len(violations),
        "held_out_mase_flagged": summary(flagged)["mase"] if flagged else None,
        "held_out_naive_mase_flagged": round(float(np.mean([r["naive_mase"] for r in flagged])), 4)
        if flagged
        else None,
        "held_out_mase_not_flagged": summary(kept)["mase"] if kept else None,
        "held_out_naive_mase_not_flagged": round(float(np.mean([r["naive_mase"] for r in kept])), 4)
        if kept
        else None,
        "cv_calibration": choose(by_weight, coverage_loss),
    }


def break_section(series: list[Series], frequency: str) -> dict[str, Any]:
    """Share of series whose last window (the year `y`) is flagged as a recent break."""
    out = {}
    for year in (2016, 2017, 2018, 2019, 2020):
        end = year * 12 + 11 if frequency == "monthly" else year
        flagged = total = 0
        in_year = 0
        for r in judged(fitted_at_cut(series, end, Options()), Options()):
            total += 1
            if "recent_break" in r.flags:
                flagged += 1
                first = year * 12 if frequency == "monthly" else year
                in_year += any(o >= first for o in r.recent_break)
        out[str(year)] = {
            "series": total,
            "flagged": flagged,
            "flagged_in_that_year": in_year,
            "share": round(flagged / total, 4),
        }
        print(f"  break {frequency} {year}: {out[str(year)]}", flush=True)
    return out


def speed_section(monthly: list[Series], n: int) -> dict[str, Any]:
    many = []
    for i in range(n):
        s = monthly[i % len(monthly)]
        shift = i // len(monthly)
        # ids as an upload of 3 indicators x ~333 territories would have them (3 groups)
        many.append(replace(truncate(s, s.end - 1 - shift), series_id=f"{s.series_id}{shift}"))
    t0, c0 = time.perf_counter(), cpu()
    fitted = [fit_group(group, Options(workers=2)) for group in groups(many).values()]
    judged(fitted, Options(workers=2))
    wall, cpu_s = time.perf_counter() - t0, cpu() - c0
    load = __import__("os").getloadavg()[0]
    print(f"  speed: {n} series, {wall:.1f} s wall, {cpu_s:.1f} CPU-s (load {load:.1f})")
    return {
        "series": n,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu_s, 1),
        "cpu_seconds_per_series": round(cpu_s / n, 4),
        "two_core_estimate_seconds": round(cpu_s / 2, 1),
        "load_average_1min": round(load, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer cut-offs and candidates")
    parser.add_argument("--only", default="", help="comma-separated sections to run")
    args = parser.parse_args()
    sections = set(args.only.split(",")) if args.only else {"monthly", "yearly", "breaks", "speed"}
    monthly = read_series([SERIES / "accidents-departements-monthly.csv"]).series
    yearly = read_series([SERIES / "accidents-communes-annual.csv"]).series
    # Sections run separately (--only) update the same results file.
    previous = RESULTS / "forecast.json"
    result: dict[str, Any] = json.loads(previous.read_text()) if previous.exists() else {}
    for key in ("seconds", "cpu_seconds"):  # per section run (older files held one number)
        if not isinstance(result.get(key), dict):
            result[key] = {}
    result["data"] = "../shared/data/series (ONISR BAAC; INSEE)"
    t0, c0 = time.perf_counter(), cpu()
    if "monthly" in sections:
        print("monthly département series:", flush=True)
        result["monthly"] = monthly_section(monthly, args.quick)
    if "yearly" in sections:
        print("yearly commune series:", flush=True)
        result["yearly"] = yearly_section(yearly, args.quick)
        print(f"  {result['yearly']['default']}", flush=True)
    if "breaks" in sections:
        print("breaks (last window of each year):", flush=True)
        result["breaks"] = {
            "monthly": break_section(monthly, "monthly"),
            "yearly": break_section(yearly, "yearly"),
        }
    if "speed" in sections:
        print("speed:", flush=True)
        result["speed"] = speed_section(monthly, 200 if args.quick else 1000)
    result.setdefault("seconds", {})[",".join(sorted(sections))] = round(
        time.perf_counter() - t0, 1
    )
    result.setdefault("cpu_seconds", {})[",".join(sorted(sections))] = round(cpu() - c0, 1)
    result["targets"] = targets(result)
    for name, verdict in result["targets"].items():
        print(f"  target {name}: {verdict}")
    write_result("forecast", result)


def targets(result: dict[str, Any]) -> dict[str, str]:
    out = {}
    if "monthly" in result:
        m = result["monthly"]["default"]
        out["monthly_mase<=0.72"] = f"{m['mase']} ({'met' if m['mase'] <= 0.72 else 'NOT met'})"
        ok80 = 0.77 <= m["coverage80"] <= 0.83
        ok95 = 0.93 <= m["coverage95"] <= 0.97
        out["monthly_coverage80_in_77_83"] = f"{m['coverage80']} ({'met' if ok80 else 'NOT met'})"
        out["monthly_coverage95_in_93_97"] = f"{m['coverage95']} ({'met' if ok95 else 'NOT met'})"
    if "yearly" in result:
        y = result["yearly"]
        ok = y["default"]["coverage95"] >= 0.92
        out["yearly_coverage95>=0.92"] = (
            f"{y['default']['coverage95']} ({'met' if ok else 'NOT met'})"
        )
        bad = y["unflagged_although_backtest_not_better"]
        out["yearly_not_better_than_naive_all_flagged"] = (
            f"{bad} missed ({'met' if bad == 0 else 'NOT met'})"
        )
    if "breaks" in result:
        share = result["breaks"]["monthly"]["2020"]["share"]
        out["break_2020_flagged>=0.90"] = f"{share} ({'met' if share >= 0.9 else 'NOT met'})"
    if "speed" in result:
        s = result["speed"]
        ok = s["two_core_estimate_seconds"] <= 120
        out["1000_series<=120s_on_2_cores"] = (
            f"{s['two_core_estimate_seconds']} s of CPU/2 ({s['wall_seconds']} s wall on a shared "
            f"machine) ({'met' if ok else 'NOT met'})"
        )
    return out


if __name__ == "__main__":
    main()
