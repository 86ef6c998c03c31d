#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Reads a guest's result stream and writes it out with each KTAP document
(st_hostile, st_stress and st_fault report in KTAP, through kselftest.h)
replaced by our result lines, as the kernel's own KTAP parser reads it
(tools/testing/kunit/kunit.py parse --json):

    ok NAME[ - detail]      or      not ok NAME - detail

A test's detail is its diagnostic line "# NAME: detail". A document the
parser finds errors in (fewer results than its plan: the program died) adds
"not ok <program>.ktap - ...". The kernel log the guest sends between
KUNIT-KERNEL-LOG-BEGIN and KUNIT-KERNEL-LOG-END (the KUnit suites that ran
at boot, the kernel crate's doctests among them) becomes one line per case
of each suite, "ok kunit.<suite>.<case>", and "not ok kunit.<suite> - suite
failed" for a suite that failed outside its cases. Other lines pass
through unchanged.

usage: ktap-results.py RESULTS KUNIT_PY
"""
import json
import os
import re
import subprocess
import sys
import tempfile

KTAP_LINE = re.compile(r'^((K?TAP version \d+)|(1\.\.\d+( # .*)?)|((not )?ok \d+\b.*)|(#.*)|(\s*))$')


def parse(doc, kunit):
    """Our result lines for one KTAP document (a list of lines)."""
    detail = {}
    for line in doc:
        m = re.match(r'^# ([\w.]+): (.*)$', line)
        if m:
            detail.setdefault(m.group(1), []).append(m.group(2))
    res = run_kunit(doc, kunit)
    if isinstance(res, str):
        return [f'not ok ktap.parse - {res}']
    lines, cases = [], []
    # Diagnostics that are no test's detail (kselftest's totals) stay.
    names = {m.group(2) for m in (re.match(r'^(not )?ok \d+ ([\w.]+)', line) for line in doc) if m}
    lines.extend(line for line in doc
                 if not KTAP_LINE.match(line)    # other output of the program
                 or line.startswith('#') and not re.match(r'^# ([\w.]+): ', line)
                 or (re.match(r'^# ([\w.]+): ', line) and
                     re.match(r'^# ([\w.]+): ', line).group(1) not in names))

    def walk(group):
        cases.extend(group.get('test_cases', []))
        for sub in group.get('sub_groups', []):
            walk(sub)
    walk(res)
    prog = next((c['name'].split('.')[0] for c in cases if c['name']), 'unnamed')
    for n, case in enumerate(cases, 1):
        name, status = case['name'], case['status']
        if not name and status == 'ERROR':
            continue    # the parser's own entry for a missing result, counted below
        name = name or f'{prog}.{n}'    # a result without a name still counts
        why = '; '.join(detail.get(name, []))
        if status == 'PASS':
            lines.append(f'ok {name}' + (f' - {why}' if why else ''))
        elif status == 'SKIP':
            lines.append(f'not ok {name} - skipped' + (f': {why}' if why else ''))
        else:
            lines.append(f'not ok {name} - ' + (why or status.lower()))
    misc = res.get('misc', {})
    if misc.get('errors') or misc.get('crashed'):
        lines.append(f'not ok {prog}.ktap - kunit.py parse: {misc.get("errors", 0)} errors, '
                     f'{misc.get("crashed", 0)} crashed (fewer results than planned: '
                     'the program died?)')
    return lines


def run_kunit(lines, kunit):
    """kunit.py parse --json of @lines: the parsed result, or an error string."""
    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, 'ktap'), os.path.join(tmp, 'json')
        with open(src, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        subprocess.run([sys.executable, kunit, 'parse', '--json=' + out, src],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        try:
            with open(out) as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            return f'kunit.py parse gave no result: {e}'


def group_failed(group):
    """Whether a group of the parser's JSON (it has no status) failed."""
    misc = group.get('misc', {})
    return bool(misc.get('failed') or misc.get('crashed') or misc.get('errors'))


def kernel_log(log, kunit):
    """Our result lines for the KUnit suites in the kernel log @log."""
    # Each column-0 KTAP header starts a document of its own (each module
    # that loads suites prints one); the parser reads one at a time.
    starts = [i for i, line in enumerate(log) if re.match(r'^K?TAP version \d+$', line)]
    if not starts:
        return ['not ok kunit.ktap - no KTAP in the kernel log']
    lines = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(log)
        lines.extend(kunit_document(log[start:end], kunit))
    return lines


def kunit_line(name, status, why=''):
    """Our result line for a KUnit case or suite of @status."""
    if status == 'PASS':
        return f'ok {name}'
    if status == 'SKIP':
        return f'not ok {name} - skipped'
    return f'not ok {name}' + (f' - {why}' if why else '')


def kunit_document(log, kunit):
    """Our result lines for one top-level KUnit KTAP document."""
    res = run_kunit(log, kunit)
    if isinstance(res, str):
        return [f'not ok kunit.parse - {res}']
    lines = []
    # A suite without cases (its init failed, or skipped whole) is a case of
    # the root.
    for suite in res.get('test_cases', []):
        lines.append(kunit_line(f'kunit.{suite["name"]}', suite['status'], 'suite failed'))
    for suite in res.get('sub_groups', []):
        failed = False
        for case in suite.get('test_cases', []):
            lines.append(kunit_line(f'kunit.{suite["name"]}.{case["name"]}', case['status']))
            failed = failed or case['status'] not in ('PASS', 'SKIP')
        # A parameterised case is a group of its own: one line for it.
        for case in suite.get('sub_groups', []):
            name = f'kunit.{suite["name"]}.{case["name"]}'
            bad = group_failed(case)
            lines.append(f'not ok {name}' if bad else f'ok {name}')
            failed = failed or bad
        if not failed and group_failed(suite):
            lines.append(f'not ok kunit.{suite["name"]} - suite failed')
    misc = res.get('misc', {})
    if misc.get('errors') or misc.get('crashed'):
        lines.append(f'not ok kunit.ktap - kunit.py parse: {misc.get("errors", 0)} errors, '
                     f'{misc.get("crashed", 0)} crashed')
    return lines


def main():
    results, kunit = sys.argv[1], sys.argv[2]
    with open(results, errors='replace') as f:
        stream = [line.rstrip('\r\n') for line in f]
    out, i = [], 0
    while i < len(stream):
        if stream[i] == 'KUNIT-KERNEL-LOG-BEGIN':
            j = i + 1
            while j < len(stream) and stream[j] != 'KUNIT-KERNEL-LOG-END':
                j += 1
            out.extend(kernel_log(stream[i + 1:j], kunit))
            i = j + 1
            continue
        if not re.match(r'^K?TAP version \d+$', stream[i]):
            out.append(stream[i])
            i += 1
            continue
        # The document: up to its plan's last result, or while lines are
        # KTAP's (a program that died leaves fewer results than planned).
        j, plan, seen = i + 1, None, 0
        while j < len(stream) and not re.match(r'^K?TAP version \d+$', stream[j]) and \
                stream[j] != 'KUNIT-KERNEL-LOG-BEGIN' and \
                (KTAP_LINE.match(stream[j]) or
                 # Other output of the program (a warning, "Bail out!") while
                 # results are still due, but not the next script's results.
                 (plan is not None and seen < plan and
                  not re.match(r'^(not )?ok [^\d]', stream[j]))) and \
                (plan is None or seen < plan):
            m = re.match(r'^1\.\.(\d+)( # .*)?$', stream[j])
            if m:
                plan = int(m.group(1))
            elif re.match(r'^(not )?ok \d+\b', stream[j]):
                seen += 1
            j += 1
        out.extend(parse(stream[i:j], kunit))
        i = j
    print('\n'.join(out))


if __name__ == '__main__':
    main()
