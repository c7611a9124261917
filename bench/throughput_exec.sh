#!/bin/sh
# Run inside an instance: N `true` jobs submitted at once, until all are
# inactive. Prints "t0 t_drained".
n=${1:-1000}
t0=$(date +%s.%N)
flux submit --cc=1-"$n" --quiet true
flux queue drain
t1=$(date +%s.%N)
echo "$t0 $t1"
