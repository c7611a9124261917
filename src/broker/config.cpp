// TOML configuration to JSON, with toml++.
#include "config.hpp"

#include <toml++/toml.h>
#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <vector>

#include "libflux/result.hpp"

namespace flux::broker {
namespace {

namespace fs = std::filesystem;

Json to_json(const toml::node& n) {
  if (auto* t = n.as_table()) {
    Json obj = Json::object();
    for (const auto& [k, v] : *t) obj[std::string(k.str())] = to_json(v);
    return obj;
  }
  if (auto* a = n.as_array()) {
    Json arr = Json::array();
    for (const auto& v : *a) arr.push_back(to_json(v));
    return arr;
  }
  if (auto* s = n.as_string()) return s->get();
  if (auto* i = n.as_integer()) return i->get();
  if (auto* f = n.as_floating_point()) return f->get();
  if (auto* b = n.as_boolean()) return b->get();
  // Dates and times: their TOML text.
  std::ostringstream os;
  n.visit([&os](const auto& v) { os << v; });
  return os.str();
}

Json load_file(const fs::path& path) {
  try {
    toml::table t = toml::parse_file(path.string());
    return to_json(t);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw FluxError(EINVAL, "config: " + path.string() + ":" + std::to_string(where.line) + ": " +
                                std::string(e.description()));
  }
}

void merge(Json& into, const Json& from, const std::string& file, const std::string& prefix) {
  for (const auto& [k, v] : from.items()) {
    std::string key = prefix.empty() ? k : prefix + "." + k;
    if (!into.contains(k)) {
      into[k] = v;
    } else if (into[k].is_object() && v.is_object()) {
      merge(into[k], v, file, key);
    } else {
      throw FluxError(EINVAL, "config: " + file + ": '" + key + "' is set twice");
    }
  }
}

}  // namespace

Json config_load(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(path, ec)) {
      if (e.path().extension() == ".toml") files.push_back(e.path());
    }
    if (ec) throw FluxError(ec.value(), "config: " + path + ": " + ec.message());
    std::sort(files.begin(), files.end());
    Json all = Json::object();
    for (const auto& f : files) merge(all, load_file(f), f.string(), "");
    return all;
  }
  if (!fs::exists(path, ec)) throw FluxError(ENOENT, "config: " + path + ": no such file");
  return load_file(path);
}

AccessPolicy access_policy(const Json& config) {
  AccessPolicy p;
  auto it = config.find("access");
  if (it == config.end()) return p;
  if (!it->is_object()) throw FluxError(EINVAL, "[access] must be a table");
  for (const auto& [key, value] : it->items()) {
    bool* field = key == "allow-guest-user"   ? &p.allow_guest_user
                  : key == "allow-root-owner" ? &p.allow_root_owner
                  : key == "private-mode"     ? &p.private_mode
                                              : nullptr;
    if (!field) throw FluxError(EINVAL, "[access]: unknown key " + key);
    if (!value.is_boolean()) throw FluxError(EINVAL, "[access]: " + key + " must be true or false");
    *field = value.get<bool>();
  }
  return p;
}

}  // namespace flux::broker
