#!/usr/bin/env bash
# usage: timed.sh PHASE CMD...: runs CMD and says how long the phase took.
phase=$1; shift
start=$(date +%s)
"$@"; rc=$?
echo "phase $phase: $(($(date +%s) - start)) s$([ $rc = 0 ] || echo " (failed, exit $rc)")" >&2
exit $rc
