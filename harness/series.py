#!/usr/bin/env python3
# The patch series, generated from this repo (patches/series/manifest) and checked.
#
#   series.py make  REPO WORK OUTDIR      git repo of the base tree, one commit
#                                         per patch, git format-patch to OUTDIR
#   series.py check REPO WORK OUTDIR      git am on a fresh base tree, tree
#                                         equals what `make kernel` builds,
#                                         checkpatch, and (BISECT=1) a build of
#                                         every step, Rust map on and off
#
# WORK holds the trees: gen (the generating repo), final (the tree
# prepare-tree.sh makes, as for `make kernel`), linux (the git am'd tree;
# named so that ccache finds the objects of build/linux), rust and c (its
# build dirs).
import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

# Debian's linux-source-7.3, as harness/deps.sh fetched it.
TARBALL = "build/trixie/src/usr/src/linux-source-7.3.tar.xz"
DOTFILES = {".extracted", ".patches", ".overlay-files", ".base-version", ".git"}


def log(msg):
    print(f"series: {msg}", flush=True)


def die(msg):
    print(f"series: error: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def run(cmd, cwd=None, env=None, quiet=False, check=True):
    r = subprocess.run(cmd, cwd=cwd, env=env, text=True,
                       stdout=subprocess.PIPE if quiet else None,
                       stderr=subprocess.STDOUT if quiet else None)
    if check and r.returncode != 0:
        if quiet and r.stdout:
            print(r.stdout[-4000:], file=sys.stderr)
        die(f"failed: {' '.join(cmd)}")
    return r


def git_out(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], check=True, text=True,
                          stdout=subprocess.PIPE).stdout.strip()


def identity(repo):
    name = git_out(repo, "config", "user.name")
    email = git_out(repo, "config", "user.email")
    date = git_out(repo, "log", "-1", "--format=%cI")
    return name, email, date


