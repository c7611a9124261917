// Shared bits of the subcommands: CLI11 parsing with flux-style errors, and
// opening the instance.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "libflux/handle.hpp"

namespace flux::cmd {

// Whether flux-core writes the command (flux-NAME) in Python: its usage
// errors are argparse's, its other errors "flux-NAME: ERROR: ...".
bool argparse_style(const std::string& prog);

// Parse argv into app; on --help prints and returns 0, on error prints
// "flux-NAME: ..." and returns 1; otherwise returns -1 (go on).
int parse(CLI::App& app, int argc, char** argv);

// Commands with subcommands (flux kvs, flux job): each subcommand is a
// CLI11 app and what runs it once parsed.
struct Subcommand {
  CLI::App* app;
  std::function<int()> run;
};
using Registry = std::vector<Subcommand>;

// Parse argv into app and run the parsed subcommand; its exit code.
int run_subcommand(CLI::App& app, const Registry& reg, int argc, char** argv);

// A byte count as flux-core's tools take it: a (decimal) number with an
// optional k/K (1024), M or G multiplier, at most max. Throws
// FluxError(EINVAL) naming opt.
size_t parse_size_suffix(const std::string& opt, const std::string& text, double max);

// -L/--color[=WHEN]: always (or no value), never, or auto (when stdout is
// a terminal). Throws FluxError(EINVAL) for anything else.
bool color_wanted(const std::string& when);
// Adds -L/--color[=WHEN] to cmd, storing WHEN in `when` (default auto).
void add_color_option(CLI::App* cmd, std::string& when);

// Connect to the enclosing instance (FLUX_URI).
inline std::unique_ptr<Handle> open_instance() {
  return Handle::open();
}

}  // namespace flux::cmd
