// flux R: make and combine RFC 20 resource sets (R) on the command line, as
// flux-core's flux-R: encode builds one; append, diff, intersect, remap,
// rerank, decode and verify read any number of R objects from stdin.
#include <unistd.h>

#include <iostream>
#include <iterator>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/hostlist.hpp"
#include "libflux/idset.hpp"
#include "libflux/rset.hpp"

namespace flux::cmd {

namespace {

Idset idset_arg(const std::string& opt, const std::string& text) {
  auto ids = Idset::decode(text);
  if (!ids) throw FluxError(EINVAL, opt + ": invalid idset '" + text + "'");
  return std::move(*ids);
}

std::string local_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) < 0) return "localhost";
  return buf;
}

// Every R object on stdin (concatenated JSON values).
// NAME[:RANKS] (all ranks without RANKS): add property NAME on RANKS of r.
void add_property(Rset& r, const std::string& spec, const char* opt) {
  size_t colon = spec.find(':');
  std::string name = spec.substr(0, colon);
  if (name.empty()) throw FluxError(EINVAL, std::string(opt) + ": empty name in '" + spec + "'");
  Idset on = colon == std::string::npos ? r.ranks() : idset_arg(opt, spec.substr(colon + 1));
  Idset outside = on - r.ranks();
  if (!outside.empty())
    throw FluxError(EINVAL, std::string(opt) + ": ranks " + outside.encode() + " not in R");
  r.properties[name] |= on;
}

std::vector<Rset> read_all() {
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  std::vector<Rset> out;
  size_t pos = 0;
  while (true) {
    pos = text.find_first_not_of(" \t\r\n", pos);
    if (pos == std::string::npos) break;
    // One JSON value: parse a prefix by scanning for the matching brace.
    int depth = 0;
    bool in_str = false, esc = false;
    size_t end = pos;
    for (; end < text.size(); end++) {
      char c = text[end];
      if (in_str) {
        if (esc)
          esc = false;
        else if (c == '\\')
          esc = true;
        else if (c == '"')
          in_str = false;
      } else if (c == '"') {
        in_str = true;
      } else if (c == '{') {
        depth++;
      } else if (c == '}' && --depth == 0) {
        break;
      }
    }
    if (depth != 0 || end >= text.size()) throw FluxError(EINVAL, "stdin: truncated R object");
    auto r = Rset::decode(std::string_view(text).substr(pos, end + 1 - pos));
    if (!r) throw FluxError(r.error());
    out.push_back(std::move(*r));
    pos = end + 1;
  }
  return out;
}

void print(const Rset& r) {
  std::printf("%s\n", r.encode().c_str());
}

}  // namespace

