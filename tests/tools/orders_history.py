#!/usr/bin/env python3
"""A generated history of diagnostic requests, for the waiting-list tests and the
benchmark: COUNT requests over 18 months (May 2025 to October 2026) across three sites
and nine tests, seeded, each with its clock (cancelled, performed after an exponential
wait, sometimes restarted by the patient, reported, acknowledged); one in twenty is a
planned test and one in twenty unscheduled, which DM01 counts as activity only.

    orders_history.py INDEX_SQLITE COUNT SEED   # writes the rows into a migrated index

The rows go straight into the `orders` table of a data folder dxhub has migrated (run
the server once first); the same rows are what the tests compute expectations from."""

from __future__ import annotations

import random
import sqlite3
import sys
from datetime import datetime, timezone

SITES = ["RXA01", "RXB02", "RXC03"]
TESTS = {"MR-KNEE": "MRI", "MR-LSPINE": "MRI", "CT-HEAD": "CT", "CT-CHEST": "CT", "US-ABDO": "NOUS",
         "DXA": "DEXA", "ECHO-TTE": "ECHO", "ENDO-OGD": "GASTRO", "XR-CHEST": ""}
START = int(datetime(2025, 5, 1, tzinfo=timezone.utc).timestamp())
END = int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp())
DAY = 86400


def generate(count: int, seed: str) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        requested = rng.randrange(START, END)
        code = rng.choice(list(TESTS))
        row = {"id": f"h{i:07d}", "code": code, "group": TESTS[code], "site": rng.choice(SITES),
               "priority": rng.choice(["routine", "routine", "urgent", "two-week-wait"]),
               "requested": requested, "clock_start": requested, "performed": 0, "reported": 0,
               "acknowledged": 0, "ended": 0, "stage": "requested"}
        fate = rng.random()
        if fate < 0.08:
            row["ended"] = requested + rng.randrange(1, 30) * DAY
            row["stage"] = "cancelled"
        elif fate < 0.85:
            if rng.random() < 0.1:
                row["clock_start"] = requested + rng.randrange(5, 40) * DAY  # a patient-initiated restart
            row["performed"] = row["clock_start"] + int(rng.expovariate(1 / (30 * DAY)))
            row["stage"] = "performed"
            if rng.random() < 0.9:
                row["reported"] = row["performed"] + int(rng.expovariate(1 / (3 * DAY)))
                row["stage"] = "reported"
                if rng.random() < 0.8:
                    row["acknowledged"] = row["reported"] + int(rng.expovariate(1 / (2 * DAY)))
                    row["stage"] = "acknowledged"
        kind = rng.random()
        row["activity"] = "planned" if kind < 0.05 else "unscheduled" if kind < 0.10 else "waiting-list"
        rows.append(row)
    return rows


def insert(index_sqlite: str, rows: list[dict]) -> None:
    with sqlite3.connect(index_sqlite) as db:
        db.executemany(
            "INSERT INTO orders (id, version, last_updated, nhs_number, code, test_group, priority, stage,"
            " performer_site, requested_at, clock_start, performed_at, reported_at, acknowledged_at, ended_at,"
            " activity) VALUES (?, 1, '2026-11-01T00:00:00Z', '9434765919', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r["id"], r["code"], r["group"], r["priority"], r["stage"], r["site"], r["requested"], r["clock_start"],
              r["performed"], r["reported"], r["acknowledged"], r["ended"], r["activity"]) for r in rows])


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    insert(sys.argv[1], generate(int(sys.argv[2]), sys.argv[3]))
