#!/usr/bin/python3
"""Baselines for the matching engine.

usage: baseline.py exact|jw DATA.csv CLUSTERS.csv

exact: records are the same child when their normalized first, father's,
       grandfather's and family names are all equal (the rough normalizer of
       eval.py: diacritics, alef, ta marbuta, ya, hamza, article).
jw:    Jaro-Winkler (python3-jellyfish) on the normalized full name >= 0.93,
       blocked on the first letters of the first and family names, linked
       transitively.
"""
import csv
import sys
import time
from collections import defaultdict

sys.path.insert(0, __file__.rsplit('/', 1)[0])
from eval import rough_norm  # noqa: E402


def main():
    mode, data, out = sys.argv[1:4]
    t0 = time.time()
    rows = list(csv.DictReader(open(data, encoding='utf-8')))
    ids = [r['record_id'] for r in rows]
    keys = [' '.join(rough_norm(r[c]) for c in ('first_name', 'father_name',
                                                  'grandfather_name', 'family_name'))
            for r in rows]
    parent = list(range(len(rows)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    if mode == 'exact':
        first = {}
        for i, k in enumerate(keys):
            if k in first:
                parent[find(i)] = find(first[k])
            else:
                first[k] = i
    else:
        import jellyfish
        blocks = defaultdict(list)
        for i, r in enumerate(rows):
            fn, fam = rough_norm(r['first_name']), rough_norm(r['family_name'])
            blocks[(fn[:1], fam[:1])].append(i)
        for members in blocks.values():
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    i, j = members[x], members[y]
                    if jellyfish.jaro_winkler_similarity(keys[i], keys[j]) >= 0.93:
                        parent[find(i)] = find(j)
    with open(out, 'w', encoding='utf-8', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['record_id', 'cluster_id'])
        for i in range(len(rows)):
            w.writerow([ids[i], ids[find(i)]])
    print(f'baseline {mode}: {len(rows)} records in {time.time() - t0:.2f} s', file=sys.stderr)


if __name__ == '__main__':
    main()
