#!/usr/bin/python3
"""Splits a generated data set into two organizations' files for linkage.

usage: split.py DATA.csv TRUTH.csv A.csv B.csv LINKS.csv [MAX_PER_SIDE]

Each child with two or more records puts one record in A and another in B
(a true link); children with one record go to A or B alternately. LINKS.csv
lists the true pairs (record_id_a,record_id_b).
"""
import csv
import sys
from collections import defaultdict


def main():
    data, truth, a_path, b_path, links_path = sys.argv[1:6]
    cap = int(sys.argv[6]) if len(sys.argv) > 6 else 10**12
    ent = {r['record_id']: r['entity_id'] for r in csv.DictReader(open(truth, encoding='utf-8'))}
    with open(data, encoding='utf-8') as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames
        by = defaultdict(list)
        for row in reader:
            by[ent[row['record_id']]].append(row)
    a, b, links = [], [], []
    flip = False
    for e, rows in by.items():
        if len(a) >= cap and len(b) >= cap:
            break
        if len(rows) >= 2:
            if len(a) < cap and len(b) < cap:
                a.append(rows[0])
                b.append(rows[1])
                links.append((rows[0]['record_id'], rows[1]['record_id']))
        else:
            side = b if flip else a
            if len(side) < cap:
                side.append(rows[0])
            flip = not flip
    for path, rows in ((a_path, a), (b_path, b)):
        with open(path, 'w', encoding='utf-8', newline='') as f:
            w = csv.DictWriter(f, fieldnames=header, lineterminator='\n')
            w.writeheader()
            w.writerows(rows)
    with open(links_path, 'w', encoding='utf-8', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['record_id_a', 'record_id_b'])
        w.writerows(links)


if __name__ == '__main__':
    main()
