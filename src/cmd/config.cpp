// flux config: the instance's configuration (flux-config(1)). get reads it
// from the broker (config.get) or from files (--config-path); set, unset
// and load send a whole new object to the leader (config.load), which
// passes it down to every broker; reload has the leader read its files
// again (config.reload); builtin prints the paths compiled into flux.
#include <unistd.h>

#include <cmath>
#include <iostream>
#include <iterator>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/config_file.hpp"
#include "libflux/fsd.hpp"
#include "libflux/version.hpp"

namespace flux::cmd {

namespace {

const char* const kTypes[] = {"string", "integer", "real",        "boolean", "object",
                              "array",  "fsd",     "fsd-integer", "fsd-real"};

bool known_type(const std::string& t) {
  for (const char* k : kTypes)
    if (t == k) return true;
  return false;
}

// The value at a dotted path, or nullptr.
const Json* find_path(const Json& obj, const std::string& path) {
  const Json* at = &obj;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? dot : dot - start);
    if (!at->is_object()) return nullptr;
    auto it = at->find(part);
    if (it == at->end()) return nullptr;
    at = &*it;
    if (dot == std::string::npos) return at;
    start = dot + 1;
  }
}

Json* make_path(Json& obj, const std::string& path) {
  Json* at = json_make_path(obj, path);
  if (!at) throw FluxError(EINVAL, "invalid key " + path);
  return at;
}

void erase_path(Json& obj, const std::string& path) {
  size_t dot = path.rfind('.');
  Json* parent = &obj;
  if (dot != std::string::npos) {
    const Json* p = find_path(obj, path.substr(0, dot));
    if (!p) return;
    parent = const_cast<Json*>(p);
  }
  if (parent->is_object()) parent->erase(path.substr(dot == std::string::npos ? 0 : dot + 1));
}

bool has_type(const Json& v, const std::string& type) {
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer();
  if (type == "real") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  // fsd*: a string that is a duration.
  return v.is_string() && static_cast<bool>(fsd_parse(v.get<std::string>()));
}

