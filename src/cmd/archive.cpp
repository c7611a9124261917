// flux archive: files kept in the KVS as one RFC 37 archive (a JSON array of
// file objects) under archive.NAME, as flux-archive(1). Small files are
// inline (base64); larger ones are chunks in the content store (blobvec), so
// that many brokers extracting the same archive share one copy of each
// chunk through their content caches. --preserve also writes
// archive.NAME_blobs, a valref naming every chunk, so that they are
// reachable from the KVS root.
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <filesystem>

#include "cli.hpp"
#include "command.hpp"
#include "content_client.hpp"
#include "libflux/base64.hpp"
#include "libflux/kvs.hpp"

namespace flux::cmd {

namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string& path, size_t offset, size_t len) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw FluxError(errno, path + ": " + std::strerror(errno));
  std::string data(len, '\0');
  size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, data.data() + got, len - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      ::close(fd);
      throw FluxError(err, path + ": " + std::strerror(err));
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  return data;
}

struct Creator {
  Handle& h;
  HashAlg alg;
  size_t chunksize;
  size_t threshold;
  bool verbose;
  Json archive = Json::array();
  std::vector<std::string> blobrefs;

  void add(const std::string& path) {
    struct stat sb {};
    if (::lstat(path.c_str(), &sb) < 0) throw FluxError(errno, path + ": " + std::strerror(errno));
    Json obj = {{"path", path},
                {"mode", sb.st_mode},
                {"mtime", static_cast<int64_t>(sb.st_mtime)},
                {"ctime", static_cast<int64_t>(sb.st_ctime)}};
    if (verbose) std::fprintf(stderr, "%s\n", path.c_str());
    if (S_ISDIR(sb.st_mode)) {
      archive.push_back(std::move(obj));
      std::vector<std::string> names;
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(path, ec))
        names.push_back(e.path().filename().string());
      if (ec) throw FluxError(ec.value(), path + ": " + ec.message());
      std::sort(names.begin(), names.end());
      for (const auto& n : names) add(path == "." ? n : path + "/" + n);
    } else if (S_ISLNK(sb.st_mode)) {
      std::string target(4096, '\0');
      ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
      if (n < 0) throw FluxError(errno, path + ": " + std::strerror(errno));
      target.resize(static_cast<size_t>(n));
      obj["data"] = target;
      archive.push_back(std::move(obj));
    } else if (S_ISREG(sb.st_mode)) {
      if (::access(path.c_str(), R_OK) < 0)
        throw FluxError(errno, path + ": " + std::strerror(errno));
      size_t size = static_cast<size_t>(sb.st_size);
      obj["size"] = size;
      if (size > 0 && (threshold == 0 || size > threshold)) {
        obj["encoding"] = "blobvec";
        obj["data"] = store_chunks(path, size);
      } else if (size > 0) {
        obj["encoding"] = "base64";
        obj["data"] = base64_encode(read_file(path, 0, size));
      }
      archive.push_back(std::move(obj));
    } else {
      throw FluxError(EINVAL, path + ": unsupported file type");
    }
  }

  // Each chunk stored as one blob; the stores pipelined.
  Json store_chunks(const std::string& path, size_t size) {
    size_t step = chunksize == 0 ? size : chunksize;
    std::deque<std::pair<size_t, Rpc>> pending;
    Json vec = Json::array();
    auto take = [&] {
      auto& [off, rpc] = pending.front();
      Message r = rpc.get();
      std::string ref = blobref_from_digest(alg, r.payload());
      vec.push_back({off, std::min(step, size - off), ref});
      blobrefs.push_back(ref);
      pending.pop_front();
    };
    for (size_t off = 0; off < size; off += step) {
      pending.emplace_back(
          off, h.rpc_message(
                   raw_request("content.store", read_file(path, off, std::min(step, size - off)))));
      if (pending.size() >= 8) take();
    }
    while (!pending.empty()) take();
    return vec;
  }
};

// The archive's array, or nullopt when there is none.
std::optional<Json> fetch(Handle& h, const std::string& key, const std::string& ns,
                          bool waitcreate) {
  try {
    Message m = waitcreate ? kvs::lookup_watch(h, key, kvs::kWaitCreate, ns).get()
                           : kvs::lookup(h, key, 0, ns).get();
    Json a = Json::parse(kvs::lookup_value(m), nullptr, false);
    if (!a.is_array()) throw FluxError(EINVAL, key + ": not an RFC 37 archive");
    return a;
  } catch (const FluxError& e) {
    if (e.errnum() == ENOENT) return std::nullopt;
    throw;
  }
}

