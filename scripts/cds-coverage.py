#!/usr/bin/env python3
"""Prints the decision-support coverage table (Markdown) from knowledge/ and
tests/scenarios/cds/: one row per rule with its topic, urgency, recommendation,
source and the number of vignettes that exercise it. docs/cds.md embeds the output
between the coverage markers; `--check` fails when the embedded table is stale.

Usage: python3 scripts/cds-coverage.py [--write | --check]
"""
from __future__ import annotations

import sys
import tomllib
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BEGIN = "<!-- coverage:begin (scripts/cds-coverage.py --write) -->"
END = "<!-- coverage:end -->"


def load(path: Path) -> dict:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def table() -> str:
    vignettes: Counter[str] = Counter()
    for path in sorted((REPO / "tests/scenarios/cds").glob("*.toml")):
        for case in load(path).get("case", []):
            vignettes[case["rule"]] += 1
    rows = ["| Topic | Rule | v | Recommends | Urgency | Score | Source | Vignettes |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    topics = rules = 0
    for path in sorted((REPO / "knowledge/topics").glob("*.toml")):
        data = load(path)
        topics += 1
        for rule in data.get("rule", []):
            rules += 1
            source = rule["source"]
            recommends = ", ".join(item["investigation"] for item in rule["recommend"])
            rows.append(f"| {data['topic']['id']} | {rule['id']} | {rule['version']} | {recommends} | "
                        f"{rule['urgency']} | {rule['score']} | {source['guideline']} {source['recommendation']} | "
                        f"{vignettes.get(rule['id'], 0)} |")
    total = sum(vignettes.values())
    return "\n".join([f"{topics} topics, {rules} rules, {total} vignettes.", "", *rows])


def main() -> int:
    doc = REPO / "docs/cds.md"
    generated = f"{BEGIN}\n{table()}\n{END}"
    if len(sys.argv) > 1 and sys.argv[1] in ("--write", "--check"):
        text = doc.read_text()
        start, end = text.index(BEGIN), text.index(END) + len(END)
        if sys.argv[1] == "--check":
            if text[start:end] != generated:
                print("docs/cds.md: the coverage table is stale; run python3 scripts/cds-coverage.py --write")
                return 1
            return 0
        doc.write_text(text[:start] + generated + text[end:])
        return 0
    print(generated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
