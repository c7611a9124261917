// Router: RFC 3 routing between real endpoints that keep what they receive.
#include <gtest/gtest.h>

#include "broker/router.hpp"

using namespace flux;
using namespace flux::broker;

namespace {

class Inbox : public Endpoint {
 public:
  Inbox(std::string uuid, bool trusted = false) : Endpoint(std::move(uuid), "inbox", trusted) {}
  void deliver(Message&& m) override { got.push_back(std::move(m)); }
  std::vector<Message> got;
};

struct Fixture {
  Router router{0, 1};
  std::shared_ptr<Inbox> client = std::make_shared<Inbox>("client-uuid");
  std::shared_ptr<Inbox> service = std::make_shared<Inbox>("service-uuid", true);
  Fixture() {
    client->userid = 1000;
    client->rolemask = role::kOwner;
    router.attach(client);
    router.attach(service);
    router.add_service("svc", "service-uuid");
  }
};

Message request(const std::string& topic, uint32_t nodeid = kNodeidAny) {
  Message m = Message::request(topic, nodeid);
  m.set_matchtag(7);
  return m;
}

}  // namespace

TEST(Router, RequestReachesServiceWithSenderRoute) {
  Fixture f;
  f.router.ingress(*f.client, request("svc.hello"));
  ASSERT_EQ(f.service->got.size(), 1u);
  const Message& m = f.service->got[0];
  EXPECT_EQ(m.routes(), std::vector<std::string>{"client-uuid"});
  EXPECT_EQ(m.userid(), 1000u);
  EXPECT_EQ(m.rolemask(), role::kOwner);
}

TEST(Router, ResponseFindsItsWayBack) {
  Fixture f;
  f.router.ingress(*f.client, request("svc.hello"));
  Message resp = Message::response_to(f.service->got[0]);
  f.router.ingress(*f.service, std::move(resp));
  ASSERT_EQ(f.client->got.size(), 1u);
  EXPECT_EQ(f.client->got[0].type(), MsgType::Response);
  EXPECT_EQ(f.client->got[0].matchtag(), 7u);
  EXPECT_TRUE(f.client->got[0].routes().empty());
}

TEST(Router, ClientCannotForgeCredentials) {
  Fixture f;
  Message m = request("svc.hello");
  m.set_userid(0);
  m.set_rolemask(role::kOwner | role::kUser);
  f.client->rolemask = role::kUser;
  f.router.ingress(*f.client, std::move(m));
  EXPECT_EQ(f.service->got[0].userid(), 1000u);
  EXPECT_EQ(f.service->got[0].rolemask(), role::kUser);
}

TEST(Router, OwnerMaySpeakForAnotherUser) {
  Fixture f;
  Message m = request("svc.hello");
  m.set_userid(4242);
  m.set_rolemask(role::kUser);
  f.router.ingress(*f.client, std::move(m));
  EXPECT_EQ(f.service->got[0].userid(), 4242u);
  EXPECT_EQ(f.service->got[0].rolemask(), role::kUser);
}

TEST(Router, UnknownServiceGetsENOSYS) {
  Fixture f;
  f.router.ingress(*f.client, request("nosuch.thing"));
  ASSERT_EQ(f.client->got.size(), 1u);
  EXPECT_EQ(f.client->got[0].errnum(), ENOSYS);
}

TEST(Router, OtherRankIsUnreachableWithoutOverlay) {
  Fixture f;
  f.router.ingress(*f.client, request("svc.hello", 3));
  ASSERT_EQ(f.client->got.size(), 1u);
  EXPECT_EQ(f.client->got[0].errnum(), EHOSTUNREACH);
  EXPECT_TRUE(f.service->got.empty());
}

TEST(Router, OwnRankReachesLocalService) {
  Fixture f;
  f.router.ingress(*f.client, request("svc.hello", 0));
  EXPECT_EQ(f.service->got.size(), 1u);
}

TEST(Router, UpstreamSkipsLocalService) {
  Fixture f;
  Message m = request("svc.hello", 0);
  m.set_flag(msgflag::kUpstream);
  f.router.ingress(*f.client, std::move(m));
  EXPECT_TRUE(f.service->got.empty());
  ASSERT_EQ(f.client->got.size(), 1u);
  // Nothing above the root: as flux-core, "No route to host".
  EXPECT_EQ(f.client->got[0].errnum(), EHOSTUNREACH);
}