void write_all(int fd, const std::string& data, off_t offset, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw FluxError(errno, path + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
}

void extract_one(Handle& h, const Json& obj, bool verbose) {
  std::string path = obj.at("path");
  // RFC 37: no absolute paths and no "..": nothing lands outside DIR.
  if (path.empty() || path[0] == '/' || ("/" + path + "/").find("/../") != std::string::npos)
    throw FluxError(EINVAL, path + ": unsafe path in archive");
  mode_t mode = obj.at("mode").get<mode_t>();
  if (verbose) std::fprintf(stderr, "%s\n", path.c_str());
  fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (S_ISDIR(mode)) {
    if (::mkdir(path.c_str(), mode & 07777) < 0 && errno != EEXIST)
      throw FluxError(errno, path + ": " + std::strerror(errno));
    ::chmod(path.c_str(), mode & 07777);
    return;
  }
  if (S_ISLNK(mode)) {
    ::unlink(path.c_str());
    if (::symlink(obj.at("data").get<std::string>().c_str(), path.c_str()) < 0)
      throw FluxError(errno, path + ": " + std::strerror(errno));
    return;
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw FluxError(errno, path + ": " + std::strerror(errno));
  try {
    std::string enc = obj.value("encoding", "");
    if (enc == "base64") {
      auto data = base64_decode(obj.at("data").get<std::string>());
      if (!data) throw FluxError(EINVAL, path + ": bad base64 data");
      write_all(fd, *data, 0, path);
    } else if (enc == "utf-8") {
      write_all(fd, obj.at("data").get<std::string>(), 0, path);
    } else if (enc == "blobvec") {
      std::deque<std::pair<int64_t, Rpc>> pending;
      auto take = [&] {
        Message r = pending.front().second.get();
        write_all(fd, r.payload(), static_cast<off_t>(pending.front().first), path);
        pending.pop_front();
      };
      for (const auto& region : obj.at("data")) {
        auto digest = blobref_to_digest(region.at(2).get<std::string>());
        if (!digest) throw FluxError(digest.error());
        pending.emplace_back(region.at(0).get<int64_t>(),
                             h.rpc_message(raw_request("content.load", digest->second)));
        if (pending.size() >= 8) take();
      }
      while (!pending.empty()) take();
    } else if (enc.empty() && obj.contains("data")) {
      write_all(fd, obj["data"].dump(), 0, path);  // JSON content
    }
    if (obj.contains("size") && ::ftruncate(fd, obj["size"].get<off_t>()) < 0)
      throw FluxError(errno, path + ": " + std::strerror(errno));
    ::fchmod(fd, mode & 07777);
    if (obj.contains("mtime")) {
      struct timeval tv[2] = {{obj["mtime"].get<time_t>(), 0}, {obj["mtime"].get<time_t>(), 0}};
      ::futimes(fd, tv);
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

char type_letter(mode_t mode) {
  return S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'l' : 'f';
}

void change_dir(const std::string& dir) {
  if (!dir.empty() && ::chdir(dir.c_str()) < 0)
    throw FluxError(errno, "chdir " + dir + ": " + std::strerror(errno));
}

}  // namespace

int cmd_archive(int argc, char** argv) {
  CLI::App app{"Store files in the KVS (RFC 37 archives) and extract them."};
  app.require_subcommand(1);
  std::string name = "main", dir, pattern, chunksize = "1M", threshold = "1K";
  bool no_force_primary = false, overwrite = false, append = false, preserve = false,
       longlist = false, raw = false, force = false, waitcreate = false, mmap = false;
  int verbose = 0;
  std::vector<std::string> paths;
  auto common = [&](CLI::App* sub) {
    sub->add_option("-n,--name", name, "Archive name (default main): KVS key archive.NAME");
    sub->add_flag("--no-force-primary", no_force_primary,
                  "Use FLUX_KVS_NAMESPACE (else the primary namespace)");
  };
  auto* create = app.add_subcommand("create", "Archive files and directories");
  common(create);
  create->add_option("PATH", paths, "Files and directories (recursively)")->required();
  create->add_flag("--overwrite", overwrite, "Replace an archive that exists");
  create->add_flag("--append", append, "Add to an archive that exists");
  create->add_option("-C,--directory", dir, "Change to DIR first");
  create->add_flag("--preserve", preserve, "Keep the chunks reachable across a restart");
  create->add_flag("-v,--verbose", verbose, "List files as they are archived");
  create->add_option("--chunksize", chunksize, "Largest content blob (default 1M; 0: unlimited)");
  create->add_option("--small-file-threshold", threshold,
                     "Files up to this size are kept in the archive itself (default 1K)");
  create->add_flag("--mmap", mmap, "Accepted; files are copied into the content store");
  auto* list = app.add_subcommand("list", "List an archive's contents");
  common(list);
  list->add_option("PATTERN", pattern, "Only paths matching this glob(7) pattern");
  list->add_flag("-l,--long", longlist, "Show type, mode and size");
  list->add_flag("--raw", raw, "Print the RFC 37 file objects as JSON");
  auto* extract = app.add_subcommand("extract", "Extract files from an archive");
  common(extract);
  extract->add_option("PATTERN", pattern, "Only paths matching this glob(7) pattern");
  extract->add_option("-C,--directory", dir, "Change to DIR first");
  extract->add_flag("-v,--verbose", verbose, "List files as they are extracted");
  extract->add_flag("--waitcreate", waitcreate, "Wait for the archive to be created");
  auto* remove = app.add_subcommand("remove", "Remove an archive");
  common(remove);
  remove->add_flag("-f,--force", force, "Do not fail if there is no such archive");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;

  std::string key = "archive." + name;
  std::string blobs_key = key + "_blobs";
  if (create->parsed() && overwrite && append)
    throw FluxError(EINVAL, "--overwrite and --append cannot be used together");
  if (create->parsed() || extract->parsed()) change_dir(dir);
  auto h = open_instance();
  std::string ns = no_force_primary ? kvs::default_namespace() : std::string(kvs::kPrimary);

  if (create->parsed()) {
    auto existing = fetch(*h, key, ns, false);
    if (existing && !overwrite && !append) throw FluxError(EEXIST, key + " exists");
    Creator c{*h,
              instance_hash(*h),
              parse_size_suffix("--chunksize", chunksize, 2147483647.0),
              parse_size_suffix("--small-file-threshold", threshold, 2147483647.0),
              verbose > 0,
              Json::array(),
              {}};
    if (existing && append) c.archive = std::move(*existing);
    for (const auto& p : paths) c.add(fs::path(p).lexically_normal().string());
    kvs::Txn txn;
    if (overwrite) txn.unlink(blobs_key);
    txn.put_json(key, c.archive);
    if (preserve && !c.blobrefs.empty())
      txn.put_treeobj(blobs_key, {{"ver", 1}, {"type", "valref"}, {"data", c.blobrefs}});
    kvs::commit(*h, txn, 0, ns).get();
    return 0;
  }
  if (remove->parsed()) {
    if (!fetch(*h, key, ns, false)) {
      if (force) return 0;
      throw FluxError(ENOENT, key + " does not exist");
    }
    kvs::Txn txn;
    txn.unlink(key);
    txn.unlink(blobs_key);
    kvs::commit(*h, txn, 0, ns).get();
    return 0;
  }
  auto archive = fetch(*h, key, ns, waitcreate);
  if (!archive) throw FluxError(ENOENT, key + ": " + std::strerror(ENOENT));
  size_t matched = 0;
  for (const auto& obj : *archive) {
    if (!obj.is_object() || !obj.contains("path") || !obj["path"].is_string() ||
        !obj.contains("mode") || !obj["mode"].is_number_unsigned())
      throw FluxError(EINVAL, key + ": not an RFC 37 archive");
    std::string path = obj["path"];
    if (!pattern.empty() && fnmatch(pattern.c_str(), path.c_str(), 0) != 0) continue;
    matched++;
    if (extract->parsed()) {
      extract_one(*h, obj, verbose > 0);
    } else if (raw) {
      std::printf("%s\n", obj.dump().c_str());
    } else if (longlist) {
      mode_t mode = obj["mode"].get<mode_t>();
      std::printf("%c %04o %8llu %s\n", type_letter(mode), mode & 07777,
                  static_cast<unsigned long long>(obj.value("size", uint64_t{0})), path.c_str());
    } else {
      std::printf("%s\n", path.c_str());
    }
  }
  if (extract->parsed() && matched == 0 && !pattern.empty())
    std::fprintf(stderr, "flux-archive: No files matched pattern '%s'\n", pattern.c_str());
  return 0;
}

}  // namespace flux::cmd
