#!/bin/sh
# Run inside an instance: N sequential `flux run [-N NODES] true`; prints
# each one's wall time in seconds, one per line.
n=${1:-20}
nodes=${2:-}
set -- ${nodes:+-N $nodes}
flux run "$@" true  # warm up: first exec of the shell and the commands
i=0
while [ "$i" -lt "$n" ]; do
  t0=$(date +%s.%N)
  flux run "$@" true
  t1=$(date +%s.%N)
  echo "$t0 $t1" | awk '{printf "%.6f\n", $2 - $1}'
  i=$((i + 1))
done
