// Broker attributes (flux getattr/setattr/lsattr). Names must match the
// registry in attributes.cpp; each has flags saying who may change it when.
//
// Service "attr":
//   attr.get  {"name"}            -> {"value","flags"}   ENOENT if unset/unknown
//   attr.set  {"name","value"}    -> {}                  owner; EPERM if immutable
//   attr.rm   {"name"}            -> {}                  owner
//   attr.list {}                  -> {"names":[...]}
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "libflux/result.hpp"

namespace flux::broker {

namespace attrflag {
constexpr int kImmutable = 0x01;  // never changes once the broker runs
constexpr int kReadonly = 0x02;   // the broker sets it; not on the command line
constexpr int kRuntime = 0x04;    // users may change it while running
}  // namespace attrflag

class Attributes {
 public:
  // Set by the broker itself (no checks).
  void set_internal(const std::string& name, const std::string& value);
  // From the command line (-S): name must be known and not read-only.
  void set_cmdline(const std::string& name, const std::string& value);
  // From attr.set while running.
  void set_runtime(const std::string& name, const std::string& value, bool force = false);
  void remove(const std::string& name);
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& dflt) const;
  int flags(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace flux::broker
