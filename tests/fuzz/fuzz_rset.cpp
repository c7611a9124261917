// libFuzzer target for flux::Rset (RFC 20 R version 1).
//
// Every input is decoded as R. A refusal must be EINVAL with a printable
// "R: " message. A decoded set must encode to JSON that decodes to an equal
// set and encodes identically; its counts must agree with its nodes; and
// the set operations must keep their laws (a - a is empty, a | a == a,
// a & a == a, a contains every allocation made from it).
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "libflux/rset.hpp"

using flux::Rset;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = Rset::decode(text);
  if (!r.ok()) {
    check(r.error().errnum == EINVAL);
    check(r.error().message.starts_with("R: "));
    for (unsigned char c : r.error().message) check(c >= 0x20 && c != 0x7f);
    return 0;
  }
  const Rset& a = *r;
  std::string enc = a.encode();
  auto back = Rset::decode(enc);
  check(back.ok());
  check(*back == a);
  check(back->encode() == enc);
  size_t cores = 0;
  for (const auto& [rank, node] : a.nodes()) cores += node.cores.count();
  check(cores == a.ncores());
  check(a.ranks().count() == a.nnodes());
  check((a - a).empty());
  check((a | a).nodes() == a.nodes());
  check((a & a).nodes() == a.nodes());
  if (a.ncores() < 100000) {
    auto got = a.alloc(flux::RsetRequest{0, 2, 1, 0, false});
    if (got.ok()) check(a.contains(*got) && got->ncores() == 2);
  }
  return 0;
}
