// Shared bits of the subcommands: CLI11 parsing with flux-style errors, and
// opening the instance.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "libflux/handle.hpp"

namespace flux::cmd {

// Parse argv into app; on --help prints and returns 0, on error prints
// "flux-NAME: ..." and returns 1; otherwise returns -1 (go on).
int parse(CLI::App& app, int argc, char** argv);

// Connect to the enclosing instance (FLUX_URI).
inline std::unique_ptr<Handle> open_instance() {
  return Handle::open();
}

}  // namespace flux::cmd
