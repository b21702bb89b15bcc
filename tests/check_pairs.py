#!/usr/bin/env python3
"""Every pair of cells in an `evaluate --spatial-csv` file within TOLERANCE of the observed
daily-anomaly correlation, and as many compared pairs as expected. Pairs whose records share no
day have no observed value and are listed, not compared.
Usage: check_pairs.py PAIRS.csv TOLERANCE PAIRS"""
import csv
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
tolerance, expected = float(sys.argv[2]), int(sys.argv[3])
unobserved = [r for r in rows if r["observed"] == ""]
rows = [r for r in rows if r["observed"] != ""]
for r in unobserved:
    print(f"cells {r['cell_a']}-{r['cell_b']}: no shared observed day, not compared")
good = [r for r in rows if abs(float(r["generated"]) - float(r["observed"])) <= tolerance]
print(f"{len(good)} of {len(rows)} pairs within {tolerance}; worst difference",
      max((abs(float(r["generated"]) - float(r["observed"])) for r in rows), default=float("nan")))
sys.exit(0 if len(good) == len(rows) == expected else 1)
