// libFuzzer target for jobspec V1 (RFC 25) and the YAML reader under it.
//
// Every input is
//   1. parsed as a jobspec (JSON or YAML). A refusal must be EINVAL with a
//      message starting "jobspec: ". An accepted jobspec must be
//      consistent (ntasks within the slots, a non-empty command, the slot
//      label matching) and its JSON encoding must parse back to the same
//      document and the same summary;
//   2. read by yaml_to_json directly; a result must dump as JSON;
//   3. used as arguments for from_command (small counts from its bytes):
//      the jobspec built must parse back from its encoding.
// Any mismatch calls abort() so libFuzzer records the input as a crash.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "libflux/jobspec.hpp"
#include "libflux/json_check.hpp"
#include "libflux/yaml_json.hpp"

using flux::Jobspec;
using flux::Json;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_jobspec: %s\n", what);
  std::abort();
}

bool same_summary(const Jobspec& a, const Jobspec& b) {
  return a.tasks.command == b.tasks.command && a.tasks.slot == b.tasks.slot &&
         a.tasks.per_slot == b.tasks.per_slot && a.tasks.total == b.tasks.total &&
         a.resources.nnodes == b.resources.nnodes && a.resources.nslots == b.resources.nslots &&
         a.resources.slot_count == b.resources.slot_count &&
         a.resources.cores_per_slot == b.resources.cores_per_slot &&
         a.resources.gpus_per_slot == b.resources.gpus_per_slot &&
         a.resources.exclusive == b.resources.exclusive && a.system.duration == b.system.duration &&
         a.system.cwd == b.system.cwd && a.system.queue == b.system.queue &&
         a.system.environment == b.system.environment && a.user == b.user;
}

void check_accepted(const Jobspec& js) {
  if (js.tasks.command.empty()) fail("empty command accepted");
  // (A task's slot name may differ from the slot's label, as flux-core allows.)
  if ((js.tasks.per_slot == 0) == (js.tasks.total == 0)) fail("not exactly one task count");
  int64_t n = js.ntasks();
  if (n < 1 || n > js.resources.nslots) fail("ntasks outside the slots");
  if (js.resources.nnodes > 0 && n < js.resources.nnodes) fail("fewer tasks than nodes");
  if (js.resources.cores_per_slot < 1) fail("no cores per slot");
  if (!(js.system.duration >= 0)) fail("negative duration accepted");
  std::string text = js.encode();
  auto again = Jobspec::parse(text);
  if (!again.ok()) fail("encoding does not parse");
  if (again.value().to_json() != js.to_json()) fail("encoding parses to another document");
  if (!same_summary(again.value(), js)) fail("encoding parses to another summary");
  if (again.value().encode() != text) fail("second encoding differs");
}

void check_from_command(const uint8_t* data, size_t size) {
  if (size < 6) return;
  int ntasks = 1 + data[0] % 64;
  int cores = 1 + data[1] % 8;
  int gpus = data[2] % 4;
  int nnodes = data[3] % 9;
  bool exclusive = nnodes > 0 && (data[4] & 1);
  double duration = (data[5] & 1) ? data[5] * 1.5 : 0;
  std::vector<std::string> argv;
  for (size_t i = 6; i < size && argv.size() < 4; i += 3) {
    argv.emplace_back(reinterpret_cast<const char*>(data + i), size - i < 3 ? size - i : 3);
  }
  if (argv.empty()) argv.push_back("true");
  try {
    Jobspec js = Jobspec::from_command(argv, ntasks, cores, gpus, nnodes, exclusive, duration);
    if (js.ntasks() != ntasks) fail("from_command ntasks differs");
    if (js.resources.nnodes != nnodes) fail("from_command nnodes differs");
    if (js.resources.cores_per_slot != cores || js.resources.gpus_per_slot != gpus) {
      fail("from_command slot shape differs");
    }
    if (js.tasks.command != argv) fail("from_command command differs");
    // An argv that is not valid UTF-8 cannot survive the encoding.
    bool utf8 = true;
    for (const auto& arg : argv) utf8 = utf8 && flux::utf8_valid(arg);
    auto back = Jobspec::parse(js.encode());
    if (utf8 && (!back.ok() || back.value().to_json() != js.to_json())) {
      fail("from_command encoding does not parse back to the same document");
    }
  } catch (const flux::FluxError& e) {
    if (nnodes <= ntasks) fail("from_command refused valid arguments");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto js = Jobspec::parse(text);
  if (js.ok()) {
    check_accepted(js.value());
    auto direct = Jobspec::from_json(js.value().to_json());
    if (!direct.ok()) fail("from_json refuses a parsed document");
  } else {
    if (js.error().errnum != EINVAL) fail("error is not EINVAL");
    if (js.error().message.rfind("jobspec: ", 0) != 0) fail("error message lacks 'jobspec: '");
  }

  auto yaml = flux::yaml_to_json(text);
  if (yaml.ok()) {
    (void)yaml.value().dump();  // throws (so crashes) on invalid UTF-8
  } else if (yaml.error().errnum != EINVAL || yaml.error().message.rfind("YAML: ", 0) != 0) {
    fail("unexpected YAML error");
  }

  check_from_command(data, size);
  return 0;
}
