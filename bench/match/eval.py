#!/usr/bin/python3
"""Pairwise precision, recall and F1 of a clustering against a truth file.

usage: eval.py DATA.csv TRUTH.csv CLUSTERS.csv [LABEL]

TRUTH.csv has record_id,entity_id and, from our generator, family_id and
twin (1 when the child is a twin). Without family_id (the shared dev set),
families are inferred from the father's and family names of each entity.
Prints one line for all pairs, and lines restricted to pairs inside
households with several children (siblings) and with twins.
"""
import csv
import re
import sys
from collections import Counter, defaultdict

DIACRITICS = re.compile('[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]')


def rough_norm(s):
    s = DIACRITICS.sub('', s.strip().lower())
    s = s.translate(str.maketrans('أإآٱىةؤئ', 'اااايهءء'))
    s = re.sub(r'^(ال|al-|el-|al |el )', '', s)
    return re.sub(r'[\s\-]', '', s)


def c2(n):
    return n * (n - 1) // 2


def prf(tp, pred, actual):
    p = tp / pred if pred else 1.0
    r = tp / actual if actual else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def main():
    data_path, truth_path, clusters_path = sys.argv[1:4]
    label = sys.argv[4] if len(sys.argv) > 4 else 'engine'
    truth = {}
    fam = {}
    twin = {}
    with open(truth_path, encoding='utf-8') as f:
        for row in csv.DictReader(f):
            truth[row['record_id']] = row['entity_id']
            if row.get('family_id'):
                fam[row['entity_id']] = row['family_id']
                twin[row['entity_id']] = row.get('twin') == '1'
    if not fam:
        votes = defaultdict(Counter)
        dob = defaultdict(Counter)
        with open(data_path, encoding='utf-8') as f:
            for row in csv.DictReader(f):
                e = truth[row['record_id']]
                votes[e][(rough_norm(row['father_name']), rough_norm(row['family_name']))] += 1
                dob[e][row['birth_date']] += 1
        for e, c in votes.items():
            fam[e] = c.most_common(1)[0][0]
        by_fam = defaultdict(list)
        for e in votes:
            by_fam[fam[e]].append(e)
        for f_, es in by_fam.items():
            d = Counter(dob[e].most_common(1)[0][0] for e in es)
            for e in es:
                twin[e] = d[dob[e].most_common(1)[0][0]] > 1 and dob[e].most_common(1)[0][0] != ''
    with open(data_path, encoding='utf-8') as f:
        present = {row['record_id'] for row in csv.DictReader(f)}
    truth = {r: e for r, e in truth.items() if r in present}
    clus = {}
    with open(clusters_path, encoding='utf-8') as f:
        for row in csv.DictReader(f):
            clus[row['record_id']] = row['cluster_id']
    missing = set(truth) - set(clus)
    if missing:
        print(f'{label}: {len(missing)} records missing from the clusters file', file=sys.stderr)
        sys.exit(1)
    ent_n = Counter(truth.values())
    fam_children = Counter(fam[e] for e in ent_n)
    cl_n = Counter(clus.values())
    ce = Counter((clus[r], truth[r]) for r in truth)
    tp = sum(c2(n) for n in ce.values())
    pred = sum(c2(n) for n in cl_n.values())
    actual = sum(c2(n) for n in ent_n.values())
    p, r, f = prf(tp, pred, actual)
    print(f'{label:<28} all       P {p:.4f}  R {r:.4f}  F1 {f:.4f}  '
          f'(pairs: true {actual}, predicted {pred}, correct {tp})')
    for kind in ('siblings', 'twins'):
        def keep(e):
            if kind == 'siblings':
                return fam_children[fam[e]] > 1
            return twin.get(e, False)
        recs = [r_ for r_ in truth if keep(truth[r_])]
        fc = Counter((fam[truth[r_]], clus[r_]) for r_ in recs)
        pred_s = sum(c2(n) for n in fc.values())
        ce_s = Counter((clus[r_], truth[r_]) for r_ in recs)
        tp_s = sum(c2(n) for n in ce_s.values())
        act_s = sum(c2(n) for e, n in ent_n.items() if keep(e))
        ps, rs, fs = prf(tp_s, pred_s, act_s)
        print(f'{label:<28} {kind:<9} P {ps:.4f}  R {rs:.4f}  F1 {fs:.4f}  '
              f'(records {len(recs)}, false merges inside families {pred_s - tp_s})')


if __name__ == '__main__':
    main()
