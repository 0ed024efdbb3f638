"""ICD-10-CM code search benchmark (not part of the test suite; prints figures).

Loads the in-memory index once (the cost the first search of a process pays), then times code
prefix and word searches as the diagnosis autocomplete sends them.

Usage: DEBUG=1 .venv/bin/python bench/icd10_search.py [--repeat 200]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from hms.clinical.icd10 import _index, icd10_search  # noqa: E402

QUERIES = {
    "code prefix": ["E11", "I1", "J45.9", "S52.5", "Z00"],
    "words": ["diabetes type 2", "asthma", "fracture radius", "hypertension", "otitis media"],
    "no match": ["zzzz qqqq"],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()
    index = _index()
    print(f"index: {len(index.codes)} codes loaded in {time.perf_counter() - started:.2f} s")
    for label, queries in QUERIES.items():
        times = []
        for _ in range(args.repeat):
            for query in queries:
                t = time.perf_counter()
                icd10_search(query, limit=20)
                times.append((time.perf_counter() - t) * 1000)
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"{label:<12} p50 {statistics.median(times):6.2f} ms   p95 {p95:6.2f} ms")


if __name__ == "__main__":
    main()