def git_env(repo):
    name, email, date = identity(repo)
    env = dict(os.environ)
    env.update(GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
               GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email,
               GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    return env


def base_repo(repo, path, env):
    """A git repo of the freshly extracted base tree, its one commit tagged base."""
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)
    t = time.time()
    run(["tar", "xf", os.path.join(repo, TARBALL), "-C", path, "--strip-components=1"])
    run(["git", "init", "-q", path])
    run(["git", "-C", path, "config", "core.autocrlf", "false"])
    run(["git", "-C", path, "config", "gc.auto", "0"])
    run(["git", "-C", path, "add", "-A", "-f", "."], env=env)
    version = subprocess.run(["make", "-s", "-C", path, "kernelversion"], text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.strip()
    run(["git", "-C", path, "commit", "-q", "-m", f"Linux {version} (Debian linux-source-7.3)"],
        env=env)
    run(["git", "-C", path, "tag", "base"])
    log(f"base tree {version} in {path} ({int(time.time() - t)} s)")


# --- the manifest ---

class Patch:
    def __init__(self, name):
        self.name = name
        self.files = []   # whole files (paths or globs)
        self.rules = []   # (path, compiled regex)


def read_manifest(repo):
    patches = []
    with open(os.path.join(repo, "patches", "series", "manifest")) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            words = line.split(None, 2)
            if words[0] == "patch":
                patches.append(Patch(words[1]))
            elif not patches:
                die(f"manifest:{n}: a file before any patch")
            elif words[0] == "lines":
                if len(words) != 3:
                    die(f"manifest:{n}: lines PATH REGEX")
                patches[-1].rules.append((words[1], re.compile(words[2])))
            else:
                patches[-1].files.append(line.strip())
    return patches


def touched_files(repo, final):
    """Every file our tree differs from the base in: the overlay and patches/upstream-edits/."""
    files = set(open(os.path.join(final, ".overlay-files")).read().split())
    pdir = os.path.join(repo, "patches", "upstream-edits")
    for line in open(os.path.join(pdir, "series")):
        p = line.strip()
        if not p or p.startswith("#"):
            continue
        for l in open(os.path.join(pdir, p)):
            if l.startswith("+++ "):
                files.add(l[4:].strip().split("\t")[0][2:])
    return sorted(files)


def assign(patches, files):
    owner = {}
    for k, p in enumerate(patches):
        for pat in p.files:
            hits = [f for f in files if fnmatch.fnmatchcase(f, pat)]
            if not hits:
                die(f"manifest: {p.name}: {pat} matches no file of the tree")
            for f in hits:
                if f in owner:
                    die(f"manifest: {f} claimed by {patches[owner[f]].name} and {p.name}")
                owner[f] = k
        for path, _ in p.rules:
            if path not in owner or owner[path] > k:
                die(f"manifest: {p.name}: lines of {path} before the patch that adds it")
    missing = [f for f in files if f not in owner]
    if missing:
        die("manifest: not in any patch: " + " ".join(missing))
    return owner


def read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read().splitlines(keepends=True)
    except FileNotFoundError:
        return None


def content_at(k, f, patches, final, base):
    """File f as patch k leaves it (None: absent)."""
    lines = read_lines(os.path.join(final, f))
    if lines is None:
        return None
    later = [rx for p in patches[k + 1:] for path, rx in p.rules if path == f]
    if not later:
        return lines
    base_lines = set(read_lines(os.path.join(base, f)) or [])
    out = []
    for l in lines:
        if any(rx.search(l.rstrip("\n")) for rx in later):
            if l in base_lines:
                die(f"manifest: a rule claims a line of {f} the base tree has: {l.strip()}")
            continue
        out.append(l)
    return out


def write_lines(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.writelines(lines)


def prepare_final(repo, final):
    run([os.path.join(repo, "harness", "prepare-tree.sh"), repo, final], quiet=True)


def make(repo, work, outdir):
    env = git_env(repo)
    name, email, _ = identity(repo)
    final = os.path.join(work, "final")
    gen = os.path.join(work, "gen")
    prepare_final(repo, final)
    if not os.path.isdir(os.path.join(gen, ".git")):
        base_repo(repo, gen, env)
    run(["git", "-C", gen, "checkout", "-q", "-f", "-B", "series", "base"])
    run(["git", "-C", gen, "clean", "-q", "-fdx"])

    patches = read_manifest(repo)
    files = touched_files(repo, final)
    owner = assign(patches, files)
    # The base version of every file a rule touches, before any commit.
    basecopy = os.path.join(work, "base-files")
    shutil.rmtree(basecopy, ignore_errors=True)
    for f in files:
        src = os.path.join(gen, f)
        if os.path.exists(src):
            os.makedirs(os.path.dirname(os.path.join(basecopy, f)), exist_ok=True)
            shutil.copy2(src, os.path.join(basecopy, f))

    for k, p in enumerate(patches):
        for f in files:
            if owner[f] > k:
                continue
            lines = content_at(k, f, patches, final, basecopy)
            dst = os.path.join(gen, f)
            if lines is None:
                if os.path.exists(dst):
                    os.remove(dst)
            else:
                write_lines(dst, lines)
                shutil.copymode(os.path.join(final, f), dst)
        run(["git", "-C", gen, "add", "-A", "-f", "--", *sorted({f.split("/")[0] for f in files})],
            env=env)
        if not git_out(gen, "diff", "--cached", "--name-only"):
            die(f"{p.name} adds nothing")
        msg = open(os.path.join(repo, "patches", "series", "msg", p.name)).read().rstrip("\n")
        msg += f"\n\nSigned-off-by: {name} <{email}>\n"
        subprocess.run(["git", "-C", gen, "commit", "-q", "-F", "-"], input=msg, text=True,
                       env=env, check=True)

    # The last commit is the tree `make kernel` builds from.
    diff = git_out(gen, "status", "--porcelain")
    if diff:
        die("generated tree differs from the overlay:\n" + diff)

    shutil.rmtree(outdir, ignore_errors=True)
    run(["git", "-C", gen, "format-patch", "-q", "--cover-letter", "--subject-prefix=PATCH",
         "--no-signature", "-o", outdir, "base..series"], env=env)
    cover_letter(os.path.join(repo, "patches", "series", "cover-letter"), outdir, repo)
    for f in sorted(os.listdir(outdir)):
        log(f"{outdir}/{f}")
    make_fixes(repo, gen, outdir + "-fixes", env, name, email)


def fix_names(repo):
    return [l.strip() for l in open(os.path.join(repo, "patches", "fixes", "series"))
            if l.strip() and not l.startswith("#")]


def make_fixes(repo, gen, outdir, env, name, email):
    """The fixes of 7.3's C, for the bpf tree: one commit each on the base."""
    run(["git", "-C", gen, "checkout", "-q", "-f", "-B", "fixes", "base"])
    run(["git", "-C", gen, "clean", "-q", "-fdx"])
    for f in fix_names(repo):
        run(["git", "-C", gen, "apply", "--index", os.path.join(repo, "patches", "fixes", f + ".patch")])
        msg = open(os.path.join(repo, "patches", "fixes", f + ".msg")).read().rstrip("\n")
        # In the trailer block of the Fixes: tag, if the message ends with one.
        sep = "\n" if re.match(r"[A-Za-z-]+: ", msg.splitlines()[-1]) else "\n\n"
        msg += f"{sep}Signed-off-by: {name} <{email}>\n"
        subprocess.run(["git", "-C", gen, "commit", "-q", "-F", "-"], input=msg, text=True,
                       env=env, check=True)
    shutil.rmtree(outdir, ignore_errors=True)
    run(["git", "-C", gen, "format-patch", "-q", "--cover-letter", "--subject-prefix=PATCH bpf",
         "--no-signature", "-o", outdir, "base..fixes"], env=env)
    cover_letter(os.path.join(repo, "patches", "fixes", "cover-letter"), outdir, repo)
    for f in sorted(os.listdir(outdir)):
        log(f"{outdir}/{f}")


def cover_letter(source, outdir, repo):
    text = open(source).read()
    subject, _, body = text.partition("\n")
    justified = os.path.join(os.path.dirname(source), "checkpatch-justified")
    if os.path.exists(justified):
        notes = [l.rstrip("\n") for l in open(justified) if l.strip() and not l.startswith("#")]
        body = body.replace("@CHECKPATCH@", "\n".join(notes))
    path = [os.path.join(outdir, f) for f in os.listdir(outdir) if f.startswith("0000-")][0]
    letter = open(path).read()
    letter = letter.replace("*** SUBJECT HERE ***", subject.strip())
    letter = letter.replace("*** BLURB HERE ***", body.strip("\n"))
    open(path, "w").write(letter)


# --- the checks ---

def patches_in(outdir):
    return [os.path.join(outdir, f) for f in sorted(os.listdir(outdir))
            if f.endswith(".patch") and not f.startswith("0000-")]


def compare_trees(a, b):
    """Files that differ between two trees (dotfiles of prepare-tree.sh and .git aside)."""
    r = subprocess.run(["diff", "-rq", "--no-dereference"] +
                       [f"--exclude={x}" for x in sorted(DOTFILES)] + [a, b],
                       text=True, stdout=subprocess.PIPE)
    return r.stdout.strip()


def checkpatch(justified, tree, outdir):
    allowed = {}
    if os.path.exists(justified):
        # "- TYPE: why" for every patch, "- TYPE 0009 0011: why" for some.
        for l in open(justified):
            m = re.match(r"- ([A-Z_]+)((?: \d{4})*):", l)
            if m:
                allowed[m.group(1)] = m.group(2).split() or None
    bad = 0
    for p in patches_in(outdir):
        r = subprocess.run([os.path.join(tree, "scripts", "checkpatch.pl"), "--strict",
                            "--show-types", "--no-summary", "--terse", p], cwd=tree, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        findings = [l for l in r.stdout.splitlines() if re.search(r": (ERROR|WARNING|CHECK):", l)]
        num = os.path.basename(p)[:4]
        left = [l for l in findings
                if not any(f":{t}:" in l and (nums is None or num in nums)
                           for t, nums in allowed.items())]
        kinds = {k: sum(f": {k}:" in l for l in findings) for k in ("ERROR", "WARNING", "CHECK")}
        just = len(findings) - len(left)
        log(f"checkpatch {os.path.basename(p)}: {kinds['ERROR']} errors, {kinds['WARNING']} "
            f"warnings, {kinds['CHECK']} checks ({just} justified in the cover letter)")
        for l in left:
            print("    " + l)
        bad += len(left)
    return bad


# The kernel's LLVM: harness/kmake.sh's kllvm (rustc's LLVM major).
KLLVM = "22"


def kmake(tree, out, *args, logf=None):
    env = dict(os.environ)
    env.update(LIBCLANG_PATH=f"/usr/lib/llvm-{KLLVM}/lib", CCACHE_BASEDIR=os.path.dirname(tree),
               CCACHE_NOHASHDIR="true", CCACHE_COMPILERCHECK="content",
               PATH=f"/usr/lib/llvm-{KLLVM}/bin:" + env["PATH"])
    cmd = ["make", "-C", tree, f"O={out}", f"LLVM=-{KLLVM}", f"CC=ccache clang-{KLLVM}",
           f"PAHOLE={os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}/build/trixie/bin/pahole",
           "RUSTC=/usr/bin/rustc", "RUSTDOC=/usr/bin/rustdoc",
           f"BINDGEN={os.environ['HOME']}/.cargo/bin/bindgen", *args]
    return subprocess.run(cmd, env=env, text=True, stdout=logf, stderr=subprocess.STDOUT)


WARN_RE = re.compile(r"(^|\s)(warning|WARNING|WARN)[:\s]|^error|: error:")


def warnings_of(logpath, tree, out):
    seen = []
    for l in open(logpath, errors="replace"):
        if WARN_RE.search(l):
            seen.append(l.replace(tree, "SRC").replace(out, "OUT").strip())
    return seen


def bisect(repo, work, tree):
    """Builds every commit from base to the series' last, the Rust map and
    TCP type on and off."""
    configs = {cfg: [os.path.join(repo, "harness", f"{kind}-{cfg}.config")
                     for kind in ("impl", "tcp")]
               for cfg in ("rust", "c")}
    commits = ["base"] + git_out(tree, "rev-list", "--reverse", "base..HEAD").split()
    head = git_out(tree, "rev-parse", "HEAD")
    baseline = {}
    bad = 0
    for i, c in enumerate(commits):
        run(["git", "-C", tree, "checkout", "-q", c])
        subj = git_out(tree, "log", "-1", "--format=%s", c)
        for cfg, frag in configs.items():
            out = os.path.join(work, cfg)
            os.makedirs(out, exist_ok=True)
            if not os.path.exists(os.path.join(out, ".config")):
                kmake(tree, out, "tinyconfig", logf=subprocess.DEVNULL)
                env = dict(os.environ, KCONFIG_CONFIG=os.path.join(out, ".config"))
                run([os.path.join(tree, "scripts", "kconfig", "merge_config.sh"), "-m", "-O", out,
                     os.path.join(out, ".config"), os.path.join(repo, "harness", "kernel.config"),
                     *frag], env=env, quiet=True)
                shutil.copy(os.path.join(out, ".config"), os.path.join(out, ".config.wanted"))
            # Every step starts from the same wanted config; kconfig drops the
            # option while the tree does not have it yet.
            shutil.copy(os.path.join(out, ".config.wanted"), os.path.join(out, ".config"))
            kmake(tree, out, "olddefconfig", logf=subprocess.DEVNULL)
            cfgtext = open(os.path.join(out, ".config")).read()
            has = "CONFIG_BPF_STRUCT_OPS_RUST=y" in cfgtext
            has_tcp = "CONFIG_BPF_TCP_CA_RUST=y" in cfgtext
            logpath = os.path.join(out, f"step{i:02d}.log")
            t = time.time()
            with open(logpath, "w") as lf:
                r = kmake(tree, out, "CLIPPY=1", "CLIPPY_DRIVER=/usr/bin/clippy-driver",
                          f"-j{os.cpu_count() + 1}", "bzImage", "modules", logf=lf)
            warns = warnings_of(logpath, tree, out)
            if c == "base":
                baseline[cfg] = set(warns)
            new = [w for w in warns if w not in baseline[cfg]]
            status = "ok" if r.returncode == 0 and not new else "FAILED"
            log(f"bisect {i:02d} {cfg:4s} (BPF_STRUCT_OPS_RUST={'y' if has else 'n'}, "
                f"BPF_TCP_CA_RUST={'y' if has_tcp else 'n'}): "
                f"{status}, {int(time.time() - t)} s, {len(new)} new warnings: {subj}")
            for w in new[:20]:
                print("    " + w)
            if r.returncode != 0:
                subprocess.run(["tail", "-20", logpath])
            if status != "ok":
                bad += 1
    run(["git", "-C", tree, "checkout", "-q", head])
    return bad


def readme_git_am(repo, tree, outdir, env):
    """The README's own-tree command, as a user copies it: its `S=` and `git am`
    lines, with S set to outdir, run by bash on a branch of the fresh base
    tree; the result must be the tree our own git am made. 0 if it is."""
    lines = open(os.path.join(repo, "README.md")).read().splitlines()
    am = [l.strip() for l in lines if l.strip().startswith("git am ") and "$S/" in l]
    if len(am) != 1:
        log(f"README: {len(am)} 'git am $S/...' lines, expected one")
        return 1
    cmd = am[0].split("#")[0].strip()
    want = git_out(tree, "rev-parse", "HEAD^{tree}")
    head = git_out(tree, "rev-parse", "HEAD")
    run(["git", "-C", tree, "checkout", "-q", "-b", "readme-check", "base"])
    r = subprocess.run(["bash", "-c", f"S={shlex.quote(outdir)}; {cmd}"], cwd=tree, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    got = git_out(tree, "rev-parse", "HEAD^{tree}")
    n = len(git_out(tree, "rev-list", "base..HEAD").split())
    if r.returncode != 0:
        print(r.stdout[-2000:])
        run(["git", "-C", tree, "am", "--abort"], check=False)
    run(["git", "-C", tree, "checkout", "-q", head])
    run(["git", "-C", tree, "branch", "-q", "-D", "readme-check"])
    if r.returncode != 0 or got != want:
        log(f"README's '{cmd}': FAILED ({n} patches applied, "
            f"{'same' if got == want else 'a different'} tree)")
        return 1
    log(f"README's '{cmd}': {n} patches, the same tree")
    return 0


def check(repo, work, outdir):
    if not os.path.isdir(outdir) or not patches_in(outdir):
        die(f"no series in {outdir}; run make series")
    env = git_env(repo)
    tree = os.path.join(work, "linux")
    final = os.path.join(work, "final")
    prepare_final(repo, final)
    bad = 0

    base_repo(repo, tree, env)
    r = run(["git", "-C", tree, "am", "-q", "--whitespace=error-all", *patches_in(outdir)],
            env=env, check=False)
    if r.returncode != 0:
        die("git am failed")
    log(f"git am: {len(patches_in(outdir))} patches applied to a freshly extracted base tree")

    diff = compare_trees(tree, final)
    if diff:
        print(diff)
        log("tree after git am: DIFFERS from the tree make kernel builds from")
        bad += 1
    else:
        log("tree after git am: identical to the tree make kernel builds from")

    bad += readme_git_am(repo, tree, outdir, env)

    n = checkpatch(os.path.join(repo, "patches", "series", "checkpatch-justified"), tree, outdir)
    if n:
        log(f"checkpatch: {n} findings not justified")
        bad += 1
    else:
        log("checkpatch --strict: no unjustified errors, warnings or checks")

    # The fixes: on their own branch of the same fresh base tree.
    fixes = outdir + "-fixes"
    head = git_out(tree, "rev-parse", "HEAD")
    run(["git", "-C", tree, "checkout", "-q", "-b", "fixes-check", "base"])
    r = run(["git", "-C", tree, "am", "-q", "--whitespace=error-all", *patches_in(fixes)],
            env=env, check=False)
    if r.returncode != 0:
        die("git am of the fixes failed")
    log(f"git am: {len(patches_in(fixes))} fixes applied to the base tree")
    n = checkpatch(os.path.join(repo, "patches", "fixes", "checkpatch-justified"), tree, fixes)
    if n:
        log(f"checkpatch: {n} findings in the fixes")
        bad += 1
    run(["git", "-C", tree, "checkout", "-q", head])

    if os.environ.get("BISECT", "1") == "1":
        if bisect(repo, work, tree):
            bad += 1
        else:
            log("bisect: every step builds with the Rust map on and off, no new warnings")
    if bad:
        die(f"{bad} checks failed")
    log("series-check: passed")


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("make", "check"):
        die("usage: series.py make|check REPO WORK OUTDIR")
    cmd, repo, work, outdir = sys.argv[1:]
    repo, work, outdir = (os.path.abspath(x) for x in (repo, work, outdir))
    os.makedirs(work, exist_ok=True)
    (make if cmd == "make" else check)(repo, work, outdir)


if __name__ == "__main__":
    main()
