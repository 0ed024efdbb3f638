"""Evaluation of the assistant's understanding (not part of the test suite; prints figures).

Runs the labelled utterances of bench/data/assistant_eval.tsv, kept apart from the training
examples (typos, paraphrases, mixed intents, other phrasings of emergencies), through the same
`understand` the assistant uses, with the demo knowledge base (hms/assistant/demo.py), and
prints intent accuracy, emergency recall, FAQ top-1 accuracy and p95 latency per message.
No database is needed. Exits 1 when a target is missed.

Targets: intent accuracy >= 90 %, emergency recall 100 %, FAQ top-1 >= 85 %, p95 < 100 ms.

Usage: DEBUG=1 .venv/bin/python bench/assistant_eval.py [--errors]
"""

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from hms.assistant import nlu  # noqa: E402
from hms.assistant.demo import ARTICLES  # noqa: E402

EVAL_FILE = Path(__file__).parent / "data" / "assistant_eval.tsv"


def labelled() -> list[tuple[str, str, str]]:
    rows = []
    for line in EVAL_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        intent, article, text = line.split("\t")
        rows.append((intent, article, text))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list every miss")
    args = parser.parse_args()

    rows = labelled()
    training = {nlu.normalise(t) for ex in nlu.training_data()["intents"].values() for t in ex}
    leaked = [text for _, _, text in rows if nlu.normalise(text) in training]
    if leaked:
        print(f"{len(leaked)} evaluation utterances are also training examples: {leaked[:5]}")
        return 1

    started = time.perf_counter()
    nlu.intent_model()
    index = nlu.KnowledgeIndex(
        [nlu.Doc(slug, title, keywords, body) for slug, title, keywords, body in ARTICLES]
    )
    warm_up = time.perf_counter() - started
    nlu.understand("hello", index)

    latencies, misses = [], []
    correct = emergencies = emergencies_found = faq_total = faq_top1 = 0
    confusion: Counter = Counter()
    for intent, article, text in rows:
        t0 = time.perf_counter()
        understood = nlu.understand(text, index)
        latencies.append((time.perf_counter() - t0) * 1000)
        if understood.intent == intent:
            correct += 1
        else:
            confusion[(intent, understood.intent)] += 1
            misses.append(f"  {intent:>22} -> {understood.intent:<22} {text}")
        if intent == "emergency":
            emergencies += 1
            emergencies_found += understood.intent == "emergency"
        if article:
            faq_total += 1
            hits = index.search(text, limit=1)
            top = hits[0][0].key if hits else None
            faq_top1 += top == article
            if top != article:
                misses.append(f"  {'faq article':>22} -> {top!s:<22} {text} (wanted {article})")

    accuracy = correct / len(rows)
    recall = emergencies_found / emergencies
    top1 = faq_top1 / faq_total
    p95 = statistics.quantiles(latencies, n=20)[18]
    print(f"utterances: {len(rows)} (emergencies {emergencies}, FAQ with an article {faq_total})")
    print(f"model ready in {warm_up:.2f} s (training or loading the cached model)")
    print(f"intent accuracy:   {accuracy:6.1%}  (target >= 90 %)")
    print(f"emergency recall:  {recall:6.1%}  (target 100 %)")
    print(f"FAQ top-1:         {top1:6.1%}  (target >= 85 %)")
    p50 = statistics.median(latencies)
    print(f"latency p50 / p95: {p50:.1f} / {p95:.1f} ms (target p95 < 100)")
    if confusion:
        top = confusion.most_common(5)
        print("most confused:", ", ".join(f"{a}->{b} x{n}" for (a, b), n in top))
    if args.errors and misses:
        print("misses:")
        print("\n".join(misses))
    met = accuracy >= 0.90 and recall == 1.0 and top1 >= 0.85 and p95 < 100
    print("targets met" if met else "TARGETS MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
