// Pieces shared by the `flux kvs` subcommands (kvs*.cpp). Each file adds
// its subcommands to the `kvs` CLI11 app and registers what runs each one
// once parsed; kvs.cpp parses and dispatches.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "libflux/handle.hpp"
#include "libflux/json.hpp"
#include "libflux/kvs.hpp"

namespace flux::cmd::kvscmd {

using cmd::Registry;  // cli.hpp

void add_get_put(CLI::App& kvs, Registry& reg);    // get, put
void add_dir(CLI::App& kvs, Registry& reg);        // dir
void add_ls(CLI::App& kvs, Registry& reg);         // ls
void add_edit(CLI::App& kvs, Registry& reg);       // unlink, link, readlink, mkdir, copy, move
void add_root(CLI::App& kvs, Registry& reg);       // getroot, version, wait, dropcache
void add_namespace(CLI::App& kvs, Registry& reg);  // namespace create|remove|list
void add_eventlog(CLI::App& kvs, Registry& reg);   // eventlog get|append|wait-event

// -N, --namespace (empty means FLUX_KVS_NAMESPACE or primary).
void add_namespace_option(CLI::App* app, std::string& ns);

// The text after "WHAT: " in an error message. flux-core prints strerror()
// for lookup and commit errors; we do the same for the errors whose
// strerror says it all, and keep the server's text for the others (e.g.
// "namespace foo does not exist" rather than "Operation not supported").
std::string error_text(const FluxError& e);
// FluxError(e.errnum(), what + ": " + error_text(e)).
[[noreturn]] void fail(const std::string& what, const FluxError& e);

// Lookup that fails with "KEY: reason".
Message lookup_or_fail(Handle& h, const std::string& key, int flags, const std::string& ns,
                       const std::string& rootref = "");

// A directory's entries (name -> treeobj), or "KEY: reason".
Json read_dir(Handle& h, const std::string& key, const std::string& ns,
              const std::string& rootref = "");

// Output width for dir and ls: opt_width (-w) if set (>= 0), else the
// terminal's, else $COLUMNS, else 80 (as flux-core, so output that is not
// a terminal still gets columns). 0 means unlimited.
int window_width(int opt_width);

// A dir or dirref treeobj.
bool is_dir_entry(const Json& obj);

// The blobref to look up at, from an --at argument: an RFC 11 dirref
// object (as `flux kvs getroot` prints) or a bare blobref.
std::string rootref_from_at(const std::string& at);

// A key under directory `dir` ("." is the root), as flux-core names them.
std::string key_at(const std::string& dir, const std::string& name);

// Everything on standard input (for VALUE "-").
std::string read_stdin();

// Up to the first NUL: flux-core hands values to printf as C strings.
std::string_view c_string(std::string_view bytes);

// Ask kvs-watch to end a stream; it answers with ENODATA, which the caller
// still reads (Rpc::next() returns nullopt) so nothing is left in flight.
void cancel_watch(Handle& h, const Rpc& rpc);
// Read and discard a stream's remaining responses up to its end.
void drain(Rpc& rpc);

// The first answer of a kvs-watch stream opened with kWaitCreate (the key's
// value once it exists), then the stream is cancelled.
Message wait_create(Handle& h, const std::string& key, int flags, const std::string& ns);

// -O/--treeobj-root, -b/--blobref, -s/--sequence: what to print about the
// root a commit made.
struct CommitOutput {
  bool treeobj_root = false;
  bool blobref = false;
  bool sequence = false;
  void add_options(CLI::App* app);
  void print(const Json& commit_response) const;
  bool wanted() const { return treeobj_root || blobref || sequence; }
};

// Commit txn (flags kNoMerge/kSync) in ns; a failure reads "commit: reason".
Json commit_or_fail(Handle& h, const kvs::Txn& txn, int flags, const std::string& ns);

}  // namespace flux::cmd::kvscmd
