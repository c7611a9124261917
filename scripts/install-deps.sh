#!/bin/sh
# Install every Debian package the project needs. Idempotent and quiet when
# everything is already present.
set -e

PACKAGES="
  build-essential cmake ninja-build ccache pkg-config
  libasio-dev libzmq3-dev cppzmq-dev nlohmann-json3-dev libcli11-dev
  libtomlplusplus-dev libyaml-cpp-dev libsqlite3-dev liblz4-dev libssl-dev
  libhwloc-dev libfmt-dev pybind11-dev python3-dev
  libgtest-dev libgmock-dev libbenchmark-dev python3-pytest python3-yaml
  clang libclang-rt-14-dev
  mpich libmpich-dev
  slurmctld slurmd slurm-client munge
  iproute2 passwd util-linux
  go-md2man man-db
"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
