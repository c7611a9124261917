// Loadable modules: each a shared object run in its own thread with its own
// reactor and a Handle whose messages are posted to and from the broker's
// loop (no shared state). See libflux/module.hpp for what a module exports.
//
// Service "module":
//   module.load   {"path","args":[...]} -> {} once the module runs
//                 (path may be a name, searched on conf.module_path)
//   module.remove {"name"}              -> {} once it has exited; ENOENT
//   module.list   {}                    -> {"mods":[{"name","path","idle",
//                                           "status","services",...}]}
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libflux/handle.hpp"
#include "router.hpp"

namespace flux::broker {

class ModuleEndpoint;

class ModuleHost {
 public:
  ModuleHost(Reactor& r, Router& router, std::string search_path);
  ~ModuleHost();
  void serve(Handle& h);
  // Stop every module, newest first; `done` runs when all have exited.
  void remove_all(std::function<void()> done);

 private:
  Task<Json> load(const Message& req);
  Task<Json> remove(const Message& req);
  Json list() const;
  std::string resolve(const std::string& name_or_path) const;
  void exited(const std::string& name);

  Reactor& reactor_;
  Router& router_;
  std::string search_path_;
  std::vector<std::shared_ptr<ModuleEndpoint>> modules_;  // in load order
};

}  // namespace flux::broker
