#!/bin/sh
# Nested-instance workloads, run inside an instance (flux start sh THIS ...):
#   alloc N: N times `flux alloc -N1 flux run true`; prints each one's
#            start and end times
#   batch N: N one-line `flux batch` jobs, submitted then drained; prints
#            the start and end times
# Batch output files land in the current directory.
set -e
now() { date +%s.%N; }
case "$1" in
alloc)
  for i in $(seq "$2"); do
    t0=$(now)
    flux alloc -N1 flux run true >/dev/null
    echo "$t0 $(now)"
  done
  ;;
batch)
  t0=$(now)
  for i in $(seq "$2"); do flux batch -n1 --wrap true >/dev/null; done
  flux queue drain
  echo "$t0 $(now)"
  ;;
*) echo "usage: $0 alloc|batch N" >&2; exit 2 ;;
esac
