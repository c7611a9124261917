#!/usr/bin/env bash
# Build and run the libFuzzer target for flux::Message for a bounded time.
#
#   run_fuzz.sh BUILD_DIR
#
# Environment: FUZZ_SECONDS (default 20), CLANGXX (default clang++),
# FUZZ_JOBS_ARGS (extra libFuzzer arguments, optional).
# Exits non-zero if the build fails or the fuzzer finds a crash, leak,
# sanitizer error, timeout or round-trip mismatch; the reproducer is left in
# BUILD_DIR/artifacts/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:?usage: run_fuzz.sh BUILD_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cxx=${CLANGXX:-clang++}
seconds=${FUZZ_SECONDS:-20}

bin=$out/fuzz_message
srcs=("$here/fuzz_message.cpp" "$repo/src/libflux/message.cpp")
deps=("${srcs[@]}" "$repo/src/libflux/message.hpp" "$repo/src/libflux/result.hpp"
      "$repo/src/libflux/json.hpp" "$here/run_fuzz.sh")

rebuild=0
[[ -x $bin ]] || rebuild=1
for f in "${deps[@]}"; do
  [[ $f -nt $bin ]] && rebuild=1
done
if ((rebuild)); then
  echo "run_fuzz: building $bin"
  "$cxx" -std=c++20 -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$repo/src" "${srcs[@]}" -o "$bin.tmp"
  mv -f "$bin.tmp" "$bin"
fi

# ---- Seed corpus: hand-written RFC 3 encodings (not from our encoder) ------
corpus=$out/corpus_message
artifacts=$out/artifacts
mkdir -p "$corpus" "$artifacts"

# Seeds are kept as backslash-escape text until written (NULs cannot live in
# shell variables); printf %b expands \xHH.
seed() { printf '%b' "$2" >"$corpus/seed-$1"; }

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

dict=$out/message.dict
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

echo "run_fuzz: fuzzing for ${seconds}s (corpus $corpus)"
set +e
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
  -dict="$dict" -artifact_prefix="$artifacts/" -print_final_stats=1 \
  ${FUZZ_JOBS_ARGS:-} "$corpus"
rc=$?
set -e
if ((rc != 0)); then
  echo "run_fuzz: FAILED (exit $rc); reproducers in $artifacts/" >&2
  ls -l "$artifacts" >&2 || true
  exit 1
fi
echo "run_fuzz: ok"