TEST(Router, AnyRequestIsNotDeliveredBackToItsSender) {
  Fixture f;
  f.router.ingress(*f.service, request("svc.self"));
  ASSERT_EQ(f.service->got.size(), 1u);
  EXPECT_EQ(f.service->got[0].type(), MsgType::Response);
  EXPECT_EQ(f.service->got[0].errnum(), ENOSYS);
}

TEST(Router, NoResponseSuppressesErrors) {
  Fixture f;
  Message m = request("nosuch.thing");
  m.set_flag(msgflag::kNoResponse);
  f.router.ingress(*f.client, std::move(m));
  EXPECT_TRUE(f.client->got.empty());
}

TEST(Router, EventsGoToPrefixSubscribersWithSequence) {
  Fixture f;
  f.client->subscriptions.push_back("job.");
  f.service->subscriptions.push_back("");
  EXPECT_EQ(f.router.publish(Message::event("job.new")), 1u);
  EXPECT_EQ(f.router.publish(Message::event("kvs.setroot")), 2u);
  ASSERT_EQ(f.client->got.size(), 1u);
  EXPECT_EQ(f.client->got[0].topic(), "job.new");
  EXPECT_EQ(f.client->got[0].seq(), 1u);
  EXPECT_EQ(f.service->got.size(), 2u);
}

TEST(Router, PrivateEventsOnlyToOwnerAndSender) {
  Fixture f;
  auto guest = std::make_shared<Inbox>("guest-uuid");
  guest->userid = 2000;
  guest->rolemask = role::kUser;
  guest->subscriptions.push_back("");
  f.router.attach(guest);
  f.client->subscriptions.push_back("");
  Message ev = Message::event("secret");
  ev.set_flag(msgflag::kPrivate);
  ev.set_userid(1000);
  f.router.publish(std::move(ev));
  EXPECT_EQ(f.client->got.size(), 1u);
  EXPECT_TRUE(guest->got.empty());
}

TEST(Router, ClientEventsAreDropped) {
  Fixture f;
  f.service->subscriptions.push_back("");
  f.router.ingress(*f.client, Message::event("forged"));
  EXPECT_TRUE(f.service->got.empty());
  EXPECT_EQ(f.router.event_seq(), 0u);
}

TEST(Router, DetachSendsDisconnectToServicesUsed) {
  Fixture f;
  f.router.ingress(*f.client, request("svc.watch"));
  f.router.detach("client-uuid");
  ASSERT_EQ(f.service->got.size(), 2u);
  const Message& d = f.service->got[1];
  EXPECT_EQ(d.topic(), "svc.disconnect");
  EXPECT_TRUE(d.has_flag(msgflag::kNoResponse));
  EXPECT_EQ(d.routes(), std::vector<std::string>{"client-uuid"});
  EXPECT_EQ(d.userid(), 1000u);
}

TEST(Router, ServicesAreExclusive) {
  Fixture f;
  EXPECT_THROW(f.router.add_service("svc", "client-uuid"), FluxError);
  EXPECT_THROW(f.router.remove_service("svc", "client-uuid"), FluxError);
  f.router.remove_service("svc", "service-uuid");
  f.router.ingress(*f.client, request("svc.hello"));
  EXPECT_EQ(f.client->got[0].errnum(), ENOSYS);
}

TEST(Router, ResponseToVanishedEndpointIsDropped) {
  Fixture f;
  f.router.ingress(*f.client, request("svc.hello"));
  Message resp = Message::response_to(f.service->got[0]);
  f.router.detach("client-uuid");
  f.router.ingress(*f.service, std::move(resp));  // must not crash
  SUCCEED();
}

TEST(Router, DisconnectTopic) {
  EXPECT_EQ(disconnect_topic("kvs.get"), "kvs.disconnect");
  EXPECT_EQ(disconnect_topic("a.b.c"), "a.b.disconnect");
  EXPECT_EQ(disconnect_topic("foo"), "disconnect");
}
