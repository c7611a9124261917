#!/usr/bin/env bash
# Build and run one libFuzzer target for a bounded time.
#
#   run_fuzz.sh BUILD_DIR [TARGET]
#
# TARGET is message (flux::Message and FrameReader; the default), treeobj
# (RFC 11 tree objects), eventlog (RFC 18 eventlogs), idset (RFC 22 idsets),
# hostlist (RFC 29 hostlists), jobid (RFC 19 FLUIDs), jobspec (RFC 25
# jobspec and YAML) or rset (RFC 20 R).
# Environment: FUZZ_SECONDS (default 10 for message, 5 for idset, hostlist,
# jobid, jobspec, rset, request and taskmap, 6 for the others),
# CLANGXX (default clang++), FUZZ_JOBS_ARGS (extra libFuzzer arguments,
# optional).
# Exits non-zero if the build fails or the fuzzer finds a crash, leak,
# sanitizer error, timeout or round-trip mismatch; the reproducer is left in
# BUILD_DIR/artifacts/, named TARGET-crash-... and so on.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:?usage: run_fuzz.sh BUILD_DIR [message|treeobj|eventlog|idset|hostlist|jobid|jobspec|rset]}
target=${2:-message}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cxx=${CLANGXX:-clang++}
lib=$repo/src/libflux

common_hdrs=("$lib/result.hpp" "$lib/json.hpp" "$here/run_fuzz.sh")
libs=()
case $target in
  message)
    srcs=("$here/fuzz_message.cpp" "$lib/message.cpp")
    hdrs=("$lib/message.hpp")
    default_seconds=10
    ;;
  treeobj)
    srcs=("$here/fuzz_treeobj.cpp" "$lib/treeobj.cpp" "$lib/base64.cpp")
    hdrs=("$lib/treeobj.hpp" "$lib/base64.hpp" "$lib/json_check.hpp")
    default_seconds=6
    ;;
  eventlog)
    srcs=("$here/fuzz_eventlog.cpp" "$lib/eventlog.cpp")
    hdrs=("$lib/eventlog.hpp" "$lib/json_check.hpp")
    default_seconds=6
    ;;
  idset)
    srcs=("$here/fuzz_idset.cpp" "$lib/idset.cpp")
    hdrs=("$lib/idset.hpp")
    default_seconds=5
    ;;
  hostlist)
    srcs=("$here/fuzz_hostlist.cpp" "$lib/hostlist.cpp")
    hdrs=("$lib/hostlist.hpp")
    default_seconds=5
    ;;
  jobid)
    srcs=("$here/fuzz_jobid.cpp" "$lib/jobid.cpp")
    hdrs=("$lib/jobid.hpp" "$lib/jobid_tables.hpp" "$lib/json_check.hpp")
    default_seconds=5
    ;;
  jobspec)
    srcs=("$here/fuzz_jobspec.cpp" "$lib/jobspec.cpp" "$lib/yaml_json.cpp")
    hdrs=("$lib/jobspec.hpp" "$lib/yaml_json.hpp" "$lib/json_check.hpp")
    libs=(-lyaml-cpp)
    default_seconds=5
    ;;
  rset)
    srcs=("$here/fuzz_rset.cpp" "$lib/rset.cpp" "$lib/idset.cpp" "$lib/hostlist.cpp")
    hdrs=("$lib/rset.hpp" "$lib/idset.hpp" "$lib/hostlist.hpp" "$lib/json_check.hpp"
          "$lib/printable.hpp")
    default_seconds=5
    ;;
  taskmap)
    srcs=("$here/fuzz_taskmap.cpp" "$lib/taskmap.cpp" "$lib/idset.cpp")
    hdrs=("$lib/taskmap.hpp" "$lib/idset.hpp" "$lib/printable.hpp")
    default_seconds=5
    ;;
  directives)
    srcs=("$here/fuzz_directives.cpp" "$repo/src/cmd/directives.cpp")
    hdrs=("$repo/src/cmd/directives.hpp")
    default_seconds=5
    ;;
  request)
    srcs=("$here/fuzz_request.cpp" "$lib/signed_request.cpp" "$lib/base64.cpp" "$lib/fsd.cpp")
    hdrs=("$lib/signed_request.hpp" "$lib/base64.hpp" "$lib/fsd.hpp" "$lib/printable.hpp")
    default_seconds=5
    ;;
  *)
    echo "run_fuzz: unknown target '$target' (message, treeobj, eventlog, idset, hostlist, jobid, jobspec, rset, request, taskmap or directives)" >&2
    exit 2
    ;;
