// Handle, Rpc and Task: two real handles joined by a socketpair, one serving
// and one calling, on one reactor.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libflux/handle.hpp"

using namespace flux;

namespace {

struct Pair {
  Reactor reactor;
  std::unique_ptr<Handle> client, server;
  Pair() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    client = std::make_unique<Handle>(reactor, connect_fd(reactor, fds[0]));
    server = std::make_unique<Handle>(reactor, connect_fd(reactor, fds[1]));
  }
};

}  // namespace

TEST(Handle, BlockingRpcGetsResponse) {
  Pair p;
  p.server->serve({{"echo.*", Access::kUser, [&](const Message& m) {
                      Json j = m.json().value();
                      j["topic"] = m.topic();
                      p.server->respond(m, j);
                    }}});
  Json r = p.client->rpc("echo.hi", {{"x", 1}}).get_json();
  EXPECT_EQ(r["x"], 1);
  EXPECT_EQ(r["topic"], "echo.hi");
}

TEST(Handle, ErrorResponseThrowsWithErrnoAndText) {
  Pair p;
  p.server->serve({{"fail", Access::kUser, [&](const Message& m) {
                      p.server->respond_error(m, ENOENT, "no such thing");
                    }}});
  try {
    p.client->rpc("fail").get();
    FAIL() << "expected FluxError";
  } catch (const FluxError& e) {
    EXPECT_EQ(e.errnum(), ENOENT);
    EXPECT_STREQ(e.what(), "no such thing");
  }
}

TEST(Handle, UnhandledRequestGetsENOSYS) {
  Pair p;
  try {
    p.client->rpc("nobody.home").get();
    FAIL();
  } catch (const FluxError& e) {
    EXPECT_EQ(e.errnum(), ENOSYS);
  }
}

TEST(Handle, ResponsesMatchedByMatchtagOutOfOrder) {
  Pair p;
  std::vector<Message> held;
  p.server->serve({{"hold", Access::kUser, [&](const Message& m) {
                      held.push_back(m);
                      if (held.size() == 3) {
                        for (auto it = held.rbegin(); it != held.rend(); ++it)
                          p.server->respond(*it, it->json().value());
                      }
                    }}});
  auto a = p.client->rpc("hold", {{"n", 1}});
  auto b = p.client->rpc("hold", {{"n", 2}});
  auto c = p.client->rpc("hold", {{"n", 3}});
  EXPECT_NE(a.matchtag(), b.matchtag());
  EXPECT_EQ(a.get_json()["n"], 1);
  EXPECT_EQ(b.get_json()["n"], 2);
  EXPECT_EQ(c.get_json()["n"], 3);
}

TEST(Handle, StreamingRpcEndsWithENODATA) {
  Pair p;
  p.server->serve({{"count", Access::kUser, [&](const Message& m) {
                      EXPECT_TRUE(m.has_flag(msgflag::kStreaming));
                      int n = m.json().value()["n"];
                      for (int i = 0; i < n; i++) p.server->respond(m, {{"i", i}});
                      p.server->respond_error(m, ENODATA);
                    }}});
  auto rpc = p.client->rpc("count", {{"n", 5}}, kNodeidAny, msgflag::kStreaming);
  int seen = 0;
  while (auto m = rpc.next()) EXPECT_EQ(m->json().value()["i"], seen++);
  EXPECT_EQ(seen, 5);
}

TEST(Handle, TimeoutFailsWithETIMEDOUT) {
  Pair p;
  p.server->serve({{"silent", Access::kUser, [](const Message&) {}}});
  double t0 = monotime();
  try {
    p.client->rpc("silent").timeout(0.05).get();
    FAIL();
  } catch (const FluxError& e) {
    EXPECT_EQ(e.errnum(), ETIMEDOUT);
  }
  EXPECT_LT(monotime() - t0, 5.0);
}

TEST(Handle, CoroutineHandlerAwaitsAnotherRpc) {
  // The server answers "outer" by calling the client's "inner" service.
  Pair p;
  p.client->serve({{"inner", Access::kUser, [&](const Message& m) {
                      p.client->respond(m, {{"v", 41}});
                    }}});
  p.server->serve({{"outer", Access::kUser, [&](const Message&) -> Task<Json> {
                      Message r = co_await p.server->rpc("inner");
                      co_return Json{{"v", r.json().value()["v"].get<int>() + 1}};
                    }}});
  EXPECT_EQ(p.client->rpc("outer").get_json()["v"], 42);
}

TEST(Handle, CoroutineHandlerErrorBecomesErrorResponse) {
  Pair p;
  p.server->serve({{"boom", Access::kUser, [](const Message&) -> Task<Json> {
                      throw FluxError(EPERM, "not allowed");
                      co_return nullptr;
                    }}});
  try {
    p.client->rpc("boom").get();
    FAIL();
  } catch (const FluxError& e) {
    EXPECT_EQ(e.errnum(), EPERM);
    EXPECT_STREQ(e.what(), "not allowed");
  }
}

TEST(Handle, AwaitStreamInCoroutine) {
  Pair p;
  p.server->serve({{"count", Access::kUser, [&](const Message& m) {
                      for (int i = 0; i < 3; i++) p.server->respond(m, {{"i", i}});
                      p.server->respond_error(m, ENODATA);
                    }}});
  int total = -1;
  auto consumer = [&]() -> Task<void> {
    auto rpc = p.client->rpc("count", {}, kNodeidAny, msgflag::kStreaming);
    int sum = 0;
    while (auto m = co_await rpc.next_async()) sum += m->json().value()["i"].get<int>();
    total = sum;
    p.reactor.stop();
  };
  spawn(consumer());
  p.reactor.run();
  EXPECT_EQ(total, 3);
}

