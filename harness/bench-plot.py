#!/usr/bin/env python3
# The bench plot: per figure, the Rust/C ratio of each round as a point and
# their median as a bar from 1.00, one panel per kind of rounds (wall clock,
# instructions). A ratio below 1.00 is Rust better where lower is better
# (times, instructions); for rates (higher is better) the label says so.
#
# usage: bench-plot.py RATIOS.tsv OUT.svg
#   RATIOS.tsv: kind<TAB>figure<TAB>round<TAB>ratio<TAB>better (bench.sh)
import sys
from statistics import median

TITLES = {"wall": "wall clock (Rust/C per round)",
          "icount": "guest instructions, QEMU icount (Rust/C per round)"}
LO, HI = 0.5, 1.5          # the axis; points outside are drawn at its edge


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def main():
    rows = {}
    better = {}
    for line in open(sys.argv[1]):
        kind, name, _, ratio, b = line.rstrip("\n").split("\t")
        rows.setdefault(kind, {}).setdefault(name, []).append(float(ratio))
        better[kind, name] = b
    kinds = [k for k in ("wall", "icount") if k in rows]
    row_h, label_w, plot_w, pad = 16, 190, 420, 24
    y = pad
    out = []
    for kind in kinds:
        names = list(rows[kind])
        out.append(f'<text x="{pad}" y="{y}" font-weight="bold">{esc(TITLES[kind])}</text>')
        y += 10
        top = y

        def xof(r):
            r = min(max(r, LO), HI)
            return label_w + (r - LO) / (HI - LO) * plot_w
        for i, name in enumerate(names):
            cy = y + i * row_h + row_h / 2
            rs = rows[kind][name]
            m = median(rs)
            x1, x0 = xof(m), xof(1.0)
            hib = better[kind, name] == "higher"
            out.append(f'<text x="{label_w - 6}" y="{cy + 4}" text-anchor="end">'
                       f'{esc(name)}{" (higher)" if hib else ""}</text>')
            out.append(f'<rect x="{min(x0, x1):.1f}" y="{cy - 5}" width="{abs(x1 - x0):.1f}" '
                       f'height="10" fill="#9bb7d4"/>')
            for r in rs:
                out.append(f'<circle cx="{xof(r):.1f}" cy="{cy}" r="2.5" fill="#1f3b5a"/>')
            out.append(f'<text x="{label_w + plot_w + 6}" y="{cy + 4}">{m:.3f}</text>')
        bottom = y + len(names) * row_h
        out.append(f'<line x1="{xof(1.0):.1f}" y1="{top}" x2="{xof(1.0):.1f}" y2="{bottom}" '
                   'stroke="#c0392b" stroke-width="1.5"/>')
        for t in (0.5, 0.75, 1.0, 1.25, 1.5):
            out.append(f'<text x="{xof(t):.1f}" y="{bottom + 12}" text-anchor="middle" '
                       f'fill="#555">{t:.2f}</text>')
        y = bottom + 12 + pad
    width = label_w + plot_w + 60
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{y}" fill="white"/>', *out,
           f'<text x="{pad}" y="{y - 8}" fill="#555">points: rounds; bar: median, from '
           '1.00 (red line); axis clipped to 0.5-1.5</text>', '</svg>']
    open(sys.argv[2], "w").write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
