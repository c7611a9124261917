// The job-manager's RFC 21 state machine: apply_event() drives a Job
// through its states from eventlog entries, live or replayed.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "modules/job-manager/job.hpp"

using namespace flux;
using namespace flux::jobmgr;

namespace {

EventlogEntry ev(const char* name, Json ctx = nullptr, double t = 1.0) {
  return EventlogEntry{t, name, std::move(ctx)};
}

Job replay(const std::vector<EventlogEntry>& log) {
  Job job;
  for (const auto& e : log) apply_event(job, e);
  return job;
}

const std::vector<EventlogEntry> kRan = {
    ev("submit", {{"userid", 42}, {"urgency", 16}, {"flags", 4}, {"version", 1}}, 10.0),
    ev("validate"),
    ev("depend"),
    ev("priority", {{"priority", 16}}),
    ev("alloc", {{"annotations", {{"sched", {{"resource_summary", "rank0/core0"}}}}}}),
    ev("start", nullptr, 11.0),
    ev("finish", {{"status", 0}}),
    ev("release", {{"ranks", "all"}, {"final", true}}),
    ev("free"),
    ev("clean", nullptr, 12.0),
};

}  // namespace

TEST(JobState, CompletedJobPassesEveryState) {
  Job job;
  std::vector<State> seen;
  for (const auto& e : kRan) {
    apply_event(job, e);
    seen.push_back(job.state);
  }
  std::vector<State> want = {State::kNew,   State::kDepend,   State::kPriority, State::kSched,
                             State::kRun,   State::kRun,      State::kCleanup,  State::kCleanup,
                             State::kCleanup, State::kInactive};
  EXPECT_EQ(seen, want);
  EXPECT_EQ(job.userid, 42u);
  EXPECT_TRUE(job.waitable());
  EXPECT_EQ(job.eventlog_seq, 9);
  EXPECT_TRUE(job.success());
  EXPECT_EQ(job.errstr(), "");
  EXPECT_DOUBLE_EQ(job.t_submit, 10.0);
  EXPECT_DOUBLE_EQ(job.t_run, 11.0);
  EXPECT_EQ(job.annotations["sched"]["resource_summary"], "rank0/core0");
  EXPECT_FALSE(job.has_resources);
}

TEST(JobState, FatalExceptionWhilePendingGoesToCleanup) {
  Job job = replay({kRan[0], kRan[1], kRan[2], kRan[3],
                    ev("exception", {{"type", "cancel"}, {"severity", 0}, {"note", "bye"}})});
  EXPECT_EQ(job.state, State::kCleanup);
  EXPECT_FALSE(job.success());
  EXPECT_EQ(job.errstr(), "Fatal exception type=cancel bye");
  apply_event(job, ev("clean"));
  EXPECT_EQ(job.state, State::kInactive);
}

TEST(JobState, NonFatalExceptionChangesNothing) {
  Job job = replay({kRan[0], kRan[1], ev("exception", {{"type", "test"}, {"severity", 3}})});
  EXPECT_EQ(job.state, State::kDepend);
  EXPECT_FALSE(job.exception_fatal);
}

TEST(JobState, FirstFatalExceptionIsTheOneReported) {
  Job job = replay({kRan[0], ev("exception", {{"type", "timeout"}, {"severity", 0}}),
                    ev("exception", {{"type", "cancel"}, {"severity", 0}})});
  EXPECT_EQ(job.exception_type, "timeout");
}

TEST(JobState, ExitStatusDecidesSuccess) {
  std::vector<EventlogEntry> log(kRan.begin(), kRan.begin() + 6);
  log.push_back(ev("finish", {{"status", 3 << 8}}));
  Job job = replay(log);
  EXPECT_EQ(job.state, State::kCleanup);
  EXPECT_FALSE(job.success());
  EXPECT_EQ(job.errstr(), "task(s) exited with exit code 3");
  log.back() = ev("finish", {{"status", SIGKILL}});
  EXPECT_NE(replay(log).errstr().find("task(s) "), std::string::npos);
}

TEST(JobState, DependenciesAndUrgency) {
  Job job = replay({kRan[0], kRan[1], ev("dependency-add", {{"description", "afterok=1"}}),
                    ev("dependency-add", {{"description", "begin-time=5"}}),
                    ev("dependency-remove", {{"description", "afterok=1"}}),
                    ev("urgency", {{"userid", 42}, {"urgency", 0}})});
  EXPECT_EQ(job.state, State::kDepend);
  EXPECT_EQ(job.dependencies, std::vector<std::string>{"begin-time=5"});
  EXPECT_EQ(job.urgency, 0);
}

TEST(JobState, UnknownEventsAndBadContextsAreHarmless) {
  Job job = replay({kRan[0], ev("no-such-event", {{"x", 1}}), ev("priority", {{"priority", "high"}}),
                    ev("submit", "not an object")});
  EXPECT_EQ(job.priority, 0u);
  EXPECT_EQ(job.eventlog_seq, 3);
}

TEST(JobState, MemoUpdatesUserAnnotations) {
  Job job = replay({kRan[0], ev("memo", {{"a", 1}, {"b", "x"}}), ev("memo", {{"a", nullptr}})});
  EXPECT_EQ(job.annotations["user"], Json({{"b", "x"}}));
}

TEST(JobState, DefaultPriority) {
  EXPECT_EQ(default_priority(0), 0u);
  EXPECT_EQ(default_priority(16), 16u);
  EXPECT_EQ(default_priority(31), kPriorityMax);
}

TEST(JobState, RedactedJobspec) {
  Json js = parse_jobspec(
      R"({"version":1,"attributes":{"system":{"duration":0,"environment":{"HOME":"/"},"cwd":"/"}},)"
      R"("environment":"kept"})");
  EXPECT_FALSE(js["attributes"]["system"].contains("environment"));
  EXPECT_EQ(js["attributes"]["system"]["cwd"], "/");
  EXPECT_EQ(js["environment"], "kept");
  EXPECT_EQ(parse_jobspec("not json"), Json::object());
}
