#!/usr/bin/env python3
"""Builds the shipped evaluation subsets of the public intent data sets (data/eval/public/<name>.jsonl)
from their copies in ../shared/data, mapping each set's labels to the product's intents with
<name>.mapping.json:

  labels            source label -> general | billing | technical | account | escalation_request |
                    out_of_scope | skip (rows with a skipped label are left out)
  default           what an unlisted label maps to (a label or skip)
  per_label         rows kept per source label (the first ones in file order: deterministic)
  per_label_override  source label -> rows kept for that label
  escalate          source labels whose rows should be escalated (should_escalate true; others false)

The support agent never reads ../shared at run time: run this once, by hand, and ship the output with
the set's licence. Usage, from the repository root:
    python3 data/eval/public/make_public_sets.py [--shared ../shared/data]
"""
import argparse
import csv
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
LABELS = {"general", "billing", "technical", "account", "escalation_request", "out_of_scope", "skip"}


def read_bitext(root):
    with open(os.path.join(root, "bitext-customer-support", "train.csv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            yield r["row_id"], r["instruction"], r["intent"]


def read_banking77(root):
    with open(os.path.join(root, "banking77", "train.csv"), newline="", encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f)):
            yield str(i), r["text"], r["category"]


def read_clinc150(root):
    with open(os.path.join(root, "clinc150", "data_full_train_val.json"), encoding="utf-8") as f:
        data = json.load(f)
    for part in ("val", "oos_val"):
        for i, (text, label) in enumerate(data[part]):
            yield f"{part}-{i}", text, label


READERS = {"bitext": read_bitext, "banking77": read_banking77, "clinc150": read_clinc150}


def build(name, root):
    with open(os.path.join(HERE, f"{name}.mapping.json"), encoding="utf-8") as f:
        mapping = json.load(f)
    for label, target in list(mapping["labels"].items()) + [("(default)", mapping["default"])]:
        if target not in LABELS:
            raise SystemExit(f"{name}.mapping.json: label {label}: {target!r} is not one of {sorted(LABELS)}")
    overrides = mapping.get("per_label_override", {})
    escalate = set(mapping.get("escalate", []))
    kept, rows = {}, []
    for row_id, text, label in READERS[name](root):
        target = mapping["labels"].get(label, mapping["default"])
        if target == "skip":
            continue
        if kept.get(label, 0) >= overrides.get(label, mapping["per_label"]):
            continue
        kept[label] = kept.get(label, 0) + 1
        rows.append({"id": f"{name}-{row_id}", "text": " ".join(text.split()), "intent": target,
                     "should_escalate": label in escalate, "source": f"{name}:{label}"})
    out = os.path.join(HERE, f"{name}.jsonl")
    with open(out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts = {}
    for r in rows:
        counts[r["intent"]] = counts.get(r["intent"], 0) + 1
    print(f"{out}: {len(rows)} rows {dict(sorted(counts.items()))}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shared", default=os.path.join(HERE, "..", "..", "..", "..", "shared", "data"))
    args = p.parse_args()
    for name in READERS:
        build(name, args.shared)


if __name__ == "__main__":
    main()
