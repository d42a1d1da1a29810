#!/usr/bin/python3
"""Prints a goal of issue 5 beside a measured figure: met or missed.

usage: goal.py acc EVAL_OUTPUT_FILE          P >= 0.99 and F1 >= 0.97 on the 'all' line
       goal.py max VALUE LIMIT TEXT          VALUE <= LIMIT
       goal.py min VALUE LIMIT TEXT          VALUE >= LIMIT
       goal.py within F1 BASE POINTS TEXT    F1 >= BASE - POINTS / 100
"""
import re
import sys


def say(ok, text):
    print(f'  goal: {text}: {"met" if ok else "MISSED"}')


def main():
    kind = sys.argv[1]
    if kind == 'acc':
        for line in open(sys.argv[2], encoding='utf-8'):
            m = re.search(r' all +P ([0-9.]+) +R ([0-9.]+) +F1 ([0-9.]+)', line)
            if m:
                p, f = float(m.group(1)), float(m.group(3))
                say(p >= 0.99 and f >= 0.97,
                    f'precision >= 0.99 and F1 >= 0.97 (P {p:.4f}, F1 {f:.4f})')
        return
    value, limit, text = float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    if kind == 'max':
        say(value <= limit, f'{text} (measured {value:g}, at most {limit:g})')
    elif kind == 'min':
        say(value >= limit, f'{text} (measured {value:g}, at least {limit:g})')
    elif kind == 'within':
        pts = float(sys.argv[4])
        text = sys.argv[5]
        say(value >= limit - pts / 100,
            f'{text} (F1 {value:.4f} vs {limit:.4f}: {100 * (limit - value):+.2f} points behind, '
            f'at most {pts:g})')


if __name__ == '__main__':
    main()
