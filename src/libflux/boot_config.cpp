#include "boot_config.hpp"

#include <unordered_map>

#include "hostlist.hpp"
#include "printable.hpp"
#include "result.hpp"

namespace flux {

namespace {

// The longest socket path an ipc:// URI can carry (sun_path).
constexpr size_t kMaxIpcPath = 108;

[[noreturn]] void invalid(const std::string& where, const std::string& what) {
  throw FluxError(EINVAL, where + ": " + what);
}

const char* type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object:
      return "a table";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return "a float";
    default:
      return "null";
  }
}

std::string get_string(const Json& v, const std::string& where) {
  if (!v.is_string()) invalid(where, std::string("must be a string, not ") + type_name(v));
  return v.get<std::string>();
}

// RFC 1035 labels: 1-63 letters, digits and '-', not starting or ending
// with '-'; 253 characters in all.
std::optional<std::string> domain_name_problem(std::string_view host) {
  if (host.empty() || host.size() > 253) return "must be 1-253 characters";
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    std::string_view label =
        host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) return "domain labels must be 1-63 characters";
    if (label.front() == '-' || label.back() == '-')
      return "domain labels must not start or end with '-'";
    for (char c : label) {
      bool ok =
          (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
      if (!ok) return "invalid character '" + printable(std::string_view(&c, 1)) + "'";
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return std::nullopt;
}

// What zmq_bind/zmq_connect will accept from a config: tcp or ipc, an
// explicit port, an ipc path that fits a socket address.
std::optional<std::string> zmq_uri_problem(std::string_view uri) {
  auto quoted = "'" + printable(uri, 256) + "'";
  if (uri.find("://") == std::string_view::npos) return quoted + " has no URI scheme";
  if (uri.find(":*") != std::string_view::npos) return quoted + " has a 0MQ port wildcard";
  if (uri.starts_with("ipc://")) {
    size_t len = uri.size() - 6;
    if (len < 1) return quoted + ": the socket path is empty";
    if (len > kMaxIpcPath)
      return quoted + ": the socket path is longer than " + std::to_string(kMaxIpcPath) + " bytes";
  } else if (uri.starts_with("tcp://")) {
    if (uri.size() == 6) return quoted + ": the address is empty";
  } else {
    return quoted + ": the URI scheme must be tcp or ipc";
  }
  return std::nullopt;
}

// One host while the entries are merged: each optional key remembers which
// hosts[] entry gave it, for error messages.
struct Draft {
  std::string host;
  std::optional<std::string> bind, connect, parent;
  size_t bind_from = 0, connect_from = 0, parent_from = 0;
};

std::string entry_key(size_t i, const std::string& key) {
  return "bootstrap.hosts[" + std::to_string(i) + "]." + key;
}

// Set draft's key from entry i, or check that it agrees with what it has.
void merge_key(Draft& d, const char* key, std::optional<std::string>& have, size_t& have_from,
               const std::optional<std::string>& value, size_t i) {
  if (!value) return;
  if (!have) {
    have = value;
    have_from = i;
  } else if (*have != *value) {
    invalid(entry_key(i, key), "host " + d.host + " already has " + key + " '" +
                                   printable(*have, 256) + "' from hosts[" +
                                   std::to_string(have_from) + "]");
  }
}

}  // namespace

std::string boot_format_uri(std::string_view tmpl, std::string_view host, int port) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); i++) {
    if (tmpl[i] != '%' || i + 1 == tmpl.size()) {
      out += tmpl[i];
      continue;
    }
    char c = tmpl[++i];
    if (c == 'h') {
      out += host;
    } else if (c == 'p') {
      if (port == BootConfig::kNoPort)
        throw FluxError(EINVAL, "%p is used but bootstrap.default_port is not set");
      out += std::to_string(port);
    } else if (c == '%') {
      out += '%';
    } else {
      out += '%';
      out += c;
    }
  }
  return out;
}

