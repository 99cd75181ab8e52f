#!/usr/bin/env python3
"""Builds data/eval/demo.jsonl, the offline evaluation set of the demo, from the shipped demo data:

- every row of data/intents/holdout.csv (never used for training): text, intent, should_escalate;
- every held-out question of data/eval/retrieval.jsonl: text, intent, relevant_sources, should_escalate.

should_escalate is true for requests for a person (intent escalation_request) and for the one security
incident ("someone accessed my account without permission"); false otherwise. Run from the repository root:
    python3 data/eval/make_demo_set.py
"""
import csv
import json

ESCALATE_TEXTS = {"someone accessed my account without permission"}

rows = []
with open("data/intents/holdout.csv", newline="", encoding="utf-8") as f:
    for i, r in enumerate(csv.DictReader(f), start=1):
        text, intent = r["text"].strip(), r["intent"].strip()
        rows.append({"id": f"h{i:03d}", "text": text, "intent": intent,
                     "should_escalate": intent == "escalation_request" or text in ESCALATE_TEXTS,
                     "source": "intents/holdout.csv"})
with open("data/eval/retrieval.jsonl", encoding="utf-8") as f:
    for line in f:
        q = json.loads(line)
        if q["split"] != "heldout":
            continue
        rows.append({"id": q["id"], "text": q["question"], "intent": q["intent"],
                     "relevant_sources": q["expected"], "should_escalate": False,
                     "source": "eval/retrieval.jsonl"})
with open("data/eval/demo.jsonl", "w", encoding="utf-8") as out:
    for r in rows:
        out.write(json.dumps(r, ensure_ascii=False) + "\n")
print(f"data/eval/demo.jsonl: {len(rows)} rows")