esac
seconds=${FUZZ_SECONDS:-$default_seconds}

bin=$out/fuzz_$target
deps=("${srcs[@]}" "${hdrs[@]}" "${common_hdrs[@]}")

rebuild=0
[[ -x $bin ]] || rebuild=1
for f in "${deps[@]}"; do
  [[ $f -nt $bin ]] && rebuild=1
done
if ((rebuild)); then
  echo "run_fuzz: building $bin"
  "$cxx" -std=c++20 -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$repo/src" "${srcs[@]}" ${libs[@]+"${libs[@]}"} -o "$bin.tmp"
  mv -f "$bin.tmp" "$bin"
fi

corpus=$out/corpus_$target
artifacts=$out/artifacts
dict=$out/$target.dict
mkdir -p "$corpus" "$artifacts"

# Seeds are kept as backslash-escape text until written (NULs cannot live in
# shell variables); printf %b expands \xHH.
seed() { printf '%b' "$2" >"$corpus/seed-$1"; }

# ---- message seeds: hand-written RFC 3 encodings (not from our encoder) ----
seeds_message() {
  # request "a.b", payload {"x":1}\0, nodeid any, matchtag 42, userid 1000, owner
  req='\x03a.b\x08{"x":1}\x00\x14\x8e\x01\x01\x03\x00\x00\x03\xe8\x00\x00\x00\x01\xff\xff\xff\xff\x00\x00\x00\x2a'
  # response "a.b", errnum 2, matchtag 42
  rsp='\x03a.b\x14\x8e\x01\x02\x01\x00\x00\x03\xe8\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x2a'
  # event "ev", seq 7
  evt='\x02ev\x14\x8e\x01\x04\x01\x00\x00\x00\x05\xff\xff\xff\xff\x00\x00\x00\x07\x00\x00\x00\x00'
  # control type 3 status 1, no topic
  ctl='\x14\x8e\x01\x08\x00\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x01'
  # request "t" with routes r2 (most recent), r1, delimiter
  rte='\x02r2\x02r1\x00\x01t\x14\x8e\x01\x01\x09\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
  # event "e" with a 260-byte payload (long length form)
  long_payload=$(printf 'x%.0s' $(seq 260))
  lng="\\x01e\\xff\\x00\\x00\\x01\\x04${long_payload}\\x14\\x8e\\x01\\x04\\x03\\xff\\xff\\xff\\xff\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00"

  seed request "$req"
  seed response "$rsp"
  seed event "$evt"
  seed control "$ctl"
  seed routed "$rte"
  seed long "$lng"

  # Local-connector frames: magic 0xffee0012 in host byte order, BE length.
  if [[ $(printf '\x01\x00' | od -An -tu2 | tr -d ' ') == 1 ]]; then
    magic='\x12\x00\xee\xff'
  else
    magic='\xff\xee\x00\x12'
  fi
  frame() {  # frame LOW-16-BITS-OF-LENGTH BODY (both escaped text)
    printf '%s' "$magic"'\x00\x00'"$1$2"
  }
  # lengths: req 34 (0x22), rsp 25 (0x19), ctl 21 (0x15), rte 30 (0x1e)
  seed frames "$(frame '\x00\x22' "$req")$(frame '\x00\x19' "$rsp")$(frame '\x00\x15' "$ctl")$(frame '\x00\x1e' "$rte")"
  seed frame-bad-magic '\x00\x00\x00\x00\x00\x00\x00\x15'"$ctl"
  seed frame-huge "$magic"'\x40\x00\x00\x01'

  cat >"$dict" <<'DICT'
proto_magic="\x8e\x01"
proto_hdr="\x14\x8e\x01"
type_request="\x01"
type_response="\x02"
type_event="\x04"
type_control="\x08"
long_len="\xff\x00\x00\x01\x00"
frame_magic_le="\x12\x00\xee\xff"
frame_magic_be="\xff\xee\x00\x12"
nodeid_any="\xff\xff\xff\xff"
json_obj="{\"errstr\":\"x\"}\x00"
DICT
}

