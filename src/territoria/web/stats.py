"""Dashboard figures from the audit log and the feedback store, per day and in total."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from territoria.audit import AuditLog
from territoria.feedback import FeedbackStore


def _day(iso_time: str) -> str:
    return iso_time[:10]


def dashboard(
    audit: AuditLog,
    feedback: FeedbackStore,
    *,
    tenant: str,
    days: int = 30,
    today: date | None = None,
) -> dict[str, Any]:
    """Questions, abstentions, energy and feedback per day over `days` days (UTC), the most
    frequent unanswered questions (the service gap) and the latest reasons given."""
    last = today or datetime.now(UTC).date()
    first = last - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    per_day = {
        (first + timedelta(days=i)).isoformat(): {
            "questions": 0, "abstained": 0, "wh": 0.0, "gco2e": 0.0, "useful": 0, "not_useful": 0,
        }
        for i in range(days)
    }  # fmt: skip
    gaps: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for record in audit.records(since=since, tenant=tenant):
        row = per_day.get(_day(record.time))
        if row is None:
            continue
        row["questions"] += 1
        row["wh"] += record.energy_wh
        row["gco2e"] += record.energy_gco2e
        if record.abstained:
            row["abstained"] += 1
            if record.question and not record.question.startswith("["):
                key = " ".join(record.question.lower().split()).rstrip(" ?")
                gaps[key] += 1
                shown.setdefault(key, record.question)
    reasons: list[dict[str, Any]] = []
    for item in feedback.items(tenant=tenant, since=since):
        row = per_day.get(_day(item.time))
        if row is None:
            continue
        row["useful" if item.useful else "not_useful"] += 1
        if item.reason and len(reasons) < 10:
            reasons.append({"time": item.time, "useful": item.useful, "reason": item.reason})
    questions = sum(r["questions"] for r in per_day.values())
    abstained = sum(r["abstained"] for r in per_day.values())
    return {
        "days": days,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "per_day": [{"day": d, **r} for d, r in per_day.items()],
        "totals": {
            "questions": questions,
            "abstained": abstained,
            "abstention_rate": abstained / questions if questions else 0.0,
            "wh": sum(r["wh"] for r in per_day.values()),
            "gco2e": sum(r["gco2e"] for r in per_day.values()),
            "useful": sum(r["useful"] for r in per_day.values()),
            "not_useful": sum(r["not_useful"] for r in per_day.values()),
        },
        "unanswered": [
            {"question": shown[key], "count": count} for key, count in gaps.most_common(10)
        ],
        "reasons": reasons,
    }
