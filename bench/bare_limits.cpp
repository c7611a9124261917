// The machine's own limits, measured in the same run as our figures:
//   bare_limits rtt N     median round trip (µs) of a 64-byte message
//                         between two processes over a UNIX socketpair
//   bare_limits spawn N   median time (ms) to spawn and reap /bin/true
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

extern char** environ;

static double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

static bool full_io(int fd, char* buf, size_t n, bool write_mode) {
  size_t done = 0;
  while (done < n) {
    ssize_t k = write_mode ? write(fd, buf + done, n - done) : read(fd, buf + done, n - done);
    if (k <= 0) return false;
    done += static_cast<size_t>(k);
  }
  return true;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bare_limits rtt|spawn N\n");
    return 2;
  }
  int n = std::atoi(argv[2]);
  std::vector<double> samples;
  if (std::strcmp(argv[1], "rtt") == 0) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) return 1;
    char buf[64] = {};
    pid_t pid = fork();
    if (pid == 0) {
      close(sv[0]);
      while (full_io(sv[1], buf, sizeof(buf), false) && full_io(sv[1], buf, sizeof(buf), true)) {
      }
      _exit(0);
    }
    close(sv[1]);
    for (int i = 0; i < n; i++) {
      double t0 = now();
      if (!full_io(sv[0], buf, sizeof(buf), true) || !full_io(sv[0], buf, sizeof(buf), false))
        return 1;
      samples.push_back((now() - t0) * 1e6);
    }
    close(sv[0]);
    waitpid(pid, nullptr, 0);
  } else {
    char* args[] = {const_cast<char*>("/bin/true"), nullptr};
    for (int i = 0; i < n; i++) {
      double t0 = now();
      pid_t pid;
      if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, args, environ) != 0) return 1;
      waitpid(pid, nullptr, 0);
      samples.push_back((now() - t0) * 1e3);
    }
  }
  std::printf("%.3f\n", median(samples));
  return 0;
}
