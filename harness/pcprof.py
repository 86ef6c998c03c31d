#!/usr/bin/env python3
# make bench-pcprof: every kernel instruction of st_bench's registration
# cycles, counted per function, C against Rust, Rust functions included
# (ftrace, which make bench-profile uses, cannot see them).
#
#   pcprof.py run OUT	boots OUT's kernel in mode pcprof (harness/guest/
#			pcprof) with QEMU's human monitor on a socket; when the
#			guest prints "# pcprof on" it switches QEMU to one
#			instruction per translation block and logs each block
#			run in the kernel's half of the address space
#			(-d exec, -dfilter), one line per instruction, into
#			OUT/logs/pcprof.N.log, until "# pcprof off"
#   pcprof.py report C_OUT RUST_OUT
#			per reg_N and step (create, update, delete, close, each
#			after a getppid() marker): instructions per cycle, in
#			all and per function (System.map; "[module/bpf]" for
#			addresses outside the kernel image), Rust against C
#
# An instruction is what QEMU executes as one: each iteration of a rep
# string instruction counts, as under -icount. Timer interrupts and the
# deferred work of earlier steps land in whichever step runs when they do,
# in both kernels alike; the mean over the cycles is shown.
import bisect
import os
import re
import socket
import subprocess
import sys
import time

CYCLES = 5  # st_bench's timed cycles per reg_N under ST_BENCH_PCPROF
STEPS = ["create", "update", "delete", "close"]
KERNEL_HALF = "0xffffffff80000000..0xffffffffffffffff"