# ---- treeobj seeds: RFC 11 objects written by hand -------------------------
seeds_treeobj() {
  local s1=sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709
  local s256=sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
  seed val '{"data":"NDIyCg==","type":"val","ver":1}'
  seed val-size '{"ver":1,"type":"val","data":"NDIyCg==","size":4}'
  seed val-empty '{"data":"","type":"val","ver":1}'
  seed valref '{"data":["'$s1'","'$s256'"],"type":"valref","ver":1}'
  seed dirref '{"data":["'$s1'"],"type":"dirref","ver":1}'
  seed symlink '{"data":{"target":"a.b"},"type":"symlink","ver":1}'
  seed symlink-ns '{"data":{"namespace":"ns","target":"a.b"},"type":"symlink","ver":1}'
  seed dir '{"data":{"a":{"data":["'$s1'"],"type":"dirref","ver":1},"b":{"data":"NDIyCg==","type":"val","ver":1},"c":{"data":{"d":{"data":{"target":"x"},"type":"symlink","ver":1}},"type":"dir","ver":1}},"type":"dir","ver":1}'
  seed hdir '{"ver":1,"type":"hdir","data":{"size":8,"func":"city32","bucket":[{"ver":1,"type":"dirref","data":["'$s1'"]}]}}'
  seed bad-key '{"data":{"a.b":{"data":"","type":"val","ver":1}},"type":"dir","ver":1}'
  seed blobref "$s1"
  seed bytes '\x00\x01\xff\xfe'

  cat >"$dict" <<'DICT'
k_ver="\"ver\":1"
k_type="\"type\":"
k_data="\"data\":"
k_size="\"size\":"
t_val="\"val\""
t_valref="\"valref\""
t_dir="\"dir\""
t_dirref="\"dirref\""
t_symlink="\"symlink\""
t_hdir="\"hdir\""
k_target="\"target\":"
k_namespace="\"namespace\":"
sha1="\"sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709\""
sha256="\"sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\""
b64="\"NDIyCg==\""
val="{\"data\":\"\",\"type\":\"val\",\"ver\":1}"
DICT
}

# ---- eventlog seeds: RFC 18 logs written by hand ----------------------------
seeds_eventlog() {
  seed submit '{"timestamp":1552593348.073045,"name":"submit","context":{"urgency":16,"userid":5588,"flags":0}}\n'
  seed job '{"timestamp":1699995759.5377746,"name":"submit","context":{"userid":1001,"urgency":16,"flags":0,"version":1}}\n{"timestamp":1699995759.5597851,"name":"validate"}\n{"timestamp":1700074161.1864166,"name":"release","context":{"ranks":"all","final":true}}\n{"timestamp":1700074445.120451,"name":"clean"}\n'
  seed no-newline '{"timestamp":1,"name":"a"}'
  seed rfc-typo '{"timestamp":1552593348.088391,"name":"alloc",context:{"note":"rank0/core[0-1]"}}\n'
  seed exception '{"timestamp":2.5,"name":"exception","context":{"type":"cancel","severity":0,"note":"a\\u00e9\\n"}}\n'
  seed empty ''

  cat >"$dict" <<'DICT'
k_timestamp="\"timestamp\":"
k_name="\"name\":"
k_context="\"context\":"
ts="1699995759.5377746"
nl="\x0a"
entry="{\"timestamp\":1,\"name\":\"a\"}\x0a"
DICT
}

