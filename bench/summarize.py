#!/usr/bin/env python3
"""The summary table of `make bench` (bench/run_all.sh): each bench's status, then its key figures, one row
per JSON line: the line's text fields (mode, path, policy, split, ...) name the row, and the numeric fields
whose names say latency, rate or quality (p50, p99, per_s, recall, accuracy, ...) are its figures.

    python3 bench/summarize.py RESULTS.jsonl STATUS.tsv

To show another figure, add a word of its field name to KEY_WORDS.
"""
import json
import sys

KEY_WORDS = ("p50", "p99", "per_s", "_s_", "rps", "recall", "accuracy", "f1", "coverage", "hit", "rss",
             "throughput", "overhead", "groundedness", "precision", "failover", "mean")
SKIP_TEXT = {"run", "bench", "machine", "cpu", "cpu_model", "kernel", "started_utc", "set", "loadavg_start",
             "loadavg_end"}


def fmt(v):
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def main(results, status):
    rows, machine = [], None
    with open(results, encoding="utf-8") as f:
        for line in f:
            try:
                j = json.loads(line)
            except ValueError:
                continue
            if j.get("bench") == "machine":
                machine = j
            elif isinstance(j, dict):
                rows.append(j)
    print("\n==== make bench summary ====")
    if machine:
        print(f"machine: {machine.get('cores')} cores, {machine.get('cpu_model')} (kernel {machine.get('kernel')}), "
              f"started {machine.get('started_utc')}{', QUICK run (not figures to report)' if machine.get('quick') else ''}")
    print(f"\n{'bench':<20} {'status':<24} {'seconds':>8} {'json lines':>10}")
    failed = 0
    with open(status, encoding="utf-8") as f:
        for line in f:
            name, st, secs, n = line.rstrip("\n").split("\t")
            failed += st not in ("ok", "not built")
            print(f"{name:<20} {st:<24} {secs:>8} {n:>10}")
    print(f"\n{'figure':<52} values")
    for j in rows:
        for k, v in list(j.items()):  # one level of nesting: {"ttft": {"p50_us": ..}} -> ttft.p50_us
            if isinstance(v, dict):
                j.update({f"{k}.{kk}": vv for kk, vv in v.items()})
        label = " ".join([str(j.get("run", j.get("bench", "?")))] +
                         [f"{k}={v}" for k, v in j.items() if isinstance(v, str) and k not in SKIP_TEXT][:3])
        figures = [f"{k}={fmt(v)}" for k, v in j.items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool) and any(w in k for w in KEY_WORDS)]
        print(f"{label[:52]:<52} {' '.join(figures[:8])}")
    print(f"\nall JSON lines: {results}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
