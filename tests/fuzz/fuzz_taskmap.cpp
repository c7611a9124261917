// libFuzzer target for flux::Taskmap (RFC 34).
//
// Every input is decoded (JSON, wrapped JSON or raw form). A refusal must
// be EINVAL with a printable "taskmap: " message. A decoded map must
// re-encode to a map equal to itself; when it is small, every task's node
// must agree with the nodes' task sets (which partition 0..ntasks-1), and
// its raw form must decode to a map placing every task on the same node.
// Any mismatch calls abort() so libFuzzer records the input as a crash.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "libflux/taskmap.hpp"

using flux::Idset;
using flux::Taskmap;

namespace {

// Maps larger than this are not checked task by task.
constexpr int kModelTasks = 4096;
constexpr int kModelNodes = 512;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_taskmap: %s\n", what);
  std::abort();
}

void check_error(const flux::Error& e) {
  if (e.errnum != EINVAL) fail("error is not EINVAL");
  if (e.message.rfind("taskmap: ", 0) != 0) fail("error does not start with 'taskmap: '");
  for (unsigned char c : e.message) {
    if (c < 0x20 || c >= 0x7f) fail("error message is not printable ASCII");
  }
}

void check_small(const Taskmap& t) {
  Idset all;
  size_t total = 0;
  for (int n = 0; n < t.nnodes(); n++) {
    Idset ids = t.taskids(n);
    if (static_cast<int>(ids.count()) != t.ntasks_on(n)) fail("ntasks_on disagrees with taskids");
    if (all.intersects(ids)) fail("a task is on two nodes");
    all |= ids;
    total += ids.count();
    for (uint32_t id : ids) {
      auto node = t.nodeid(static_cast<int>(id));
      if (!node.ok() || node.value() != n) fail("nodeid disagrees with taskids");
    }
  }
  if (static_cast<int>(total) != t.ntasks()) fail("task sets do not add up to ntasks");
  Idset expect;
  if (t.ntasks() > 0) expect.insert(0, static_cast<uint32_t>(t.ntasks() - 1));
  if (!(all == expect)) fail("task sets are not 0..ntasks-1");
  if (t.nodeid(t.ntasks()).ok()) fail("nodeid past the end");
  auto back = Taskmap::decode_raw(t.encode_raw());
  if (!back.ok()) fail("raw form does not decode");
  if (back->ntasks() != t.ntasks()) fail("raw form changed ntasks");
  for (int i = 0; i < t.ntasks(); i++) {
    if (back->nodeid(i).value() != t.nodeid(i).value()) fail("raw form moved a task");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = Taskmap::decode(text);
  if (!r.ok()) {
    check_error(r.error());
    return 0;
  }
  const Taskmap& t = r.value();
  auto again = Taskmap::decode(t.encode());
  if (!again.ok() || !(again.value() == t)) fail("encode/decode changed the map");
  if (t.ntasks() <= kModelTasks && t.nnodes() <= kModelNodes) check_small(t);
  return 0;
}