// As flux-core prints a value: strings bare, the rest as compact JSON.
std::string show(const Json& v, const std::string& type) {
  if (type == "fsd-integer" || type == "fsd-real" || type == "fsd") {
    double secs = fsd_parse(v.get<std::string>()).value();
    if (type == "fsd") return fsd_format(secs);
    if (type == "fsd-integer") return std::to_string(static_cast<long long>(secs));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%f", secs);
    return buf;
  }
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// set: VALUE as TYPE.
Json parse_typed(const std::string& type, const std::string& text) {
  auto bad = [&] { return FluxError(EINVAL, "'" + text + "' is not a valid " + type); };
  if (type == "string") {
    if (text.find('"') != std::string::npos) throw bad();
    return text;
  }
  if (type == "fsd") {
    if (!fsd_parse(text)) throw bad();
    return text;
  }
  if (type == "boolean") {
    if (text == "true") return true;
    if (text == "false") return false;
    throw bad();
  }
  Json v = Json::parse(text, nullptr, false);
  if (v.is_discarded() || !has_type(v, type)) throw bad();
  return v;
}

std::string type_of(const Json& v) {
  if (v.is_string()) return fsd_parse(v.get<std::string>()) ? "fsd" : "string";
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "real";
  if (v.is_boolean()) return "boolean";
  if (v.is_object()) return "object";
  return "array";
}

// flux-config(1)'s shorthands for the system configuration directories.
std::string config_dir(const std::string& path) {
  if (path == "system" || path == "security" || path == "imp")
    return std::string(kInstallPrefix) + "/etc/flux/" + path + "/conf.d";
  return path;
}

std::string read_stdin() {
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

// Where things are: in the build tree (intree) or under the install prefix.
Json builtins(bool intree) {
  std::string pre = intree ? prefix() : kInstallPrefix;
  return {{"rc1_path", pre + "/etc/flux/rc1"},
          {"rc3_path", pre + "/etc/flux/rc3"},
          {"shell_path", pre + "/libexec/flux/flux-shell"},
          {"shell_pluginpath", pre + "/lib/flux/shell/plugins"},
          {"shell_initrc", pre + "/etc/flux/shell/initrc.lua"},
          {"jobtap_pluginpath", pre + "/lib/flux/job-manager/plugins"},
          {"rundir", "/run/flux"},
          {"confdir", pre + "/etc/flux"},
          {"libexecdir", pre + "/libexec"},
          {"lua_cpath_add", ""},
          {"lua_path_add", ""},
          {"python_path", pre + "/lib/flux/python3"},
          {"man_path", pre + "/share/man"},
          {"exec_path", pre + "/libexec/flux/cmd"},
          {"connector_path", pre + "/lib/flux/connectors"},
          {"module_path", pre + "/lib/flux/modules"},
          {"pmi_library_path", pre + "/lib/flux/libpmi.so"},
          {"cmdhelp_pattern", pre + "/share/flux/help.d/*.json"},
          {"no_docs_path", pre + "/share/flux/.nodocs"}};
}

}  // namespace

int cmd_config(int argc, char** argv) {
  CLI::App app{"Manage/query Flux configuration."};
  app.require_subcommand(1);

  std::string get_name, get_default, get_type, get_path;
  bool quiet = false;
  auto* get = app.add_subcommand("get", "Query broker configuration values");
  get->add_option("NAME", get_name, "A dotted key (the whole object if none)");
  get->add_option("-d,--default", get_default, "Print VALUE if NAME is not set");
  get->add_flag("-q,--quiet", quiet, "Do not say that NAME is not set");
  get->add_option("-t,--type", get_type,
                  "Require a type: " + std::string("string, integer, real, "
                                                   "boolean, object, array, "
                                                   "fsd, fsd-integer, fsd-real"));
  get->add_option("-c,--config-path", get_path, "Read files at PATH (or system, security, imp)");

  std::string set_name, set_value, set_type;
  auto* set = app.add_subcommand("set", "Set a configuration value (leader, owner)");
  set->add_option("NAME", set_name)->required();
  set->add_option("VALUE", set_value)->required();
  set->add_option("-t,--type", set_type, "The type of VALUE");

  std::string unset_name;
  auto* unset = app.add_subcommand("unset", "Remove a configuration value (leader, owner)");
  unset->add_option("NAME", unset_name)->required();

  std::string builtin_name;
  bool intree = false, installed = false;
  auto* builtin = app.add_subcommand("builtin", "Print a compiled-in value");
  builtin->add_option("NAME", builtin_name)->required();
  builtin->add_flag("--intree", intree, "Paths in the build tree");
  builtin->add_flag("--installed", installed, "Paths where make install puts them");

  std::string load_path;
  auto* load = app.add_subcommand("load", "Replace the configuration (stdin or PATH's *.toml)");
  load->add_option("PATH", load_path);

  bool follower_noop = false;
  auto* reload = app.add_subcommand("reload", "Read the configuration files again (leader)");
  reload->add_flag("--follower-noop", follower_noop, "Do nothing on a follower broker");

  if (int rc = parse(app, argc, argv); rc >= 0) return rc;

  if (builtin->parsed()) {
    // In the build tree unless told, when this flux is not the installed one.
    bool in = intree || (!installed && prefix() != kInstallPrefix);
    Json b = builtins(in);
    if (!b.contains(builtin_name)) throw FluxError(EINVAL, builtin_name + " is invalid");
    std::printf("%s\n", b[builtin_name].get<std::string>().c_str());
    return 0;
  }
  if (get->parsed()) {
    if (!get_type.empty() && !known_type(get_type))
      throw FluxError(EINVAL, "Unknown type: " + get_type);
    Json config;
    if (!get_path.empty()) {
      config = config_load(config_dir(get_path));
    } else {
      auto h = open_instance();
      config = h->rpc("config.get", Json::object()).get_json();
    }
    const Json* v = get_name.empty() ? &config : find_path(config, get_name);
    if (!v) {
      if (get->count("--default")) {
        std::printf("%s\n", get_default.c_str());
        return 0;
      }
      if (!quiet) std::fprintf(stderr, "flux-config: %s is not set\n", get_name.c_str());
      return 1;
    }
    if (!get_type.empty() && !has_type(*v, get_type))
      throw FluxError(EINVAL, "value of " + get_name + " does not have the requested type");
    std::printf("%s\n", show(*v, get_type).c_str());
    return 0;
  }
  auto h = open_instance();
  if (reload->parsed()) {
    if (follower_noop) {
      auto r = h->rpc("attr.get", {{"name", "rank"}}).get_json();
      if (r.value("value", "0") != "0") return 0;
    }
    h->rpc("config.reload", Json::object()).get();
    return 0;
  }
  Json config;
  if (load->parsed()) {
    if (!load_path.empty()) {
      config = config_load(load_path);
    } else {
      std::string text = read_stdin();
      size_t first = text.find_first_not_of(" \t\r\n");
      if (first == std::string::npos)
        config = Json::object();
      else if (text[first] == '{')
        config = Json::parse(text, nullptr, false);
      else
        config = config_parse_toml(text, "stdin");
      if (!config.is_object()) throw FluxError(EINVAL, "stdin: not a JSON object or TOML");
    }
  } else {
    config = h->rpc("config.get", Json::object()).get_json();
    if (set->parsed()) {
      if (set_type == "fsd-integer" || set_type == "fsd-real")
        throw FluxError(EINVAL, "--type=" + set_type + " may not be set");
      if (!set_type.empty() && !known_type(set_type))
        throw FluxError(EINVAL, "Unknown type: " + set_type);
      std::string type = set_type;
      if (type.empty()) {
        const Json* old = find_path(config, set_name);
        if (!old) throw FluxError(EINVAL, set_name + " is not set: --type is required");
        type = type_of(*old);
      }
      *make_path(config, set_name) = parse_typed(type, set_value);
    } else {
      erase_path(config, unset_name);
    }
  }
  h->rpc("config.load", config).get();
  return 0;
}

}  // namespace flux::cmd