int cmd_R(int argc, char** argv) {
  CLI::App app{"Encode, combine and decode RFC 20 resource sets (R)."};
  app.require_subcommand(1);
  std::string ranks, cores, gpus, hosts, xml, count, include, exclude, props, rerank_hosts;
  std::vector<std::string> properties;
  bool local = false, shortform = false, nodelist = false, show_ranks = false;
  auto* encode = app.add_subcommand("encode", "Encode an R object for testing");
  encode->add_option("-r,--ranks", ranks, "Ranks (default: as many as --hosts, or 0)");
  encode->add_option("-c,--cores", cores, "Cores of each rank (default 0)");
  encode->add_option("-g,--gpus", gpus, "GPUs of each rank (default none)");
  encode->add_option("-H,--hosts", hosts, "Hostnames (default: this host's, for each rank)");
  encode->add_option("-p,--property", properties, "NAME[:RANKS] (all ranks if none)")
      ->allow_extra_args(false);
  encode->add_flag("-l,--local", local, "Cores and GPUs of this machine (hwloc)");
  encode->add_option("-f,--xml", xml, "Cores and GPUs from hwloc XML (not supported yet)");
  auto* append = app.add_subcommand("append", "Union of disjoint R objects on stdin");
  auto* diff = app.add_subcommand("diff", "(R1 - R2) - R3 ... of R objects on stdin");
  auto* intersect = app.add_subcommand("intersect", "Intersection of R objects on stdin");
  auto* remap = app.add_subcommand("remap", "Union of R objects on stdin, ranks from 0");
  auto* rerank = app.add_subcommand("rerank", "Union of R objects on stdin, ranked by HOSTLIST");
  rerank->add_option("HOSTLIST", rerank_hosts)->required();
  auto* decode = app.add_subcommand("decode", "Union of R objects on stdin, or facts of it");
  decode->add_flag("-s,--short", shortform, "Short form: rank/core/gpu summary");
  decode->add_flag("-n,--nodelist", nodelist, "The nodelist (hostlist)");
  decode->add_flag("-r,--ranks", show_ranks, "The ranks (idset)");
  decode->add_option("-c,--count", count, "Count of ranks, core or gpu");
  decode->add_option("-i,--include", include, "Only these ranks");
  decode->add_option("-x,--exclude", exclude, "Not these ranks");
  decode->add_option("-p,--properties", props, "Only ranks with these properties (comma list)");
  auto* verify = app.add_subcommand("verify", "Check that R2 on stdin has everything R1 has");
  auto* set_property =
      app.add_subcommand("set-property", "Set NAME:RANKS properties on R on stdin");
  std::vector<std::string> set_props;
  set_property->add_option("props", set_props, "NAME[:RANKS] (all ranks if none)")->required();
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;

  if (encode->parsed()) {
    if (!xml.empty()) throw FluxError(ENOSYS, "--xml is not supported yet");
    Hostlist hl;
    if (!hosts.empty()) {
      auto h = Hostlist::decode(hosts);
      if (!h) throw FluxError(EINVAL, "--hosts: invalid hostlist '" + hosts + "'");
      hl = std::move(*h);
    }
    Idset rankset;
    if (!ranks.empty())
      rankset = idset_arg("--ranks", ranks);
    else if (!hl.empty() && hl.size() > 0)
      rankset.insert(0, static_cast<uint32_t>(hl.size() - 1));
    else
      rankset.insert(0);
    if (!hl.empty() && hl.size() != rankset.count())
      throw FluxError(EINVAL, "Hostlist '" + hosts + "' has " + std::to_string(hl.size()) +
                                  " hosts, but " + std::to_string(rankset.count()) +
                                  " ranks were given");
    Idset coreset = cores.empty() ? idset_arg("--cores", "0") : idset_arg("--cores", cores);
    if (local) {
      long n = ::sysconf(_SC_NPROCESSORS_ONLN);
      coreset = Idset();
      coreset.insert(0, static_cast<uint32_t>(std::max(1L, n) - 1));
    }
    Idset gpuset = gpus.empty() ? Idset() : idset_arg("--gpus", gpus);
    std::string me = local_hostname();
    Rset r;
    size_t i = 0;
    for (uint32_t rank : rankset) {
      std::string host = hl.empty() ? me : hl[i];
      r.add(rank, host, coreset, gpuset);
      i++;
    }
    for (const auto& p : properties) add_property(r, p, "--property");
    print(r);
    return 0;
  }

  std::vector<Rset> in = read_all();
  if (set_property->parsed()) {
    if (in.size() != 1) throw FluxError(EINVAL, "set-property: expected one R object on stdin");
    Rset& r = in[0];
    for (const auto& p : set_props) add_property(r, p, "set-property");
    print(r);
    return 0;
  }
  if (verify->parsed()) {
    if (in.size() != 2) throw FluxError(EINVAL, "verify: expected 2 R objects on stdin");
    if (!in[1].contains(in[0])) {
      std::fprintf(stderr, "flux-R: verify: resources are missing\n");
      return 1;
    }
    return 0;
  }
  Rset result;
  bool first = true;
  for (auto& r : in) {
    if (first) {
      result = r;
      first = false;
    } else if (append->parsed()) {
      if (!(result & r).empty()) throw FluxError(EEXIST, "append: R objects are not disjoint");
      result |= r;
    } else if (diff->parsed()) {
      result -= r;
    } else if (intersect->parsed()) {
      result &= r;
    } else {
      result |= r;
    }
  }
  if (remap->parsed() || rerank->parsed()) {
    Rset out;
    out.starttime = result.starttime;
    out.expiration = result.expiration;
    std::optional<Hostlist> order;
    if (rerank->parsed()) {
      auto h = Hostlist::decode(rerank_hosts);
      if (!h) throw FluxError(EINVAL, "rerank: invalid hostlist '" + rerank_hosts + "'");
      order = std::move(*h);
      if (order->size() < result.nnodes())
        throw FluxError(EOVERFLOW, "rerank: hostlist is shorter than R");
    }
    uint32_t next = 0;
    for (const auto& [rank, node] : result.nodes()) {
      uint32_t to = next++;
      if (order) {
        auto at = order->find(node.host);
        if (at < 0) throw FluxError(ENOENT, "rerank: host " + node.host + " not in hostlist");
        to = static_cast<uint32_t>(at);
      }
      out.add(to, node.host, node.cores, node.gpus);
    }
    print(out);
    return 0;
  }
  if (decode->parsed()) {
    if (!include.empty()) result = result.copy_ranks(idset_arg("--include", include));
    if (!exclude.empty()) {
      Idset keep = result.ranks();
      for (uint32_t r : idset_arg("--exclude", exclude)) keep.erase(r);
      result = result.copy_ranks(keep);
    }
    if (!props.empty()) {
      Idset keep = result.ranks();
      size_t start = 0;
      while (start <= props.size()) {
        size_t comma = props.find(',', start);
        std::string p = props.substr(start, comma == std::string::npos ? comma : comma - start);
        auto it = result.properties.find(p);
        keep = it == result.properties.end() ? Idset() : (keep & it->second);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      result = result.copy_ranks(keep);
    }
    bool printed = false;
    if (!count.empty()) {
      size_t n = count == "ranks" || count == "node" ? result.nnodes()
                 : count == "core"                   ? result.ncores()
                 : count == "gpu"                    ? result.ngpus()
                                                     : SIZE_MAX;
      if (n == SIZE_MAX) throw FluxError(EINVAL, "--count: unknown type '" + count + "'");
      std::printf("%zu\n", n);
      printed = true;
    }
    if (show_ranks) {
      std::printf("%s\n", result.ranks().encode().c_str());
      printed = true;
    }
    if (nodelist) {
      std::printf("%s\n", result.nodelist().encode().c_str());
      printed = true;
    }
    if (shortform) {
      std::printf(
          "rank%s/core%s\n", result.ranks().encode(true).c_str(),
          result.nodes().empty() ? "" : result.nodes().begin()->second.cores.encode(true).c_str());
      printed = true;
    }
    if (!printed) print(result);
    return 0;
  }
  print(result);
  return 0;
}

}  // namespace flux::cmd
