// flux job taskmap: a job's task map (RFC 34), from the shell.start event
// of its exec eventlog, or a task map given on the command line.
#include <cstdio>

#include "job_common.hpp"
#include "job_query.hpp"
#include "libflux/taskmap.hpp"

namespace flux::cmd::jobcmd {

namespace {

Taskmap job_taskmap(Handle& h, JobId id) {
  Rpc rpc = eventlog_watch(h, id, "guest.exec.eventlog");
  while (auto m = rpc.next()) {
    EventlogEntry e = watch_entry(*m);
    if (e.name != "shell.start") continue;
    eventlog_watch_cancel(h, rpc);
    if (!e.context.is_object() || !e.context.contains("taskmap"))
      throw FluxError(EPROTO, "shell.start has no taskmap");
    return Taskmap::from_json(e.context["taskmap"]).value();
  }
  throw FluxError(ENODATA, "job ended before its tasks started: no task map");
}

}  // namespace

void add_taskmap(CLI::App& job, Registry& reg) {
  auto* app = job.add_subcommand("taskmap", "Print a job's task map (RFC 34)");
  struct Opts {
    std::string arg;
    int taskids = -1;
    int ntasks = -1;
    int nodeid = -1;
    std::string to = "json";
  };
  auto o = std::make_shared<Opts>();
  app->add_option("job", o->arg, "Job id, or a task map")->required();
  app->add_option("--taskids", o->taskids, "Print the tasks on node NODEID (an idset)");
  app->add_option("--ntasks", o->ntasks, "Print the number of tasks on node NODEID");
  app->add_option("--nodeid", o->nodeid, "Print the node of task TASKID");
  app->add_option("--to", o->to, "Print the map as json, raw, pmi or multiline");
  reg.push_back(
      {app, [o] {
         Taskmap map;
         auto id = JobId::parse(o->arg);
         if (id) {
           auto h = Handle::open();
           map = job_taskmap(*h, *id);
         } else {
           auto m = Taskmap::decode(o->arg);
           if (!m) throw FluxError(EINVAL, "invalid jobid or task map: " + o->arg);
           map = std::move(*m);
         }
         if (o->taskids >= 0) {
           std::printf("%s\n", map.taskids(o->taskids).encode().c_str());
         } else if (o->ntasks >= 0) {
           std::printf("%d\n", map.ntasks_on(o->ntasks));
         } else if (o->nodeid >= 0) {
           std::printf("%d\n", map.nodeid(o->nodeid).value());
         } else if (o->to == "json") {
           std::printf("%s\n", Json({{"version", 1}, {"map", map.to_json()}}).dump().c_str());
         } else if (o->to == "raw") {
           std::printf("%s\n", map.encode_raw().c_str());
         } else if (o->to == "pmi") {
           std::printf("%s\n", map.encode_pmi().c_str());
         } else if (o->to == "multiline") {
           for (int t = 0; t < map.ntasks(); t++) std::printf("%d: %d\n", t, map.nodeid(t).value());
         } else {
           throw FluxError(EINVAL, "--to: expected json, raw, pmi or multiline");
         }
         return 0;
       }});
}

}  // namespace flux::cmd::jobcmd
