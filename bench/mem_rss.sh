#!/bin/sh
# Run inside an instance (flux start bench/mem_rss.sh MODE N): the rank-0
# broker's resident memory after N jobs, in MB. MODE run: N sequential
# `flux run true`; MODE sim: N simulated jobs, submitted 1000 at a time.
# Prints "RSS_BEFORE_MB RSS_AFTER_MB", the latter once the instance has been
# idle for 3 s (a broker may give memory back when a burst is over).
set -e
mode=$1
n=${2:-1000}
pid=$(flux getattr broker.pid)
rss() { awk '/^VmRSS:/ {printf "%.1f\n", $2 / 1024}' /proc/"$pid"/status; }
before=$(rss)
i=0
case "$mode" in
  run)
    while [ "$i" -lt "$n" ]; do flux run true; i=$((i + 1)); done ;;
  sim)
    while [ "$i" -lt "$n" ]; do
      flux submit --cc=1-1000 --quiet --setattr=system.exec.test.run_duration=0.001s true
      flux queue drain
      i=$((i + 1000))
    done ;;
  *) echo "mem_rss.sh: MODE is run or sim" >&2; exit 2 ;;
esac
flux queue drain
sleep 3
echo "$before $(rss)"
