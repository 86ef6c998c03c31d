#!/usr/bin/env python3
# make bench-profile: where the instructions of a registration cycle go, C
# against Rust. Reads the function_graph traces harness/guest/profile takes
# under QEMU's instruction counting (a duration of 1 ns is one guest
# instruction) and prints, for each reg_N and each syscall of its cycle
# (create, update, delete, close), the median over the traced cycles of:
#   - total: the traced syscall entries (__x64_sys_bpf, and for close
#     __x64_sys_close and task_work_run, which runs the deferred fput);
#   - own: total minus the traced functions they call, which is the
#     implementation's own code and whatever it calls that is not traced;
#   - each traced function: calls and instructions, inclusive.
# Tracing costs a few hundred instructions per traced call, in both kernels
# alike; read the differences, not the absolute numbers.
#
# usage: bench-profile.py C_TRACE RUST_TRACE
import re
import sys
from statistics import median

LINE = re.compile(r"^\s*\d+\)\s+(?:[-+!#*@$]\s*)?(?:([\d.]+) us\s+)?\|\s+(.*?)\s*$")


def segments(path):
    """Yields (marker, [(depth, name, insns)]) per marked syscall."""
    key, calls, stack = None, [], []
    for line in open(path, errors="replace"):
        m = LINE.match(line)
        if not m:
            continue
        dur, body = m.group(1), m.group(2)
        if body.startswith("/*") and body.endswith("*/"):
            if key:
                yield key, calls
            key, calls, stack = body[2:-2].strip(), [], []
        elif body.endswith("() {"):
            stack.append(body[:-4])
        elif body.endswith("();") and dur:
            calls.append((len(stack), body[:-3], round(float(dur) * 1000)))
        elif body.startswith("}") and dur and stack:
            calls.append((len(stack) - 1, stack.pop(), round(float(dur) * 1000)))
    if key:
        yield key, calls


def profile(path):
    """{(reg, step): {row: [value per cycle]}}, rows "total", "own",
    "NAME insns" and "NAME calls"."""
    out = {}
    for key, calls in segments(path):
        rows = {"total": 0, "own": 0}
        for depth, name, n in calls:
            if depth == 0:
                rows["total"] += n
                rows["own"] += n
            elif depth == 1:
                rows["own"] -= n
            rows[name + " insns"] = rows.get(name + " insns", 0) + n
            rows[name + " calls"] = rows.get(name + " calls", 0) + 1
        per = out.setdefault(tuple(key.split()), {})
        for row, v in rows.items():
            per.setdefault(row, []).append(v)
    return out


def main():
    c, rust = profile(sys.argv[1]), profile(sys.argv[2])
    steps = ["create", "update", "delete", "close"]
    keys = sorted({k for k in list(c) + list(rust) if len(k) == 2},
                  key=lambda k: (int(k[0].split("_")[-1]), steps.index(k[1])
                                 if k[1] in steps else 9))
    print("Guest instructions per syscall of a registration cycle (QEMU icount,")
    print("ftrace function_graph on the functions of harness/guest/profile.funcs):")
    print("median over the traced cycles; calls per syscall; inclusive counts.")
    for k in keys:
        a, b = c.get(k, {}), rust.get(k, {})
        print(f"\n{k[0]} {k[1]} ({len(a.get('total', []))} cycles C, "
              f"{len(b.get('total', []))} Rust)")
        print(f"  {'':38} {'C':>10} {'Rust':>10} {'Rust-C':>9} {'Rust/C':>7}")
        rows = ["total", "own"] + sorted(
            {r for r in list(a) + list(b) if r.endswith(" insns")},
            key=lambda r: -max(median(a.get(r, [0])), median(b.get(r, [0]))))
        for r in rows:
            n = len(a.get("total", [])) or 1
            m = len(b.get("total", [])) or 1
            # A function a cycle does not call counts as 0 there.
            x = median(a.get(r, []) + [0] * (n - len(a.get(r, [])))) if a else 0
            y = median(b.get(r, []) + [0] * (m - len(b.get(r, [])))) if b else 0
            label = r
            if r.endswith(" insns"):
                name = r[:-6]
                cc = median(a.get(name + " calls", [0]))
                rc = median(b.get(name + " calls", [0]))
                label = f"{name} ({cc:g}/{rc:g} calls)"
            ratio = f"{y / x:7.3f}" if x else "      -"
            print(f"  {label[:38]:38} {x:10.0f} {y:10.0f} {y - x:+9.0f} {ratio}")


if __name__ == "__main__":
    main()
