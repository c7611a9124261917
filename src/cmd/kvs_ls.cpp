// flux kvs ls: list keys in the manner of ls(1), as flux-core does.
#include <algorithm>
#include <cstring>
#include <memory>

#include "kvs_common.hpp"
#include "libflux/treeobj.hpp"

namespace flux::cmd::kvscmd {
namespace {

struct LsOptions {
  std::string ns;
  bool recursive = false;
  bool directory = false;
  int width = -1;
  bool one = false;
  bool classify = false;
  std::vector<std::string> keys;
};

struct LsContext {
  Handle& h;
  const LsOptions& o;
  int width;
};

// Do we start a new line before a column of col_width at position col?
bool need_newline(int col, int col_width, int width) {
  return width != 0 && col + col_width > width && col > 0;
}

// Names in columns as wide as the longest name (as given in `widest`) plus
// four, as many to a line as fit in the width.
void print_columns(const std::vector<std::string>& names, size_t widest, int width) {
  int col_width = static_cast<int>(widest) + 4;
  int col = 0;
  size_t last_len = 0;
  for (const auto& name : names) {
    if (need_newline(col, col_width, width)) {
      std::printf("\n");
      col = 0;
    } else if (last_len > 0) {
      std::printf("%*s", col_width - static_cast<int>(last_len), "");
    }
    std::printf("%s", name.c_str());
    last_len = name.size();
    col += col_width;
  }
  if (col > 0) std::printf("\n");
}

size_t longest(const std::vector<std::string>& names) {
  size_t n = 0;
  for (const auto& s : names) n = std::max(n, s.size());
  return n;
}

void list_dir(LsContext& c, const std::string& key, bool label, bool vspace) {
  Json entries = read_dir(c.h, key, c.o.ns);
  if (label) std::printf("%s%s:\n", vspace ? "\n" : "", key.c_str());
  std::vector<std::string> names;
  size_t widest = 0;
  for (const auto& [name, obj] : entries.items()) {
    widest = std::max(widest, name.size());
    std::string shown = name;
    if (c.o.classify && is_dir_entry(obj)) shown += ".";
    if (c.o.classify && treeobj::is_symlink(obj)) shown += "@";
    names.push_back(shown);
  }
  print_columns(names, widest, c.width);
  if (!c.o.recursive) return;
  for (const auto& [name, obj] : entries.items())
    if (is_dir_entry(obj)) list_dir(c, key_at(key, name), label, true);
}

// Sort a command line key into the directories to list and the other names
// to print. A trailing "." demands a directory. Returns false (after saying
// why on stderr) if the key cannot be listed.
bool categorize(LsContext& c, const std::string& arg, std::vector<std::string>& dirs,
                std::vector<std::string>& singles) {
  std::string key = arg;
  bool require_dir = false;
  while (key.size() > 1 && key.back() == '.') {
    key.pop_back();
    require_dir = true;
  }
  auto complain = [&](const std::string& why) {
    std::fprintf(stderr, "flux-kvs: %s: %s\n", key.c_str(), why.c_str());
    return false;
  };
  Json obj;
  try {
    obj = kvs::lookup_treeobj(kvs::lookup(c.h, key, kvs::kTreeobj, c.o.ns).get());
  } catch (const FluxError& e) {
    return complain(error_text(e));
  }
  if (is_dir_entry(obj)) {
    if (c.o.directory)
      singles.push_back(c.o.classify ? key + "." : key);
    else
      dirs.push_back(key);
    return true;
  }
  if (require_dir) return complain(std::strerror(ENOTDIR));
  if (!treeobj::is_symlink(obj)) {
    singles.push_back(key);
    return true;
  }
  if (c.o.classify || c.o.directory) {
    singles.push_back(c.o.classify ? key + "@" : key);
    return true;
  }
  // A link to a directory lists the directory; any other link (even a
  // dangling one) is listed by name.
  try {
    kvs::lookup_value(kvs::lookup(c.h, key, 0, c.o.ns).get());
    singles.push_back(key);
  } catch (const FluxError& e) {
    if (e.errnum() == EISDIR)
      dirs.push_back(key);
    else if (e.errnum() == ENOENT)
      singles.push_back(key);
    else
      fail(key, e);
  }
  return true;
}

int run_ls(const LsOptions& o) {
  auto h = open_instance();
  LsContext c{*h, o, o.one ? 1 : window_width(o.width)};
  std::vector<std::string> dirs, singles;
  int rc = 0;
  std::vector<std::string> keys = o.keys.empty() ? std::vector<std::string>{"."} : o.keys;
  for (const auto& key : keys)
    if (!categorize(c, key, dirs, singles)) rc = 1;
  std::sort(dirs.begin(), dirs.end());
  std::sort(singles.begin(), singles.end());
  bool label = false, vspace = false;
  if (!singles.empty()) {
    print_columns(singles, longest(singles), c.width);
    label = vspace = true;
  }
  if (o.recursive || dirs.size() > 1) label = true;
  for (const auto& d : dirs) {
    list_dir(c, d, label, vspace);
    vspace = true;
  }
  return rc;
}

}  // namespace

void add_ls(CLI::App& kvs, Registry& reg) {
  auto o = std::make_shared<LsOptions>();
  auto* ls = kvs.add_subcommand("ls", "List directories, like ls(1)");
  add_namespace_option(ls, o->ns);
  ls->add_flag("-R,--recursive", o->recursive, "List subdirectories recursively");
  ls->add_flag("-d,--directory", o->directory, "List directories themselves, not their contents");
  ls->add_option("-w,--width", o->width, "Fit output in N columns (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  ls->add_flag("-1", o->one, "One entry per line");
  ls->add_flag("-F,--classify", o->classify, "Append . to directories and @ to symlinks");
  ls->add_option("key", o->keys, "Keys to list (default: the root, \".\")");
  reg.push_back({ls, [o] { return run_ls(*o); }});
}

}  // namespace flux::cmd::kvscmd
