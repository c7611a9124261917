#include "files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "libflux/base64.hpp"

namespace flux::shell {

namespace {

namespace fs = std::filesystem;

bool safe_relative(const std::string& path) {
  if (path.empty() || path[0] == '/') return false;
  for (const auto& part : fs::path(path))
    if (part == "..") return false;
  return true;
}

Result<std::string> contents(const std::string& name, const Json& ref) {
  auto it = ref.find("data");
  if (it == ref.end() || it->is_null()) return std::string();
  std::string enc;
  if (auto e = ref.find("encoding"); e != ref.end() && !e->is_null()) {
    if (!e->is_string()) return Error{EINVAL, "files: " + name + ": encoding must be a string"};
    enc = e->get<std::string>();
  }
  if (!it->is_string()) {
    if (!enc.empty()) return Error{EINVAL, "files: " + name + ": encoded data must be a string"};
    return it->dump() + "\n";  // a JSON value, written as JSON
  }
  if (enc.empty() || enc == "utf-8") return it->get<std::string>();
  if (enc == "base64") {
    auto d = base64_decode(it->get<std::string>());
    if (!d) return Error{EINVAL, "files: " + name + ": data is not valid base64"};
    return std::move(d).value();
  }
  return Error{EINVAL, "files: " + name + ": unknown encoding " + enc};
}

void write_file(const std::string& path, const std::string& data, mode_t perms) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw FluxError(errno, path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      throw FluxError(err, path + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  // The mode is the archive's (flux batch makes its script 0700).
  if (::fchmod(fd, perms) < 0 || ::close(fd) < 0)
    throw FluxError(errno, path + ": " + std::strerror(errno));
}

}  // namespace

void stage_files(const Json& files, const std::string& dir) {
  if (files.is_null()) return;
  if (!files.is_object()) throw FluxError(EINVAL, "files: must be an object");
  for (auto it = files.begin(); it != files.end(); ++it) {
    const std::string& name = it.key();
    const Json& ref = it.value();
    if (!safe_relative(name))
      throw FluxError(EINVAL, "files: " + name + ": path must be relative, without ..");
    if (!ref.is_object()) throw FluxError(EINVAL, "files: " + name + ": must be an object");
    mode_t mode = S_IFREG | 0600;
    if (auto m = ref.find("mode"); m != ref.end()) {
      if (!m->is_number_integer() || m->get<int64_t>() < 0 || m->get<int64_t>() > 0177777)
        throw FluxError(EINVAL, "files: " + name + ": mode must be a file mode");
      mode = static_cast<mode_t>(m->get<int64_t>());
      if ((mode & S_IFMT) == 0) mode |= S_IFREG;
    }
    std::string path = dir + "/" + name;
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    if (ec) throw FluxError(ec.value(), path + ": " + ec.message());
    std::string data = contents(name, ref).value();
    switch (mode & S_IFMT) {
      case S_IFREG: {
        write_file(path, data, mode & 07777);
        break;
      }
      case S_IFDIR:
        if (::mkdir(path.c_str(), mode & 07777) < 0 && errno != EEXIST)
          throw FluxError(errno, path + ": " + std::strerror(errno));
        break;
      case S_IFLNK:
        if (::symlink(data.c_str(), path.c_str()) < 0)
          throw FluxError(errno, path + ": " + std::strerror(errno));
        break;
      default:
        throw FluxError(EINVAL, "files: " + name + ": unsupported file type");
    }
  }
}

}  // namespace flux::shell
