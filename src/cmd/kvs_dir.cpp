// flux kvs dir
#include <algorithm>
#include <memory>

#include "kvs_common.hpp"
#include "libflux/treeobj.hpp"

namespace flux::cmd::kvscmd {
namespace {

struct DirOptions {
  std::string ns;
  bool recursive = false;
  bool directory = false;
  int width = -1;
  std::string at;
  std::string key = ".";
};

struct DirContext {
  Handle& h;
  const DirOptions& o;
  std::string rootref;
  int maxcol;
};

// "KEY = VALUE", cut to fit maxcol (0: never): at the width, at a newline
// with text after it, and at the first unprintable byte, with "..." added
// where something was cut off.
void print_key_value(const std::string& key, std::string_view value, int maxcol) {
  std::string kv = key + " = " + std::string(c_string(value));
  if (maxcol != 0 && maxcol <= 3) maxcol = 0;
  bool overflow = false;
  if (maxcol != 0) {
    if (kv.size() > static_cast<size_t>(maxcol - 3)) {
      kv.resize(maxcol - 3);
      overflow = true;
    }
    if (size_t nl = kv.find('\n'); nl != std::string::npos) {
      if (nl + 1 < kv.size()) overflow = true;
      kv.resize(nl);
    }
    auto bad = std::find_if(kv.begin(), kv.end(), [](char c) {
      auto u = static_cast<unsigned char>(c);
      return u < 0x20 || u > 0x7e;
    });
    if (bad != kv.end()) {
      kv.erase(bad, kv.end());
      overflow = true;
    }
  }
  std::printf("%s%s\n", kv.c_str(), overflow ? "..." : "");
}

void dump_dir(DirContext& c, const std::string& dirkey, const Json& entries) {
  for (const auto& [name, obj] : entries.items()) {
    std::string key = key_at(dirkey, name);
    if (treeobj::is_symlink(obj)) {
      const Json& data = obj["data"];
      std::string target = data.value("target", "");
      if (data.contains("namespace"))
        std::printf("%s -> %s::%s\n", key.c_str(), data["namespace"].get<std::string>().c_str(),
                    target.c_str());
      else
        std::printf("%s -> %s\n", key.c_str(), target.c_str());
    } else if (is_dir_entry(obj)) {
      if (!c.o.recursive) {
        std::printf("%s.\n", key.c_str());
        continue;
      }
      Json sub = read_dir(c.h, key, c.o.ns, c.rootref);
      if (sub.empty())
        std::printf("%s.\n", key.c_str());
      else
        dump_dir(c, key, sub);
    } else if (c.o.directory) {
      std::printf("%s\n", key.c_str());
    } else {
      // A val holds its bytes; a valref's must be fetched.
      std::string value;
      try {
        value = treeobj::is_val(obj)
                    ? treeobj::decode_val(obj).value()
                    : kvs::lookup_value(kvs::lookup(c.h, key, 0, c.o.ns, c.rootref).get());
      } catch (const FluxError& e) {
        fail(key, e);
      }
      print_key_value(key, value, c.maxcol);
    }
  }
}

int run_dir(const DirOptions& o) {
  auto h = open_instance();
  DirContext c{*h, o, o.at.empty() ? "" : rootref_from_at(o.at), window_width(o.width)};
  std::string key = kvs::normalize_key(o.key);
  dump_dir(c, key, read_dir(*h, key, o.ns, c.rootref));
  return 0;
}

}  // namespace

void add_dir(CLI::App& kvs, Registry& reg) {
  auto o = std::make_shared<DirOptions>();
  auto* dir = kvs.add_subcommand("dir", "Print the keys and values under a directory");
  add_namespace_option(dir, o->ns);
  dir->add_flag("-R,--recursive", o->recursive, "Descend into subdirectories");
  dir->add_flag("-d,--directory", o->directory, "Print keys without their values");
  dir->add_option("-w,--width", o->width, "Truncate lines to N columns (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  dir->add_option("-a,--at", o->at, "Look up relative to this RFC 11 dirref (or blobref)");
  dir->add_option("key", o->key, "Directory (default: the root, \".\")");
  reg.push_back({dir, [o] { return run_dir(*o); }});
}

}  // namespace flux::cmd::kvscmd
