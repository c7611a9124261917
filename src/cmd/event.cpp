// flux event pub|sub
#include "cli.hpp"
#include "command.hpp"

namespace flux::cmd {

int cmd_event(int argc, char** argv) {
  CLI::App app{"Publish and subscribe to events."};
  app.require_subcommand(1);
  auto* pub = app.add_subcommand("pub", "Publish an event");
  std::string topic;
  std::vector<std::string> words;
  bool priv = false, sync = false;
  pub->add_option("topic", topic, "Event topic")->required();
  pub->add_option("payload", words, "JSON payload");
  pub->add_flag("-p,--private", priv, "Only the owner and the sender may see it");
  pub->add_flag("-s,--synchronous", sync, "Print the event's sequence number");
  auto* sub = app.add_subcommand("sub", "Print events as they arrive");
  std::vector<std::string> topics;
  int count = 0;
  sub->add_option("topics", topics, "Topic prefixes (default: all)");
  sub->add_option("-c,--count", count, "Exit after N events");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();

  if (*pub) {
    Json payload = nullptr;
    if (!words.empty()) {
      std::string text;
      for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
      payload = Json::parse(text, nullptr, false);
      if (payload.is_discarded() || !payload.is_object())
        throw FluxError(EINVAL, "payload must be a JSON object: " + text);
    }
    auto r = h->publish(topic, payload, priv).get_json();
    if (sync) std::printf("%u\n", r.value("seq", 0u));
    return 0;
  }
  if (topics.empty()) topics.push_back("");
  int seen = 0;
  h->on_event(
      "*",
      [&](const Message& m) {
        std::string_view p = m.has_payload() ? m.payload_string() : std::string_view();
        std::printf("%s\t%.*s\n", m.topic().c_str(), static_cast<int>(p.size()), p.data());
        std::fflush(stdout);
        if (count > 0 && ++seen >= count) h->reactor().stop();
      },
      Access::kUser);
  for (const auto& t : topics) h->subscribe(t).get();
  h->reactor().run();
  return 0;
}

}  // namespace flux::cmd
