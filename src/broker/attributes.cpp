#include "attributes.hpp"

#include <fnmatch.h>

#include <cerrno>
#include <cstdlib>

namespace flux::broker {
namespace {

using namespace attrflag;

struct AttrSpec {
  const char* glob;
  int flags;
};

// The attributes a broker knows, as flux-core names them.
constexpr AttrSpec kRegistry[] = {
    {"rank", kReadonly | kImmutable},
    {"size", kReadonly | kImmutable},
    {"version", kReadonly | kImmutable},
    {"rundir", kImmutable},
    {"rundir-cleanup", kImmutable},
    {"statedir", kImmutable},
    {"statedir-cleanup", kImmutable},
    {"security.owner", kReadonly | kImmutable},
    {"local-uri", kImmutable},
    {"parent-uri", kReadonly | kImmutable},
    {"parent-kvs-namespace", kReadonly | kImmutable},
    {"instance-level", kReadonly | kImmutable},
    {"jobid", kReadonly | kImmutable},
    {"hostlist", kImmutable},
    {"hostname", kImmutable},
    {"broker.pid", kReadonly | kImmutable},
    {"broker.uuid", kReadonly | kImmutable},
    {"broker.starttime", kReadonly | kImmutable},
    {"broker.rc1_path", 0},
    {"broker.rc3_path", 0},
    {"broker.cleanup_path", 0},
    {"broker.max-message-size", 0},
    {"broker.max-client-backlog", 0},
    {"broker.rc2_none", 0},
    {"broker.module-nopanic", kRuntime},
    {"broker.exit-restart", kRuntime},
    {"conf.module_path", 0},
    {"conf.exec_path", 0},
    {"log-filename", 0},
    {"log-stderr-level", kRuntime},
    {"log-stderr-mode", kImmutable},
    {"log-level", kRuntime},
    {"log-ring-size", kRuntime},
    {"log-forward-level", kImmutable},
    {"log-critical-level", kImmutable},
    {"content.hash", kImmutable},
    {"content.backing-module", 0},
    {"content.purge-target-size", 0},
    {"broker.mapping", kReadonly | kImmutable},
    {"broker.boot-method", kImmutable},
    {"broker.quorum", kImmutable},
    {"broker.quorum-warn", 0},
    {"broker.shutdown-warn", 0},
    {"broker.shutdown-timeout", 0},
    {"broker.critical-ranks", kImmutable},
    {"broker.online", kReadonly},
    {"tbon.fanout", kImmutable},
    {"tbon.topo", kImmutable},
    {"tbon.endpoint", kImmutable},
    {"tbon.parent-endpoint", kReadonly | kImmutable},
    {"tbon.level", kReadonly | kImmutable},
    {"tbon.maxlevel", kReadonly | kImmutable},
    {"tbon.descendants", kReadonly | kImmutable},
    {"tbon.prefertcp", kImmutable},
    {"tbon.interface-hint", kRuntime},
    {"tbon.torpid_min", kImmutable},
    {"tbon.torpid_max", kImmutable},
    {"tbon.tcp_user_timeout", kImmutable},
    {"tbon.connect_timeout", kImmutable},
    {"tbon.zmqdebug", kImmutable},
    {"tbon.zmq_io_threads", kImmutable},
    {"tbon.child_rcvhwm", kImmutable},
    {"test.*", kRuntime},
    {"test-nr.*", 0},
    {"test-ro.*", kReadonly},
    {"test-im.*", kImmutable},
    {"vendor.*", kRuntime},
};

const AttrSpec* lookup(const std::string& name) {
  for (const auto& s : kRegistry)
    if (fnmatch(s.glob, name.c_str(), 0) == 0) return &s;
  return nullptr;
}

// Values the broker reads as numbers or words are checked when set, so a
// typo is an error at once rather than a default in silence.
void validate(const std::string& name, const std::string& value) {
  auto integer = [&](long lo, long hi, const char* what) {
    char* end = nullptr;
    errno = 0;
    long n = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end || errno || n < lo || n > hi)
      throw FluxError(EINVAL, name + ": '" + value + "' is not " + what);
  };
  if (name == "log-level" || name == "log-stderr-level" || name == "log-forward-level" ||
      name == "log-critical-level")
    integer(0, 7, "a log level (0-7)");
  else if (name == "log-ring-size")
    integer(1, 1 << 24, "a number of entries (1 or more)");
  else if (name == "log-stderr-mode" && value != "leader" && value != "local")
    throw FluxError(EINVAL, name + ": '" + value + "' is not leader or local");
}

}  // namespace

void Attributes::set_internal(const std::string& name, const std::string& value) {
  values_[name] = value;
}

void Attributes::set_cmdline(const std::string& name, const std::string& value) {
  const AttrSpec* s = lookup(name);
  if (!s) throw FluxError(ENOENT, name + ": unknown attribute");
  if (s->flags & kReadonly)
    throw FluxError(EINVAL, name + ": attribute may not be set on the command line");
  validate(name, value);
  values_[name] = value;
}

void Attributes::set_runtime(const std::string& name, const std::string& value, bool force) {
  const AttrSpec* s = lookup(name);
  if (!s) throw FluxError(ENOENT, name + ": unknown attribute");
  if (s->flags & (kImmutable | kReadonly))
    throw FluxError(EPERM, name + ": attribute is read-only");
  if (values_.count(name) && !(s->flags & kRuntime) && !force)
    throw FluxError(EINVAL, name + ": attribute may not be updated");
  validate(name, value);
  values_[name] = value;
}

void Attributes::remove(const std::string& name) {
  const AttrSpec* s = lookup(name);
  if (s && (s->flags & (kImmutable | kReadonly)))
    throw FluxError(EPERM, name + ": attribute is read-only");
  values_.erase(name);
}

std::optional<std::string> Attributes::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Attributes::get_or(const std::string& name, const std::string& dflt) const {
  auto v = get(name);
  return v ? *v : dflt;
}

int Attributes::flags(const std::string& name) const {
  const AttrSpec* s = lookup(name);
  return s ? s->flags : 0;
}

std::vector<std::string> Attributes::names() const {
  std::vector<std::string> out;
  for (const auto& kv : values_) out.push_back(kv.first);
  return out;
}

}  // namespace flux::broker
