#!/bin/bash
# flux-core's own Python tests (t/python/tNNNN-*.py) against our flux and
# our `flux` package: one line per file with its TAP counts. Needs a
# flux-core source tree (../shared/conformance/README.md says how to get
# one); not part of make test.
#
#   scripts/conformance-python.sh [-b FLUX_CORE_BUILD] FLUX_CORE_SRC [tNNNN-name ...]
#
# The tests see FLUX_SOURCE_DIR=FLUX_CORE_SRC (t0010, t0016 read jobspecs
# from its t/jobspec) and, with -b, FLUX_BUILD_DIR=FLUX_CORE_BUILD (t0014
# loads a jobtap plugin built there).
set -u
build=
if [ "${1:-}" = -b ]; then build=${2:?-b needs a directory}; shift 2; fi
src=${1:?usage: $0 [-b FLUX_CORE_BUILD] FLUX_CORE_SRC [tNNNN-name ...]}; shift
src=$(cd "$src" && pwd)
[ -n "$build" ] && build=$(cd "$build" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
flux=${FLUX:-$here/build/bin/flux}
tdir=$src/t/python
logs=$(mktemp -d "${TMPDIR:-/tmp}/flux-pytests.XXXXXX")
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=($(cd "$tdir" && ls t[0-9]*.py | sed 's/\.py$//'))
pass=0 total=0
for t in "${tests[@]}"; do
  size=$(grep -A1 "def __flux_size" "$tdir/$t.py" | grep -o "return [0-9]*" | grep -o "[0-9]*")
  (cd "$logs" && timeout 180 env IN_SUBFLUX=1 PYTHONPATH="$tdir:$tdir/tap" \
     FLUX_SOURCE_DIR="$src" ${build:+FLUX_BUILD_DIR="$build"} \
     "$flux" start -s"${size:-1}" "$flux" python "$tdir/$t.py" > "$logs/$t.log" 2>&1)
  rc=$?
  ok=$(grep -c '^ok' "$logs/$t.log"); bad=$(grep -c '^not ok' "$logs/$t.log")
  pass=$((pass + ok)); total=$((total + ok + bad))
  printf '%-36s %s %d/%d\n' "$t" "$([ $rc -eq 0 ] && echo PASS || echo FAIL)" "$ok" $((ok + bad))
done
echo "python conformance: $pass of $total cases passed; logs in $logs"