# ---- idset seeds: RFC 22 strings written by hand ----------------------------
seeds_idset() {
  seed empty ''
  seed one '7'
  seed ranges '1-3,5-6,42'
  seed brackets '[0-3,5]'
  seed list '1,2,3,5,6,42'
  seed big '0-4294967293'
  seed pair '1-5,10-15,20|4-11,20-25'
  seed backwards '3-1'
  seed zero '01'
  seed program '\x80\x01\x05\x00\x10\x03\x81\x02\x02'

  cat >"$dict" <<'DICT'
comma=","
dash="-"
open="["
close="]"
pipe="|"
max="4294967293"
over="4294967294"
range="0-1000000"
DICT
}

# ---- hostlist seeds: RFC 29 strings written by hand -------------------------
seeds_hostlist() {
  seed empty ''
  seed plain 'foox,fooy,fooz'
  seed ids '[1-3,5-6]'
  seed range 'foo[1-5]'
  seed suffix 'foo[0-4]-eth2'
  seed dups 'foo1,foo1,foo1'
  seed pad '[00-2]'
  seed list 'foo[1,1,2,1]'
  seed width 'h[005,4,11-13]'
  seed mixed 'node[1-3,5],login0,rack[1-2]node,n1[8-10]'
  seed bad 'foo[1-'

  cat >"$dict" <<'DICT'
comma=","
dash="-"
open="["
close="]"
zero="0"
pad="007"
name="node"
suffix="-eth2"
range="[1-3]"
big="[0-1048575]"
DICT
}

# ---- jobid seeds: RFC 19 examples ------------------------------------------
seeds_jobid() {
  seed dec '6731191091817518'
  seed hex '0x17e9fb8df16c2e'
  seed dothex '0017.e9fb.8df1.6c2e'
  seed kvs 'job.000e.daf9.7d00.0000'
  seed words 'reform-remote-galileo--heart-package-academy'
  seed f58 '\xc6\x92uZZybuNNy'
  seed f58plain 'fZemgA8Bzf'
  seed emoji '\xf0\x9f\x9a\xb9\xf0\x9f\x92\x82\xf0\x9f\x99\x8c'
  seed max 'fjpXCZedGfVQ'
  seed space ' 0xffff  '

  cat >"$dict" <<'DICT'
f58_prefix="\xc6\x92"
kvs="job."
hex="0x"
dot="."
sep="--"
word="academy"
word2="verbal"
emoji="\xf0\x9f\x98\x83"
DICT
}

# ---- jobspec seeds: RFC 25 jobspecs written by hand, in YAML and JSON ------
seeds_jobspec() {
  seed yaml 'version: 1\nresources:\n  - type: node\n    count: 4\n    with:\n      - type: slot\n        count: 1\n        label: default\n        with:\n          - type: core\n            count: 2\ntasks:\n  - command: [ "app" ]\n    slot: default\n    count:\n      per_slot: 1\nattributes:\n  system:\n    duration: 3600.\n    cwd: "/home/flux"\n    environment:\n      HOME: "/home/flux"\n'
  seed json '{"resources":[{"count":10,"label":"task","type":"slot","with":[{"count":2,"type":"core"},{"count":1,"type":"gpu"}]}],"tasks":[{"command":["myapp"],"count":{"total":7},"slot":"task"}],"attributes":{"system":{"duration":0,"environment":{"A":"1","B":null},"shell":{"options":{"verbose":1}}},"user":{"x":[1,2.5,true]}},"version":1}'
  seed flow '{version: 1, resources: [{type: slot, count: 1, label: task, with: [{type: core, count: 1}]}], tasks: [{command: [hostname], slot: task, count: {per_slot: 1}}], attributes: {system: {duration: 0}}}'
  seed anchors 'a: &x [1, 2]\nb: *x\nc: !!str 3\nd: 0x1f\ne: .inf\nf: ~\n'
  seed two-docs 'a: 1\n---\nb: 2\n'

  cat >"$dict" <<'DICT'
version="version: 1"
resources="resources:"
tasks="tasks:"
attributes="attributes:"
system="system:"
duration="duration:"
node="type: node"
slot="type: slot"
core="type: core"
gpu="type: gpu"
count="count:"
with="with:"
label="label:"
per_slot="per_slot: 1"
total="total:"
command="command:"
anchor="&a"
alias="*a"
doc="---"
DICT
}