TEST(Handle, SleepAwaitsTimer) {
  Reactor r;
  bool done = false;
  auto t = [&]() -> Task<void> {
    co_await r.sleep(0.01);
    done = true;
  };
  spawn(t());
  r.run();
  EXPECT_TRUE(done);
}

TEST(Handle, LostConnectionFailsPendingRpcs) {
  Pair p;
  p.server->serve({{"drop", Access::kUser, [&](const Message&) { p.server.reset(); }}});
  try {
    p.client->rpc("drop").get();
    FAIL();
  } catch (const FluxError& e) {
    EXPECT_EQ(e.errnum(), ECONNRESET);
  }
  // And later RPCs fail at once instead of hanging.
  EXPECT_THROW(p.client->rpc("drop").get(), FluxError);
}

TEST(Handle, EventsReachHandlersByGlob) {
  Pair p;
  std::vector<std::string> got;
  p.client->on_event(
      "job.*",
      [&](const Message& m) {
        got.push_back(m.topic());
        if (got.size() == 2) p.reactor.stop();
      },
      Access::kUser);
  p.server->send(Message::event("other.thing"));
  p.server->send(Message::event("job.a"));
  p.server->send(Message::event("job.b"));
  p.reactor.run();
  EXPECT_EQ(got, (std::vector<std::string>{"job.a", "job.b"}));
}

TEST(Handle, OwnerEventHandlersIgnoreGuestEvents) {
  Pair p;
  std::vector<std::string> got;
  p.client->on_event("job.*", [&](const Message& m) {
    got.push_back(m.topic());
    if (m.topic() == "job.end") p.reactor.stop();
  });
  auto event = [](const char* topic, uint32_t rolemask) {
    Message ev = Message::event(topic);
    ev.set_rolemask(rolemask);
    return ev;
  };
  p.server->send(event("job.guest", role::kUser));
  p.server->send(event("job.owner", role::kOwner));
  p.server->send(event("job.end", role::kOwner));
  p.reactor.run();
  EXPECT_EQ(got, (std::vector<std::string>{"job.owner", "job.end"}));
}

TEST(Handle, NoResponseRequestGetsNoAnswer) {
  Pair p;
  int calls = 0;
  p.server->serve({{"fire", Access::kUser, [&](const Message& m) {
                      calls++;
                      p.server->respond(m, {{"x", 1}});  // suppressed
                    }}});
  p.server->serve({{"sync", Access::kUser, [&](const Message& m) { p.server->respond(m, {}); }}});
  p.client->rpc("fire", {}, kNodeidAny, msgflag::kNoResponse);
  p.client->rpc("sync").get();  // requests arrive in order: fire was handled
  EXPECT_EQ(calls, 1);
}

TEST(Handle, RouteKindsAnswerAndFail) {
  Pair p;
  std::vector<Message> kept;
  p.server->serve({
      {"value", Access::kUser, [](const Message& m) { return m.json().value(); }},
      {"value-throws", Access::kUser,
       [](const Message&) -> Json { throw FluxError(ENOENT, "no value"); }},
      {"self-task", Access::kUser,
       [&](const Message& m) -> Task<void> {
         co_await p.reactor.sleep(0.001);
         p.server->respond(m, {{"late", true}});
       }},
      {"self-task-throws", Access::kUser,
       [&](const Message&) -> Task<void> {
         co_await p.reactor.sleep(0.001);
         throw FluxError(EBUSY, "busy later");
       }},
      {"bad-json", Access::kUser, [](const Message& m) { return m.json().value().at("x"); }},
  });
  EXPECT_EQ(p.client->rpc("value", {{"a", 1}}).get_json()["a"], 1);
  EXPECT_EQ(p.client->rpc("self-task").get_json()["late"], true);
  auto expect_error = [&](const char* topic, int errnum) {
    try {
      p.client->rpc(topic).get();
      ADD_FAILURE() << topic << " answered";
    } catch (const FluxError& e) {
      EXPECT_EQ(e.errnum(), errnum) << topic;
    }
  };
  expect_error("value-throws", ENOENT);
  expect_error("self-task-throws", EBUSY);
  expect_error("bad-json", EPROTO);
}

TEST(Handle, OwnerRoutesRefuseGuests) {
  Pair p;
  int calls = 0;
  p.server->serve({{"owner.only", Access::kOwner, [&](const Message&) {
                      calls++;
                      return Json::object();
                    }}});
  Message guest = Message::request("owner.only");
  guest.set_userid(4242);
  guest.set_rolemask(role::kUser);
  try {
    p.client->rpc_message(guest).get();
    FAIL();
  } catch (const FluxError& e) {
    EXPECT_EQ(e.errnum(), EPERM);
    EXPECT_STREQ(e.what(), "Request requires owner credentials");
  }
  Message owner = Message::request("owner.only");
  owner.set_rolemask(role::kOwner);
  p.client->rpc_message(owner).get();
  EXPECT_EQ(calls, 1);
  auto routes = p.server->routes();
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].first, "owner.only");
  EXPECT_EQ(routes[0].second, Access::kOwner);
}

TEST(TopicMatch, Globs) {
  EXPECT_TRUE(topic_match("kvs.*", "kvs.get"));
  EXPECT_TRUE(topic_match("*", "anything"));
  EXPECT_TRUE(topic_match("a.?.c", "a.b.c"));
  EXPECT_FALSE(topic_match("kvs.*", "kvsx.get"));
  EXPECT_FALSE(topic_match("kvs.get", "kvs.getx"));
  EXPECT_TRUE(topic_match("*.ping", "job-manager.ping"));
}