def monitor(path, *cmds):
    """Runs human monitor commands, each after the previous one's prompt."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(path)
        got = b""
        for c in [None] + list(cmds):
            if c:
                s.sendall(c.encode() + b"\n")
            while got.count(b"(qemu)") < 1:
                more = s.recv(4096)
                if not more:
                    sys.exit("pcprof: QEMU's monitor closed")
                got += more
            got = got[got.index(b"(qemu)") + 6:]


def run(out):
    logs = os.path.join(out, "logs")
    os.makedirs(logs, exist_ok=True)
    sock = os.path.join(logs, "pcprof.monitor")
    ack_sock = os.path.join(logs, "pcprof.ack")
    results = os.path.join(logs, "pcprof.results")
    for f in os.listdir(logs):
        if f.startswith("pcprof.") and f.endswith(".log"):
            os.unlink(os.path.join(logs, f))
    # Instruction counting, as make bench ICOUNT=1 runs: timer interrupts
    # come per instruction executed, not per host second, so logging, which
    # slows the guest down a hundredfold, does not add ticks.
    env = dict(os.environ, QEMU_QUIET="1", QEMU_SMP="1", ICOUNT="1", QEMU_MONITOR=sock,
               KCMDLINE="tsc=reliable " + os.environ.get("KCMDLINE", ""),
               QEMU_EXTRA=f"-D {logs}/pcprof.boot.log -dfilter {KERNEL_HALF}"
               f" -chardev socket,id=ack,path={ack_sock},server=on,wait=off"
               f" -device isa-serial,chardev=ack")
    here = os.path.dirname(os.path.abspath(__file__))
    guest = subprocess.Popen([os.path.join(here, "qemu.sh"), out, "pcprof", "1200"], env=env)
    while not os.path.exists(ack_sock) and guest.poll() is None:
        time.sleep(0.05)
    ack = socket.socket(socket.AF_UNIX)
    ack.connect(ack_sock)
    seen, n = 0, 0
    while guest.poll() is None:
        time.sleep(0.1)
        try:
            lines = open(results, errors="replace").read().splitlines()
        except FileNotFoundError:
            continue
        for line in lines[seen:]:
            if line.strip() == "# pcprof on":
                monitor(sock, f"logfile {logs}/pcprof.{n}.log", "singlestep on",
                        "log exec,nochain")
                ack.sendall(b"go\n")
                n += 1
            elif line.strip() == "# pcprof off":
                monitor(sock, "log none", "singlestep off")
                ack.sendall(b"go\n")
        seen = len(lines)
    ack.close()
    if guest.returncode or n != 3:
        sys.exit(f"pcprof: guest exit {guest.returncode}, {n} logged runs (3 wanted)")


def symbols(out):
    addrs, names = [], []
    for line in open(os.path.join(out, "System.map")):
        a, t, name = line.split()
        if t in "tTwW":
            addrs.append(int(a, 16))
            names.append(name)
    order = sorted(range(len(addrs)), key=addrs.__getitem__)
    addrs = [addrs[i] for i in order]
    names = [names[i] for i in order]
    end = max(addrs) + 0x200000
    return addrs, names, end


PC = re.compile(r"\[[0-9a-f]+/([0-9a-f]+)/")


def profile(out):
    """{(reg, step): {function: instructions per cycle}}"""
    addrs, names, end = symbols(out)
    marker = addrs[names.index("__x64_sys_getppid")]
    prof = {}
    for n, reg in enumerate(["reg_1", "reg_10", "reg_40"]):
        counts, seg = [], None
        cache = {}
        with open(os.path.join(out, "logs", f"pcprof.{n}.log"), errors="replace") as f:
            for line in f:
                m = PC.search(line)
                if not m:
                    continue
                pc = int(m.group(1), 16)
                if pc == marker:
                    seg = 0 if seg is None else seg + 1
                    counts.append({})
                    continue
                if seg is None:
                    continue
                name = cache.get(pc)
                if name is None:
                    i = bisect.bisect_right(addrs, pc) - 1
                    name = names[i] if 0 <= i and pc < end else "[module/bpf]"
                    cache[pc] = name
                c = counts[seg]
                c[name] = c.get(name, 0) + 1
        # The last marker ends the last cycle's close.
        counts = counts[:CYCLES * len(STEPS)]
        if len(counts) != CYCLES * len(STEPS):
            sys.exit(f"pcprof: {out} {reg}: {len(counts)} steps logged")
        for i, c in enumerate(counts):
            per = prof.setdefault((reg, STEPS[i % len(STEPS)]), {})
            for name, v in c.items():
                per[name] = per.get(name, 0) + v / CYCLES
    return prof


def demangle(names):
    rust = sorted({n for n in names if n.startswith("_R")})
    if not rust:
        return {}
    try:
        r = subprocess.run(["llvm-cxxfilt-19"], input="\n".join(rust), text=True,
                           capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return {}
    plain = [re.sub(r"::h[0-9a-f]{16}$", "", d) for d in r.stdout.splitlines()]
    return dict(zip(rust, plain))


def report(c_out, rust_out, top=25):
    c, rust = profile(c_out), profile(rust_out)
    dm = demangle({n for p in list(c.values()) + list(rust.values()) for n in p})
    print("Kernel instructions per step of a registration cycle (QEMU logging each")
    print(f"instruction; mean over {CYCLES} cycles), per function, C against Rust.")
    print("Functions sorted by |Rust - C|; the rest folded into 'other'.")
    for key in sorted(c, key=lambda k: (int(k[0].split("_")[1]), STEPS.index(k[1]))):
        a, b = c[key], rust.get(key, {})
        ta, tb = sum(a.values()), sum(b.values())
        print(f"\n{key[0]} {key[1]}: C {ta:.0f}, Rust {tb:.0f}, Rust-C {tb - ta:+.0f}"
              f" ({tb / ta if ta else 0:.3f})")
        rows = sorted(set(a) | set(b), key=lambda n: -abs(b.get(n, 0) - a.get(n, 0)))
        for n in rows[:top]:
            x, y = a.get(n, 0), b.get(n, 0)
            if round(x) == round(y):
                continue
            print(f"  {dm.get(n, n)[:70]:70} {x:9.0f} {y:9.0f} {y - x:+8.0f}")
        rest = rows[top:]
        x, y = sum(a.get(n, 0) for n in rest), sum(b.get(n, 0) for n in rest)
        print(f"  {'other (' + str(len(rest)) + ' functions)':70} {x:9.0f} {y:9.0f} {y - x:+8.0f}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "run":
        run(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__ or "usage: pcprof.py run OUT | report C_OUT RUST_OUT")
