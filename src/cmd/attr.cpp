// flux getattr / setattr / lsattr
#include "cli.hpp"
#include "command.hpp"

namespace flux::cmd {

int cmd_getattr(int argc, char** argv) {
  CLI::App app{"Print the value of a broker attribute."};
  std::string name;
  app.add_option("name", name, "Attribute name")->required();
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();
  try {
    auto r = h->rpc("attr.get", {{"name", name}}).get_json();
    std::printf("%s\n", r.at("value").get<std::string>().c_str());
  } catch (const FluxError& e) {
    throw FluxError(e.errnum(), name + ": " + e.what());
  }
  return 0;
}

int cmd_setattr(int argc, char** argv) {
  CLI::App app{"Set a broker attribute."};
  std::string name, value;
  app.add_option("name", name, "Attribute name")->required();
  app.add_option("value", value, "New value")->required();
  bool force = false;
  app.add_flag("-f,--force", force, "Update an attribute that may be set only once");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();
  try {
    Json req = {{"name", name}, {"value", value}};
    if (force) req["force"] = true;
    h->rpc("attr.set", req).get();
  } catch (const FluxError& e) {
    std::string what = e.what();
    throw FluxError(e.errnum(), what.rfind(name + ":", 0) == 0 ? what : name + ": " + what);
  }
  return 0;
}

int cmd_lsattr(int argc, char** argv) {
  CLI::App app{"List broker attributes."};
  bool values = false;
  app.add_flag("-v,--values", values, "Show values too");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();
  auto names = h->rpc("attr.list").get_json().at("names").get<std::vector<std::string>>();
  std::sort(names.begin(), names.end());
  if (!values) {
    for (const auto& n : names) std::printf("%s\n", n.c_str());
    return 0;
  }
  // Ask for every value at once, then collect: one round trip of latency.
  std::vector<Rpc> rpcs;
  for (const auto& n : names) rpcs.push_back(h->rpc("attr.get", {{"name", n}}));
  for (size_t i = 0; i < names.size(); i++) {
    std::string v = "-";
    try {
      v = rpcs[i].get_json().at("value").get<std::string>();
    } catch (const FluxError&) {
    }
    std::printf("%-40s%s\n", names[i].c_str(), v.c_str());
  }
  return 0;
}

}  // namespace flux::cmd
