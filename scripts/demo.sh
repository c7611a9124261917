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
  echo "== jobs:"
  flux resource info
  flux run -n2 -l hostname
  id=$(flux submit echo "hello from a submitted job")
  echo "submitted $id"
  flux job attach $id
  flux job eventlog $id
  echo "== 100 jobs at once, then the last few:"
  flux submit --cc=1-100 --quiet true
  flux queue drain
  flux jobs -a -c 5
'
echo "== exit codes pass through: flux start sh -c \"exit 3\""
"$FLUX" start sh -c 'exit 3' || echo "flux start exited with $?"
echo "== try it yourself: $FLUX start   (an interactive shell in a new instance)"
