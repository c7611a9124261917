#!/bin/sh
# Run inside an instance (flux start bench/throughput_sim.sh N PREFILL):
# PREFILL simulated jobs are run to completion first (in bursts of 1000),
# then N are submitted at once and run until all are inactive. Prints the
# wall-clock times "t0 t_submitted t_drained".
set -e
n=${1:-1000}
prefill=${2:-0}
sim=--setattr=system.exec.test.run_duration=0.001s
i=0
while [ "$i" -lt "$prefill" ]; do
  flux submit --cc=1-1000 --quiet $sim true
  flux queue drain
  i=$((i + 1000))
done
t0=$(date +%s.%N)
flux submit --cc=1-"$n" --quiet $sim true
t1=$(date +%s.%N)
flux queue drain
t2=$(date +%s.%N)
echo "$t0 $t1 $t2"
