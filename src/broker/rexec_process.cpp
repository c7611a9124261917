#include "rexec_process.hpp"
#include "subprocess.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <deque>

#include "libflux/asio_reactor.hpp"
#include "libflux/ioencode.hpp"
#include "libflux/path_search.hpp"
#include "libflux/result.hpp"

namespace flux::broker {

namespace {

constexpr size_t kReadSize = 65536;
const char* const kStreamNames[2] = {"stdout", "stderr"};

// A pipe whose ends close themselves unless released.
struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (pipe2(fd, O_CLOEXEC) < 0) throw FluxError(errno, std::string("pipe: ") + strerror(errno));
  }
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) close(f);
  }
  int release(int end) { return std::exchange(fd[end], -1); }
};

FluxError spawn_error(int err, const std::string& what) {
  return FluxError(err, what + ": " + std::strerror(err));
}

// The program to execute: argv[0] searched on the command's own PATH, with
// execvp's distinction between "not there" and "there but not executable".
std::string resolve(const SpawnSpec& spec) {
  const std::string& name = spec.argv[0];
  if (name.find('/') != std::string::npos) return name;
  auto path = spec.env.find("PATH");
  std::string dirs = path != spec.env.end() ? path->second : "/usr/bin:/bin";
  if (auto found = search_path(dirs, name, X_OK)) {
    struct stat st;
    if (stat(found->c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) return *found;
  }
  if (search_path(dirs, name, F_OK)) throw spawn_error(EACCES, name);
  throw spawn_error(ENOENT, name);
}

}  // namespace

struct RexecProcess::Pipes {
  explicit Pipes(asio::io_context& ctx)
      : in(ctx), out{asio::posix::stream_descriptor(ctx), asio::posix::stream_descriptor(ctx)} {}
  asio::posix::stream_descriptor in;
  std::array<asio::posix::stream_descriptor, 2> out;
  std::array<bool, 2> reading{false, false};
  std::array<std::string, 2> carry;  // the start of a split UTF-8 character
  std::array<std::array<char, kReadSize>, 2> buf;
  std::deque<std::string> queue;  // stdin bytes waiting to be written
  bool writing = false;
  bool eof_requested = false;
};

RexecProcess::RexecProcess(Reactor& r, const SpawnSpec& spec, OnOutput on_output)
    : on_output_(std::move(on_output)), pipes_(std::make_unique<Pipes>(io_context(r))) {
  if (spec.argv.empty()) throw FluxError(EPROTO, "command string is empty");
  if (!spec.cwd.empty()) {
    struct stat st;
    if (stat(spec.cwd.c_str(), &st) < 0)
      throw spawn_error(errno, spec.argv[0] + ": chdir " + spec.cwd);
    if (!S_ISDIR(st.st_mode)) throw spawn_error(ENOTDIR, spec.argv[0] + ": chdir " + spec.cwd);
  }
  std::string prog = resolve(spec);

  Pipe in, out, err;
  std::vector<char*> args;
  for (const auto& a : spec.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> envs;
  envs.reserve(spec.env.size());
  for (const auto& [k, v] : spec.env) envs.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in.fd[0], STDIN_FILENO);
  if (spec.forward_stdout) posix_spawn_file_actions_adddup2(&fa, out.fd[1], STDOUT_FILENO);
  if (spec.forward_stderr) posix_spawn_file_actions_adddup2(&fa, err.fd[1], STDERR_FILENO);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, spec.cwd.c_str());
  posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);

  posix_spawnattr_t attr;
  init_spawn_attr(&attr, true);  // its own process group
  // glibc's posix_spawn reports a failed chdir or exec as its result and
  // reaps the failed child itself.
  int rc = posix_spawn(&pid_, prog.c_str(), &fa, &attr, args.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw spawn_error(rc, spec.argv[0]);

  auto adopt = [](asio::posix::stream_descriptor& d, int fd) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    d.assign(fd);
  };
  adopt(pipes_->in, in.release(1));
  if (spec.forward_stdout) adopt(pipes_->out[0], out.release(0));
  if (spec.forward_stderr) adopt(pipes_->out[1], err.release(0));
  for (int i = 0; i < 2; i++)
    if (pipes_->out[i].is_open()) start_read(i);
}

RexecProcess::~RexecProcess() {
  *alive_ = false;
}

bool RexecProcess::output_done() const {
  return !pipes_->reading[0] && !pipes_->reading[1];
}

bool RexecProcess::stdin_open() const {
  return pipes_->in.is_open() && !pipes_->eof_requested;
}

void RexecProcess::start_read(int idx) {
  Pipes& p = *pipes_;
  p.reading[idx] = true;
  std::weak_ptr<bool> alive = alive_;
  p.out[idx].async_read_some(asio::buffer(p.buf[idx]),
                             [this, alive, idx](const asio::error_code& ec, size_t n) {
                               auto a = alive.lock();
                               if (!a || !*a) return;
                               Pipes& p = *pipes_;
                               std::string& carry = p.carry[idx];
                               if (n > 0) {
                                 carry.append(p.buf[idx].data(), n);
                                 size_t whole = utf8_complete_prefix(carry);
                                 if (whole == std::string::npos)
                                   whole = carry.size();  // binary: send it all
                                 if (whole > 0) {
                                   std::string data = carry.substr(0, whole);
                                   carry.erase(0, whole);
                                   on_output_(kStreamNames[idx], std::move(data), false);
                                   if (!*a) return;  // the callback may have destroyed us
                                 }
                               }
                               if (ec) {
                                 asio::error_code ignore;
                                 p.out[idx].close(ignore);
                                 p.reading[idx] = false;
                                 on_output_(kStreamNames[idx], std::exchange(carry, {}), true);
                                 return;
                               }
                               start_read(idx);
                             });
}

void RexecProcess::write_stdin(std::string data, bool eof) {
  Pipes& p = *pipes_;
  if (!p.in.is_open() || p.eof_requested) return;  // silently dropped, as flux-core
  if (!data.empty()) p.queue.push_back(std::move(data));
  if (eof) p.eof_requested = true;
  flush_stdin();
}

void RexecProcess::flush_stdin() {
  Pipes& p = *pipes_;
  if (p.writing || !p.in.is_open()) return;
  if (p.queue.empty()) {
    if (p.eof_requested) {
      asio::error_code ignore;
      p.in.close(ignore);
    }
    return;
  }
  p.writing = true;
  std::weak_ptr<bool> alive = alive_;
  asio::async_write(p.in, asio::buffer(p.queue.front()),
                    [this, alive](const asio::error_code& ec, size_t) {
                      auto a = alive.lock();
                      if (!a || !*a) return;
                      Pipes& p = *pipes_;
                      p.writing = false;
                      p.queue.pop_front();
                      if (ec) {  // the reader is gone (EPIPE): drop the rest
                        p.queue.clear();
                        asio::error_code ignore;
                        p.in.close(ignore);
                        return;
                      }
                      flush_stdin();
                    });
}

}  // namespace flux::broker
