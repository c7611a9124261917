#!/bin/sh
# make run: start an instance and show it working.
set -e
BUILD=${1:-build}
FLUX="$BUILD/bin/flux"
echo "== flux start: a one-broker instance running a short script"
"$FLUX" start sh -c '
  echo "instance size:  $(flux getattr size)"
  echo "broker version: $(flux getattr version)"
  echo "local URI:      $FLUX_URI"
  flux ping --count=3 --interval=0.1 broker
  flux logger "hello from make run"
  flux dmesg | tail -n 2
  echo "module list:"
  flux module list
  echo "== jobs (simulated execution until real execution lands):"
  sim=--setattr=system.exec.test.run_duration=0.1s
  flux resource info || true
  id=$(flux submit $sim hostname)
  echo "submitted $id"
  flux job wait-event -t 10 $id clean >/dev/null
  flux job eventlog $id
  flux submit --cc=1-100 --quiet --setattr=system.exec.test.run_duration=0.001s true
  flux queue drain
  flux jobs -a -c 5 || true
'
echo "== exit codes pass through: flux start sh -c \"exit 3\""
"$FLUX" start sh -c 'exit 3' || echo "flux start exited with $?"
echo "== try it yourself: $FLUX start   (an interactive shell in a new instance)"
