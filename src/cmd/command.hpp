// The flux front end's built-in subcommands: one file each, listed in
// commands.cpp. A command gets argv with argv[0] = "flux-NAME" and returns
// the exit code; a FluxError it throws is printed as "flux-NAME: message".
#pragma once

#include <string>
#include <vector>

namespace flux::cmd {

using CommandFn = int (*)(int argc, char** argv);

struct Command {
  const char* name;
  const char* summary;
  CommandFn fn;
};

const std::vector<Command>& builtin_commands();

// Run the built-in subcommand args[0] with args[1..] (as `flux ARGS...`
// would): its exit code; an exception it throws is printed as
// "flux-NAME: message" and is 1. An unknown name is 1, with a message.
int run_builtin(std::vector<std::string> args);

// Where this flux lives: bin/ and the installation prefix above it.
std::string bindir();
std::string prefix();
// Environment additions every subcommand and flux-NAME program gets.
std::vector<std::pair<std::string, std::string>> flux_environment();

int cmd_start(int, char**);
int cmd_shutdown(int, char**);
int cmd_getattr(int, char**);
int cmd_setattr(int, char**);
int cmd_lsattr(int, char**);
int cmd_ping(int, char**);
int cmd_dmesg(int, char**);
int cmd_logger(int, char**);
int cmd_module(int, char**);
int cmd_event(int, char**);
int cmd_kvs(int, char**);
int cmd_content(int, char**);
int cmd_version(int, char**);
int cmd_env(int, char**);
int cmd_exec(int, char**);
int cmd_help(int, char**);
int cmd_job(int, char**);
int cmd_jobs(int, char**);
int cmd_submit(int, char**);
int cmd_bulksubmit(int, char**);
int cmd_run(int, char**);
int cmd_batch(int, char**);
int cmd_alloc(int, char**);
int cmd_proxy(int, char**);
int cmd_relay(int, char**);
int cmd_sequence(int, char**);
int cmd_top(int, char**);
int cmd_cancel(int, char**);
int cmd_queue(int, char**);
int cmd_pstree(int, char**);
int cmd_resource(int, char**);
int cmd_keygen(int, char**);
int cmd_overlay(int, char**);
int cmd_uptime(int, char**);
int cmd_config(int, char**);
int cmd_startlog(int, char**);
int cmd_archive(int, char**);
int cmd_sproc(int, char**);
int cmd_python(int, char**);
int cmd_R(int, char**);
int cmd_modprobe(int, char**);
int cmd_uri(int, char**);

}  // namespace flux::cmd
