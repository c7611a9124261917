// Configuration files (TOML, or JSON by extension) to JSON, with toml++.
#include "libflux/config_file.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <vector>

#include "libflux/result.hpp"

namespace flux {
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

Json load_json_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw FluxError(ENOENT, "config: " + path.string() + ": cannot be read");
  Json j = Json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw FluxError(EINVAL, "config: " + path.string() + ": not a JSON object");
  return j;
}

Json load_file(const fs::path& path) {
  if (path.extension() == ".json") return load_json_file(path);
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

// --conf: later values win, tables merge.
void overlay(Json& into, const Json& from) {
  for (const auto& [k, v] : from.items()) {
    if (into.contains(k) && into[k].is_object() && v.is_object())
      overlay(into[k], v);
    else
      into[k] = v;
  }
}

}  // namespace

Json config_parse_toml(const std::string& text, const std::string& what) {
  try {
    return to_json(toml::parse(text));
  } catch (const toml::parse_error& e) {
    throw FluxError(EINVAL, what + ": line " + std::to_string(e.source().begin.line) + ": " +
                                std::string(e.description()));
  }
}

void config_update(Json& config, const std::string& value) {
  if (!config.is_object()) config = Json::object();
  if (!value.empty() && value[0] == '{') {
    Json j = Json::parse(value, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      throw FluxError(EINVAL, "--conf: not a JSON object: " + value);
    overlay(config, j);
  } else if (value.find('\n') != std::string::npos) {
    overlay(config, config_parse_toml(value, "--conf"));
  } else if (size_t eq = value.find('='); eq != std::string::npos) {
    std::string key = value.substr(0, eq);
    Json v = Json::parse(value.substr(eq + 1), nullptr, false);
    if (v.is_discarded()) v = value.substr(eq + 1);
    Json* at = json_make_path(config, key);
    if (!at) throw FluxError(EINVAL, "--conf: bad key: " + key);
    *at = std::move(v);
  } else {
    std::error_code ec;
    if (!fs::exists(value, ec)) throw FluxError(ENOENT, "--conf: " + value + ": no such file");
    overlay(config, load_file(value));
  }
}

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

}  // namespace flux
