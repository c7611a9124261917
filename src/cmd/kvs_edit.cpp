// flux kvs unlink | link | readlink | mkdir | copy | move
#include <memory>

#include "kvs_common.hpp"
#include "libflux/treeobj.hpp"

namespace flux::cmd::kvscmd {
namespace {

// ---- unlink ----------------------------------------------------------------

struct UnlinkOptions {
  std::string ns;
  CommitOutput out;
  bool recursive = false;
  bool force = false;
  std::vector<std::string> keys;
};

// May KEY be unlinked? Values and links always; a directory only when it is
// empty or -R was given. A missing key is skipped (false) with -f, else an
// error, as flux-core.
bool unlinkable(Handle& h, const std::string& key, const UnlinkOptions& o) {
  auto refuse = [&](const FluxError& e) {
    throw FluxError(e.errnum(), "cannot unlink '" + key + "': " + error_text(e));
  };
  Json obj;
  try {
    obj = kvs::lookup_treeobj(kvs::lookup(h, key, kvs::kTreeobj, o.ns).get());
  } catch (const FluxError& e) {
    if (e.errnum() == ENOENT && o.force) return false;
    refuse(e);
  }
  if (o.recursive || !(treeobj::is_dir(obj) || treeobj::is_dirref(obj))) return true;
  try {
    Json entries = treeobj::is_dir(obj)
                       ? obj["data"]
                       : kvs::lookup_dir(kvs::lookup(h, key, kvs::kReaddir, o.ns).get());
    if (!entries.empty()) throw FluxError(ENOTEMPTY, "Directory not empty");
  } catch (const FluxError& e) {
    refuse(e);
  }
  return true;
}

int run_unlink(const UnlinkOptions& o) {
  auto h = open_instance();
  kvs::Txn txn;
  for (const auto& key : o.keys)
    if (unlinkable(*h, key, o)) txn.unlink(key);
  if (txn.empty()) {
    // Nothing to remove (all missing, with -f): report the current root.
    if (o.out.wanted()) o.out.print(kvs::getroot(*h, o.ns).get_json());
    return 0;
  }
  o.out.print(commit_or_fail(*h, txn, 0, o.ns));
  return 0;
}

void add_unlink(CLI::App& kvs, Registry& reg) {
  auto o = std::make_shared<UnlinkOptions>();
  auto* cmd = kvs.add_subcommand("unlink", "Remove keys");
  add_namespace_option(cmd, o->ns);
  o->out.add_options(cmd);
  cmd->add_flag("-R,--recursive", o->recursive, "Remove non-empty directories too");
  cmd->add_flag("-f,--force", o->force, "Ignore keys that do not exist");
  cmd->add_option("key", o->keys, "Keys to remove")->required();
  reg.push_back({cmd, [o] { return run_unlink(*o); }});
}

// ---- link ------------------------------------------------------------------

struct LinkOptions {
  std::string ns;
  std::string target_ns;
  CommitOutput out;
  std::string target;
  std::string linkname;
};

int run_link(const LinkOptions& o) {
  kvs::Txn txn;
  try {
    txn.symlink(o.linkname, o.target_ns, o.target);
  } catch (const FluxError& e) {
    fail(o.linkname, e);
  }
  auto h = open_instance();
  o.out.print(commit_or_fail(*h, txn, 0, o.ns));
  return 0;
}

void add_link(CLI::App& kvs, Registry& reg) {
  auto o = std::make_shared<LinkOptions>();
  auto* cmd = kvs.add_subcommand("link", "Make LINKNAME a symbolic link to TARGET");
  add_namespace_option(cmd, o->ns);
  cmd->add_option("-T,--target-namespace", o->target_ns, "Namespace of TARGET");
  o->out.add_options(cmd);
  cmd->add_option("target", o->target, "Key the link points to (need not exist)")->required();
  cmd->add_option("linkname", o->linkname, "Key of the new link")->required();
  reg.push_back({cmd, [o] { return run_link(*o); }});
}

// ---- readlink --------------------------------------------------------------

struct ReadlinkOptions {
  std::string ns;
  std::string at;
  bool ns_only = false;
  bool key_only = false;
  std::vector<std::string> keys;
};

int run_readlink(const ReadlinkOptions& o) {
  auto h = open_instance();
  std::string rootref = o.at.empty() ? "" : rootref_from_at(o.at);
  for (const auto& key : o.keys) {
    Json obj;
    try {
      obj = kvs::lookup_treeobj(kvs::lookup(*h, key, kvs::kReadlink, o.ns, rootref).get());
      if (!treeobj::is_symlink(obj)) throw FluxError(EINVAL, "not a symbolic link");
    } catch (const FluxError& e) {
      fail(key, e);
    }
    const Json& data = obj["data"];
    std::string target = data.value("target", "");
    std::string link_ns = data.value("namespace", "");
    if (o.ns_only && !link_ns.empty())
      std::printf("%s\n", link_ns.c_str());
    else if (o.key_only || link_ns.empty())
      std::printf("%s\n", target.c_str());
    else
      std::printf("%s::%s\n", link_ns.c_str(), target.c_str());
  }
  return 0;
}

void add_readlink(CLI::App& kvs, Registry& reg) {
  auto o = std::make_shared<ReadlinkOptions>();
  auto* cmd = kvs.add_subcommand("readlink", "Print the targets of symbolic links");
  add_namespace_option(cmd, o->ns);
  cmd->add_option("-a,--at", o->at, "Look up relative to this RFC 11 dirref (or blobref)");
  auto* nso = cmd->add_flag("-o,--namespace-only", o->ns_only,
                            "Print only the target's namespace, when it has one");
  auto* ko = cmd->add_flag("-k,--key-only", o->key_only, "Print only the target key");
  nso->excludes(ko);
  cmd->add_option("key", o->keys, "Symbolic links to read")->required();
  reg.push_back({cmd, [o] { return run_readlink(*o); }});
}

// ---- mkdir -----------------------------------------------------------------

struct MkdirOptions {
  std::string ns;
  CommitOutput out;
  std::vector<std::string> keys;
};

int run_mkdir(const MkdirOptions& o) {
  kvs::Txn txn;
  for (const auto& key : o.keys) {
    try {
      txn.mkdir(key);
    } catch (const FluxError& e) {
      fail(key, e);
    }
  }
  auto h = open_instance();
  o.out.print(commit_or_fail(*h, txn, 0, o.ns));
  return 0;
}

void add_mkdir(CLI::App& kvs, Registry& reg) {
  auto o = std::make_shared<MkdirOptions>();
  auto* cmd = kvs.add_subcommand("mkdir", "Create empty directories (replacing what is there)");
  add_namespace_option(cmd, o->ns);
  o->out.add_options(cmd);
  cmd->add_option("key", o->keys, "Directories to create")->required();
  reg.push_back({cmd, [o] { return run_mkdir(*o); }});
}

// ---- copy, move ------------------------------------------------------------

struct CopyOptions {
  std::string src_ns;
  std::string dst_ns;
  std::string src;
  std::string dst;
};

// Copying needs only SRC's directory entry: the tree below it is shared by
// reference, so even a large directory copies in one small commit.
void copy_key(Handle& h, const CopyOptions& o) {
  Json obj;
  try {
    obj = kvs::lookup_treeobj(kvs::lookup(h, o.src, kvs::kTreeobj, o.src_ns).get());
  } catch (const FluxError& e) {
    fail(o.src, e);
  }
  kvs::Txn txn;
  try {
    txn.put_treeobj(o.dst, obj);
  } catch (const FluxError& e) {
    fail(o.dst, e);
  }
  commit_or_fail(h, txn, 0, o.dst_ns);
}

int run_copy(const CopyOptions& o, bool move) {
  auto h = open_instance();
  copy_key(*h, o);
  if (move) {
    // A second commit: the copy is already in place if this one fails.
    kvs::Txn txn;
    txn.unlink(o.src);
    commit_or_fail(*h, txn, 0, o.src_ns);
  }
  return 0;
}

void add_copy_move(CLI::App& kvs, Registry& reg, const char* name, const char* help, bool move) {
  auto o = std::make_shared<CopyOptions>();
  auto* cmd = kvs.add_subcommand(name, help);
  cmd->add_option("-S,--src-namespace", o->src_ns, "Namespace of SOURCE");
  cmd->add_option("-D,--dst-namespace", o->dst_ns, "Namespace of DESTINATION");
  cmd->add_option("source", o->src, "Key to copy")->required();
  cmd->add_option("destination", o->dst, "Key to create or replace")->required();
  reg.push_back({cmd, [o, move] { return run_copy(*o, move); }});
}

}  // namespace

void add_edit(CLI::App& kvs, Registry& reg) {
  add_unlink(kvs, reg);
  add_link(kvs, reg);
  add_readlink(kvs, reg);
  add_mkdir(kvs, reg);
  add_copy_move(kvs, reg, "copy", "Copy SOURCE to DESTINATION", false);
  add_copy_move(kvs, reg, "move", "Copy SOURCE to DESTINATION, then unlink SOURCE", true);
}

}  // namespace flux::cmd::kvscmd