# ---- rset seeds: R version 1 documents written by hand --------------------
seeds_rset() {
  seed big '{"version":1,"execution":{"R_lite":[{"rank":"0-1","children":{"core":"0-31","gpu":"0-1"}},{"rank":"2-15","children":{"core":"0-31"}}],"nodelist":["node[0-15]"],"starttime":0,"expiration":0}}'
  seed props '{"version":1,"execution":{"R_lite":[{"rank":"0-3","children":{"core":"0"}}],"starttime":10.5,"expiration":20,"properties":{"debug":"0-1"}}}'
  seed node '{"version":1,"execution":{"R_lite":[{"rank":"5","node":"foo","children":{"core":"0-3"}}]},"scheduling":{"graph":{}}}'

  cat >"$dict" <<'DICT'
version="\"version\":1"
execution="\"execution\":"
rlite="\"R_lite\":"
rank="\"rank\":"
children="\"children\":"
core="\"core\":"
gpu="\"gpu\":"
nodelist="\"nodelist\":"
props="\"properties\":"
start="\"starttime\":"
exp="\"expiration\":"
DICT
}

seeds_taskmap() {
  seed block '[[0,4,4,1]]'
  seed cyclic '[[0,4,1,4]]'
  seed mixed '[[0,6,1,2],[4,2,1,2]]'
  seed wrapped '{"version":1,"map":[[0,4096,256,1]]}'
  seed raw '0,6;1,7;2,8;3,9;4,10,12,14;5,11,13,15'
  seed raw-empty '0-1;;2'
  seed reverse '14-15;12-13;10-11;8-9;4-7;0-3'
  cat >"$dict" <<'DICT'
semi=";"
open="[["
close="]]"
block="[0,1,1,1]"
version="\"version\":1"
map="\"map\":"
DICT
}

seeds_directives() {
  seed basic '#!/bin/sh\n# flux: -N2 --job-name=x\n# flux: -q batch # comment\nhostname\n'
  seed triple "#!/bin/sh\\n# flux: --setattr=user.x='''it's \\\"q\\\"'''\\n"
  seed multi '#!/bin/sh\n# flux: --setattr=user.conf="""\n# flux: [config]\n# flux:   a = 1\n# flux: """\necho\n'
  seed orphan '#!/bin/sh\n#FLUX: -N1\necho\n#FLUX: -n2\n'
  seed quotes "-- flux: --job-name='a b' \"c\\\"d\" e\\ f\n"
  cat >"$dict" <<'DICT'
sentinel="# flux:"
upper="#FLUX:"
triple="\"\"\""
single="'''"
DICT
}

seeds_request() {
  seed none 'eyJ2ZXJzaW9uIjoxLCJtZWNoYW5pc20iOiJub25lIiwidXNlcmlkIjo1fQ==.e30=.none'
  seed fsd1 '1.5h'
  seed fsd2 '0.001s'
  seed inf 'infinity'
  cat >"$dict" <<'DICT'
none=".none"
dot="."
hours="h"
DICT
}

"seeds_$target"

echo "run_fuzz: fuzzing $target for ${seconds}s (corpus $corpus)"
set +e
# A fixed seed (FUZZ_SEED=0 for a random one) so that ctest runs the same
# inputs each time: a crash found here is reproducible, not a flaky test.
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
"$bin" -max_total_time="$seconds" -seed="${FUZZ_SEED:-1}" -timeout=10 -rss_limit_mb=2048 \
  -max_len=4096 \
  -dict="$dict" -artifact_prefix="$artifacts/$target-" -print_final_stats=1 \
  ${FUZZ_JOBS_ARGS:-} "$corpus"
rc=$?
set -e
if ((rc != 0)); then
  echo "run_fuzz: FAILED (exit $rc); reproducers in $artifacts/" >&2
  ls -l "$artifacts" >&2 || true
  exit 1
fi
echo "run_fuzz: $target ok"
