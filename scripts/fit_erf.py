#!/usr/bin/env python3
"""scripts/fit_erf.py - the erf table of engine/kern_internal.h (kern_erf_tab).

erf on [0, 4) in PIECES pieces of width 4 / PIECES; on piece i, a polynomial of
degree DEG in t = a - (i + 1/2) * width, fitted by Chebyshev interpolation
(mpmath.chebyfit, 40 significant digits) and rounded to float. Prints the
fit error on stderr and the table, a row per power of t, on stdout.

Needs python3-mpmath (Debian). The float-arithmetic check over every float of
[0, 4) against erfl is the C loop described next to the table; the kernels'
agreement with libm is tests/engine/test_kern.c.

usage: scripts/fit_erf.py [PIECES [DEG]]   (default 16 5)
"""
import struct
import sys

import mpmath as mp

mp.mp.dps = 40
PIECES = int(sys.argv[1]) if len(sys.argv) > 1 else 16
DEG = int(sys.argv[2]) if len(sys.argv) > 2 else 5
W = 4.0 / PIECES


def f32(x):
    return struct.unpack('f', struct.pack('f', float(x)))[0]


table, worst = [], 0.0
for i in range(PIECES):
    c = (i + 0.5) * W
    poly, err = mp.chebyfit(lambda t, c=c: mp.erf(c + t), [-W / 2, W / 2], DEG + 1, error=True)
    table.append([f32(p) for p in reversed(poly)])  # ascending powers of t
    worst = max(worst, float(err))
print('fit error (before rounding to float): %.3g' % worst, file=sys.stderr)
for d in range(DEG + 1):
    print('    {' + ', '.join('%.9ef' % table[i][d] for i in range(PIECES)) + '},')
