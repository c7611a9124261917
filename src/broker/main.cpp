// flux-broker [-v] [-c PATH] [-S NAME=VALUE]... [--] [INITIAL-PROGRAM [ARGS...]]
#include <malloc.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "broker.hpp"

namespace {

void usage(FILE* f) {
  std::fprintf(f,
               "Usage: flux-broker [-v] [-c,--config-path=PATH] [--conf=VALUE]... "
               "[-S,--setattr=NAME=VALUE]... [--] "
               "[COMMAND [ARGS...]]\n");
}

bool parse_setattr(const std::string& kv, flux::broker::BrokerOptions& o) {
  size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  o.setattrs.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread: two arenas, not glibc's 8 per core (each module
  // thread would get its own, holding on to its peak): after 10K jobs
  // 130 MB instead of 160, for about a fifth of the job throughput. No
  // lower mmap threshold: mapping every buffer over 64 KB fresh made a
  // restart of 16K jobs 2.5x slower (page faults) and saved no memory.
  mallopt(M_ARENA_MAX, 2);
  flux::broker::BrokerOptions opts;
  int i = 1;
  for (; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--") {
      i++;
      break;
    }
    if (a.empty() || a[0] != '-') break;
    std::string kv;
    if (a == "-S" || a == "--setattr") {
      if (i + 1 >= argc) {
        usage(stderr);
        return 1;
      }
      kv = argv[++i];
    } else if (a.rfind("-S", 0) == 0 && a.size() > 2) {
      kv = a.substr(2);
    } else if (a.rfind("--setattr=", 0) == 0) {
      kv = a.substr(10);
    } else if (a == "-c" || a == "--config-path") {
      if (i + 1 >= argc) {
        usage(stderr);
        return 1;
      }
      opts.config_path = argv[++i];
      continue;
    } else if (a.rfind("--config-path=", 0) == 0) {
      opts.config_path = a.substr(14);
      continue;
    } else if (a.rfind("-c", 0) == 0 && a.size() > 2) {
      opts.config_path = a.substr(2);
      continue;
    } else if (a == "--conf") {
      if (i + 1 >= argc) {
        usage(stderr);
        return 1;
      }
      opts.conf.push_back(argv[++i]);
      continue;
    } else if (a.rfind("--conf=", 0) == 0) {
      opts.conf.push_back(a.substr(7));
      continue;
    } else if (a == "-v" || a == "--verbose") {
      opts.verbose++;
      continue;
    } else if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else {
      // getopt's words, as flux-core's broker says it.
      std::fprintf(stderr, "flux-broker: unrecognized option '%s'\n", a.c_str());
      usage(stderr);
      return 1;
    }
    if (!parse_setattr(kv, opts)) {
      std::fprintf(stderr, "flux-broker: --setattr: expected NAME=VALUE, got '%s'\n", kv.c_str());
      return 1;
    }
  }
  for (; i < argc; i++) opts.initial_program.push_back(argv[i]);

  signal(SIGPIPE, SIG_IGN);
  try {
    flux::broker::Broker broker(std::move(opts));
    return broker.run();
  } catch (const flux::FluxError& e) {
    std::fprintf(stderr, "flux-broker: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flux-broker: %s\n", e.what());
    return 1;
  }
}