BootConfig BootConfig::parse(const Json& config) {
  BootConfig bc;
  if (!config.is_object()) invalid("config", "must be a table");
  auto it = config.find("bootstrap");
  if (it == config.end()) return bc;
  const Json& table = *it;
  if (!table.is_object())
    invalid("bootstrap", std::string("must be a table, not ") + type_name(table));
  bc.present = true;

  const Json* hosts = nullptr;
  for (const auto& [key, v] : table.items()) {
    std::string where = "bootstrap." + key;
    if (key == "curve_cert") {
      bc.curve_cert = get_string(v, where);
      if (bc.curve_cert.empty()) invalid(where, "must not be empty");
    } else if (key == "default_port") {
      if (!v.is_number_integer())
        invalid(where, std::string("must be an integer, not ") + type_name(v));
      if (v.is_number_unsigned() ? v.get<uint64_t>() > 65535
                                 : (v.get<int64_t>() < 0 || v.get<int64_t>() > 65535))
        invalid(where, v.dump() + " is not in the range 0-65535");
      bc.default_port = v.get<int>();
    } else if (key == "default_bind") {
      bc.default_bind = get_string(v, where);
    } else if (key == "default_connect") {
      bc.default_connect = get_string(v, where);
    } else if (key == "enable_ipv6") {
      if (!v.is_boolean()) invalid(where, std::string("must be a boolean, not ") + type_name(v));
      bc.enable_ipv6 = v.get<bool>();
    } else if (key == "hosts") {
      if (!v.is_array()) invalid(where, std::string("must be an array, not ") + type_name(v));
      hosts = &v;
    } else {
      invalid(where, "unknown key");
    }
  }
  if (!hosts) return bc;

  // First pass: expand hostlists, merge repeated hosts, keep first-seen order.
  std::vector<Draft> drafts;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < hosts->size(); i++) {
    const Json& e = (*hosts)[i];
    std::string where = "bootstrap.hosts[" + std::to_string(i) + "]";
    if (!e.is_object()) invalid(where, std::string("must be a table, not ") + type_name(e));
    std::optional<std::string> host, bind, connect, parent;
    for (const auto& [key, v] : e.items()) {
      std::string w = entry_key(i, key);
      if (key == "host") {
        host = get_string(v, w);
      } else if (key == "bind") {
        bind = get_string(v, w);
      } else if (key == "connect") {
        connect = get_string(v, w);
      } else if (key == "parent") {
        parent = get_string(v, w);
      } else {
        invalid(w, "unknown key");
      }
    }
    if (!host) invalid(where, "the host key is required");
    auto hl = Hostlist::decode(*host);
    if (!hl) invalid(entry_key(i, "host"), hl.error().message);
    if (hl->empty()) invalid(entry_key(i, "host"), "names no host");
    for (const std::string& name : *hl) {
      if (auto problem = domain_name_problem(name))
        invalid(entry_key(i, "host"), "'" + printable(name) + "': " + *problem);
      auto [pos, fresh] = index.emplace(name, drafts.size());
      if (fresh) {
        if (drafts.size() >= Topology::kMaxSize)
          invalid(entry_key(i, "host"),
                  "more than " + std::to_string(Topology::kMaxSize) + " hosts");
        drafts.emplace_back().host = name;
      }
      Draft& d = drafts[pos->second];
      merge_key(d, "bind", d.bind, d.bind_from, bind, i);
      merge_key(d, "connect", d.connect, d.connect_from, connect, i);
      merge_key(d, "parent", d.parent, d.parent_from, parent, i);
    }
  }

  // Second pass: defaults, substitution, validation.
  auto uri_for = [&](const Draft& d, const std::optional<std::string>& own, size_t own_from,
                     const std::string& dflt, const char* key) -> std::string {
    std::string where = own ? entry_key(own_from, key) : std::string("bootstrap.default_") + key;
    const std::string& tmpl = own ? *own : dflt;
    if (!own && dflt.empty()) return "";
    std::string uri;
    try {
      uri = boot_format_uri(tmpl, d.host, bc.default_port);
    } catch (const FluxError& e) {
      invalid(where, e.what());
    }
    if (auto problem = zmq_uri_problem(uri)) invalid(where + " (host " + d.host + ")", *problem);
    return uri;
  };
  bc.hosts.reserve(drafts.size());
  for (size_t rank = 0; rank < drafts.size(); rank++) {
    const Draft& d = drafts[rank];
    BootHost h;
    h.host = d.host;
    h.bind = uri_for(d, d.bind, d.bind_from, bc.default_bind, "bind");
    h.connect = uri_for(d, d.connect, d.connect_from, bc.default_connect, "connect");
    if (d.parent) {
      std::string where = entry_key(d.parent_from, "parent");
      if (*d.parent == d.host) invalid(where, "host " + d.host + " may not be its own parent");
      if (!index.contains(*d.parent))
        invalid(where, "'" + printable(*d.parent) + "' (parent of " + d.host +
                           ") is not one of the hosts");
      if (rank == 0)
        invalid(where, "rank 0 (" + d.host + ") may not have a parent: it is the root of the tree");
      h.parent = d.parent;
    }
    bc.hosts.push_back(std::move(h));
  }
  auto parents = bc.parents();
  if (auto r = Topology::find_cycle(parents)) {
    const Draft& d = drafts[*r];
    invalid(entry_key(d.parent_from, "parent"), "parent '" + *d.parent + "' of " + d.host +
                                                    " (rank " + std::to_string(*r) +
                                                    ") makes a cycle");
  }
  if (bc.hosts.size() > 1 && bc.curve_cert.empty())
    invalid("bootstrap.curve_cert", "is required when hosts lists more than one host");
  return bc;
}

uint32_t BootConfig::size() const {
  return hosts.empty() ? 1 : static_cast<uint32_t>(hosts.size());
}

std::optional<uint32_t> BootConfig::rank_of(std::string_view hostname) const {
  if (hosts.empty()) return 0;
  for (size_t r = 0; r < hosts.size(); r++)
    if (hosts[r].host == hostname) return static_cast<uint32_t>(r);
  return std::nullopt;
}

Topology::Parents BootConfig::parents() const {
  Topology::Parents out;
  if (hosts.empty()) return out;
  std::unordered_map<std::string_view, uint32_t> rank;
  for (size_t r = 0; r < hosts.size(); r++) rank.emplace(hosts[r].host, static_cast<uint32_t>(r));
  out.assign(hosts.size(), 0u);
  out[0] = std::nullopt;
  for (size_t r = 1; r < hosts.size(); r++) {
    if (!hosts[r].parent) continue;
    auto it = rank.find(*hosts[r].parent);
    if (it == rank.end())
      throw FluxError(EINVAL, "bootstrap.hosts: parent '" + *hosts[r].parent + "' of " +
                                  hosts[r].host + " is not one of the hosts");
    out[r] = it->second;
  }
  return out;
}

Topology BootConfig::topology(std::string_view uri) const {
  return Topology(uri, size(), parents());
}

}  // namespace flux
