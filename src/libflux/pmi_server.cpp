#include "pmi_server.hpp"

#include <unistd.h>

#include <cstdio>
#include <sstream>

namespace flux {

namespace {

constexpr int kKvsnameMax = 256;
constexpr int kKeylenMax = 256;
constexpr int kVallenMax = 1024;
constexpr size_t kMaxLine = 64 * 1024;

// "cmd=put kvsname=x key=k value=v" -> {cmd:put, ...}. Tuples may come in
// any order and be separated by any amount of white space.
std::map<std::string, std::string> parse(const std::string& line) {
  std::map<std::string, std::string> kv;
  std::istringstream in(line);
  std::string word;
  while (in >> word) {
    size_t eq = word.find('=');
    if (eq == std::string::npos) {
      kv[word] = "";
    } else {
      kv[word.substr(0, eq)] = word.substr(eq + 1);
    }
  }
  return kv;
}

}  // namespace

struct PmiServer::Client {
  int taskid = 0;
  std::string buf;
  std::unique_ptr<FdWriter> writer;
  std::unique_ptr<FdReader> reader;
  bool dead = false;
  bool busy = false;  // a get's answer is pending: later lines wait
};

PmiServer::PmiServer(Reactor& r, PmiJob job, std::unique_ptr<PmiExchange> exchange,
                     std::function<void(int, int, const std::string&)> on_abort,
                     std::function<void(const std::string&)> on_error)
    : r_(r),
      job_(std::move(job)),
      exchange_(std::move(exchange)),
      on_abort_(std::move(on_abort)),
      on_error_(std::move(on_error)) {
  kvs_["PMI_process_mapping"] = job_.process_mapping;
}

PmiServer::~PmiServer() {
  *alive_ = false;
}

void PmiServer::add_client(int taskid, int fd) {
  auto c = std::make_unique<Client>();
  Client* cp = c.get();
  c->taskid = taskid;
  int wfd = ::dup(fd);
  c->writer = std::make_unique<FdWriter>(r_, wfd);
  c->reader = std::make_unique<FdReader>(
      r_, fd,
      [this, cp](std::string_view data) {
        if (cp->dead) return;
        cp->buf.append(data);
        process(*cp);
      },
      [cp] { cp->dead = true; });
  clients_[taskid] = std::move(c);
}

void PmiServer::remove_client(int taskid) {
  auto it = clients_.find(taskid);
  if (it == clients_.end()) return;
  it->second->dead = true;
  // Destroyed later: this may run inside the client's own callback.
  auto c = std::shared_ptr<Client>(it->second.release());
  clients_.erase(it);
  r_.post([c] {});
}

void PmiServer::process(Client& c) {
  size_t nl;
  while (!c.dead && !c.busy && (nl = c.buf.find('\n')) != std::string::npos) {
    std::string line = c.buf.substr(0, nl);
    c.buf.erase(0, nl + 1);
    handle_line(c, line);
  }
  if (c.buf.size() > kMaxLine) c.dead = true;
}

void PmiServer::reply(Client& c, const std::string& text) {
  c.writer->write(text + "\n");
}

void PmiServer::handle_line(Client& c, const std::string& line) {
  auto kv = parse(line);
  std::string cmd = kv.count("cmd") ? kv["cmd"] : "";
  if (cmd == "init") {
    reply(c, "cmd=response_to_init rc=0 pmi_version=1 pmi_subversion=1");
  } else if (cmd == "get_maxes") {
    reply(c, "cmd=maxes rc=0 kvsname_max=" + std::to_string(kKvsnameMax) + " keylen_max=" +
                 std::to_string(kKeylenMax) + " vallen_max=" + std::to_string(kVallenMax));
  } else if (cmd == "get_appnum") {
    reply(c, "cmd=appnum rc=0 appnum=0");
  } else if (cmd == "get_universe_size") {
    reply(c, "cmd=universe_size rc=0 size=" + std::to_string(job_.size));
  } else if (cmd == "get_my_kvsname") {
    reply(c, "cmd=my_kvsname rc=0 kvsname=" + job_.kvsname);
  } else if (cmd == "put") {
    const std::string& key = kv["key"];
    if (key.empty() || key.size() >= kKeylenMax || kv["value"].size() >= kVallenMax) {
      reply(c, "cmd=put_result rc=-1 msg=invalid_key_or_value");
    } else {
      pending_[key] = kv["value"];
      reply(c, "cmd=put_result rc=0");
    }
  } else if (cmd == "get") {
    get(c, kv["key"]);
  } else if (cmd == "barrier_in") {
    barrier_enter(c);
  } else if (cmd == "finalize") {
    reply(c, "cmd=finalize_ack rc=0");
  } else if (cmd == "abort") {
    int code = 1;
    try {
      if (kv.count("exitcode")) code = std::stoi(kv["exitcode"]);
    } catch (const std::exception&) {
    }
    std::string msg =
        line.find("msg=") != std::string::npos ? line.substr(line.find("msg=") + 4) : "";
    if (on_abort_) on_abort_(c.taskid, code, msg);
  } else if (cmd == "publish_name") {
    reply(c, "cmd=publish_result rc=-1 msg=not_supported");
  } else if (cmd == "unpublish_name") {
    reply(c, "cmd=unpublish_result rc=-1 msg=not_supported");
  } else if (cmd == "lookup_name") {
    reply(c, "cmd=lookup_result rc=-1 msg=not_supported");
  } else {
    // A protocol error: drop the connection; the client's PMI calls fail.
    c.dead = true;
    c.writer->close();
  }
}

void PmiServer::get(Client& c, const std::string& key) {
  auto it = kvs_.find(key);
  if (it != kvs_.end()) {
    reply(c, "cmd=get_result rc=0 value=" + it->second);
    return;
  }
  if (key.empty()) {
    reply(c, "cmd=get_result rc=-1 msg=key_not_found");
    return;
  }
  // Ask the exchange; the client's next lines wait for the answer.
  c.busy = true;
  int id = c.taskid;
  auto alive = alive_;
  exchange_->lookup(key, [this, id, key, alive](std::optional<std::string> value) {
    if (!*alive) return;
    if (value) kvs_[key] = *value;
    auto it = clients_.find(id);
    if (it == clients_.end() || it->second->dead) return;
    Client& cl = *it->second;
    cl.busy = false;
    reply(cl,
          value ? "cmd=get_result rc=0 value=" + *value : "cmd=get_result rc=-1 msg=key_not_found");
    // Later lines from the loop, not from inside this (maybe synchronous) answer.
    r_.post([this, id, alive] {
      if (!*alive) return;
      auto c2 = clients_.find(id);
      if (c2 != clients_.end()) process(*c2->second);
    });
  });
}

void PmiServer::barrier_enter(Client& c) {
  in_barrier_.push_back(c.taskid);
  if (static_cast<int>(in_barrier_.size()) < job_.local_size) return;
  std::vector<int> waiting = std::move(in_barrier_);
  in_barrier_.clear();
  PmiDict mine = std::move(pending_);
  pending_.clear();
  auto alive = alive_;
  exchange_->exchange(std::move(mine), [this, waiting, alive](PmiDict all, std::string error) {
    if (!*alive) return;
    for (auto& [k, v] : all) kvs_[k] = v;
    std::string answer =
        error.empty() ? "cmd=barrier_out rc=0" : "cmd=barrier_out rc=-1 msg=exchange_failed";
    if (!error.empty()) {
      if (on_error_) {
        on_error_(error);
      } else {
        std::fprintf(stderr, "PMI barrier: %s\n", error.c_str());
      }
    }
    for (int t : waiting) {
      auto it = clients_.find(t);
      if (it != clients_.end() && !it->second->dead) reply(*it->second, answer);
    }
  });
}

}  // namespace flux
