#!/usr/bin/python3
"""Precision, recall and F1 of linked pairs against the true links.

usage: eval_link.py LINKS.csv PAIRS.csv LABEL [A.csv]

With A.csv, PAIRS.csv is a dedup pairs file over A and B together: only
pairs across the two sides are kept, one partner per record, best first
(the plaintext engine's answer to the same linkage question).
"""
import csv
import sys


def main():
    links_path, pairs_path, label = sys.argv[1:4]
    truth = {(r['record_id_a'], r['record_id_b'])
             for r in csv.DictReader(open(links_path, encoding='utf-8'))}
    rows = list(csv.DictReader(open(pairs_path, encoding='utf-8')))
    if len(sys.argv) > 4:
        a_ids = {r['record_id'] for r in csv.DictReader(open(sys.argv[4], encoding='utf-8'))}
        cross = []
        for r in rows:
            x, y = r['record_id_a'], r['record_id_b']
            if (x in a_ids) == (y in a_ids):
                continue
            if y in a_ids:
                x, y = y, x
            cross.append((float(r['score']), x, y))
        cross.sort(reverse=True)
        used_a, used_b, pred = set(), set(), set()
        for s, x, y in cross:
            if x in used_a or y in used_b:
                continue
            used_a.add(x)
            used_b.add(y)
            pred.add((x, y))
    else:
        pred = {(r['record_id_a'], r['record_id_b']) for r in rows}
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(truth) if truth else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    print(f'{label:<28} link      P {p:.4f}  R {r:.4f}  F1 {f:.4f}  '
          f'(true links {len(truth)}, predicted {len(pred)}, correct {tp})')


if __name__ == '__main__':
    main()
