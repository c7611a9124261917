// flux bulksubmit: xargs for job submission. Inputs come from stdin (one
// per line, or per --sep) or after `:::` on the command line; each
// combination of inputs fills the `{}` of the command and of the job
// options (Python format syntax, as flux-core's) and is submitted as a job.
//
//   ::: A B      an input list (lists combine: every pairing)
//   :::+ A B     a list linked to the others (cycled, one per job)
//   :::: FILE    a list read from FILE (- is stdin); ::::+ linked
//   {} {0} {1}   the inputs; {.%} {./} {.//} {./%} (and {0.%} ...) without
//                extension, basename, dirname, basename without extension;
//                {seq} {seq1} the job's number from 0 / 1; {cc} the --cc id
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>

#include "cli.hpp"
#include "command.hpp"
#include "job_attach.hpp"
#include "submit_options.hpp"

namespace flux::cmd {

namespace {

[[noreturn]] void fail(const std::string& msg) {
  std::fprintf(stderr, "flux-bulksubmit: ERROR: %s\n", msg.c_str());
  std::exit(1);
}

struct NotFound {
  std::string key;  // a missing name, or "" for an index out of range
};

std::string dirname_of(const std::string& s) {
  auto p = s.rfind('/');
  return p == std::string::npos ? "" : p == 0 ? "/" : s.substr(0, p);
}
std::string basename_of(const std::string& s) {
  auto p = s.rfind('/');
  return p == std::string::npos ? s : s.substr(p + 1);
}
// os.path.splitext's root: the last '.' of the last component, unless it
// starts the component.
std::string strip_ext(const std::string& s) {
  auto slash = s.rfind('/');
  size_t start = slash == std::string::npos ? 0 : slash + 1;
  auto dot = s.rfind('.');
  if (dot == std::string::npos || dot <= start) return s;
  size_t lead = start;
  while (lead < s.size() && s[lead] == '.') lead++;
  if (dot < lead) return s;
  return s.substr(0, dot);
}

// Python's str.format over the inputs, as bulksubmit uses it; `{{` and
// `}}` (mustache templates) are kept as they are. Throws NotFound.
std::string format(const std::string& text, const std::vector<std::string>& inputs, size_t seq) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      out += text.substr(i, 2);
      i++;
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    size_t close = text.find('}', i);
    if (close == std::string::npos)
      throw FluxError(EINVAL, "Single '{' encountered in format string");
    std::string field = text.substr(i + 1, close - i - 1);
    i = close;
    if (auto colon = field.find(':'); colon != std::string::npos) field.resize(colon);
    std::string name = field, attr;
    if (auto dot = field.find('.'); dot != std::string::npos) {
      name = field.substr(0, dot);
      attr = field.substr(dot + 1);
    }
    std::string value;
    if (name == "seq" || name == "seq1") {
      value = std::to_string(seq + (name == "seq1" ? 1 : 0));
    } else if (name == "cc") {
      value = "{cc}";  // replaced per copy, after the options are read
    } else {
      size_t index = auto_index;
      if (name.empty()) {
        auto_index++;
      } else if (std::all_of(name.begin(), name.end(), ::isdigit)) {
        index = std::stoul(name);
      } else {
        throw NotFound{name};
      }
      if (index >= inputs.size()) throw NotFound{};
      value = inputs[index];
    }
    if (attr == "%")
      value = strip_ext(value);
    else if (attr == "/")
      value = basename_of(value);
    else if (attr == "//")
      value = dirname_of(value);
    else if (attr == "/%")
      value = basename_of(strip_ext(value));
    else if (!attr.empty())
      throw FluxError(EINVAL, "Unknown input string method '." + attr + "'");
    out += value;
  }
  return out;
}

std::vector<std::string> split_input(const std::string& text, const std::string& sep) {
  std::vector<std::string> out;
  if (sep.empty()) {  // none: any whitespace
    std::istringstream in(text);
    for (std::string w; in >> w;) out.push_back(w);
    return out;
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    std::string item =
        text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!item.empty()) out.push_back(item);
    if (end == std::string::npos) break;
    start = end + sep.size();
  }
  return out;
}

std::string read_all(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// flux-core's name for each option whose value bulksubmit may fill in,
// as its --dry-run and -v lines print it; list-valued ones print as a
// Python list.
struct Mutable {
  const char* prefix;
  bool list;
  int order;  // flux-core's order of them on the line
};
const std::map<std::string, Mutable>& mutable_options() {
  static const std::map<std::string, Mutable> kOpts = {
      {"--queue", {"-q", false, 0}},
      {"--ntasks", {"-n", false, 2}},
      {"--nodes", {"-N", false, 3}},
      {"--cores-per-task", {"-c", false, 4}},
      {"--gpus-per-task", {"-g", false, 5}},
      {"--time-limit", {"-t", false, 10}},
      {"--env", {"--env=", true, 11}},
      {"--env-remove", {"--env-remove=", true, 13}},
      {"--urgency", {"--urgency=", false, 14}},
      {"--setopt", {"-o ", true, 15}},
      {"--setattr", {"--setattr=", true, 16}},
      {"--job-name", {"--job-name=", false, 17}},
      {"--input", {"--input=", false, 18}},
      {"--output", {"--output=", false, 19}},
      {"--error", {"--error=", false, 20}},
      {"--cc", {"--cc=", false, 21}},
      {"--dependency", {"--dependency=", true, 25}},
      {"--requires", {"--requires=", true, 27}},
      {"--wait-event", {"--wait-event=", false, 28}},
      {"--cwd", {"--cwd=", false, 29}},
      {"--flags", {"--flags=", true, 30}},
      {"--begin-time", {"--begin-time=", false, 31}}};
  return kOpts;
}

// The app's options, by every name, as their long name (or short).
struct OptionInfo {
  std::string name;  // "--ntasks"
  bool takes_value = false;
};

class BulkApp {
 public:
  BulkApp() : app_("Submit jobs in bulk.") {
    opts_.add_to(app_);
    app_.add_flag("--watch", watch_, "Follow the jobs' output until they finish");
    app_.add_flag("--shuffle", shuffle_, "Submit in a random order");
    app_.add_option("--sep", sep_, "Input separator (default newline; none: whitespace)");
    app_.add_option("--define", defines_, "NAME=CODE methods (not supported)");
    app_.add_flag("-v,--verbose", verbose_, "Print each command as it is submitted");
    app_.prefix_command();
    app_.footer("COMMAND [ARGS...] [::: INPUTS...] follows the options.");
    for (const CLI::Option* o : app_.get_options()) {
      std::string lname = o->get_lnames().empty() ? "" : "--" + o->get_lnames()[0];
      OptionInfo info{lname.empty() ? "-" + o->get_snames()[0] : lname,
                      o->get_expected_max() != 0};  // flags expect none
      for (const auto& l : o->get_lnames()) by_name_["--" + l] = info;
      for (const auto& s : o->get_snames()) by_name_["-" + s] = info;
    }
  }

  CLI::App& app() { return app_; }
  SubmitOptions& opts() { return opts_; }
  const OptionInfo* find(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &it->second;
  }

  SubmitOptions opts_;
  bool watch_ = false, shuffle_ = false;
  int verbose_ = 0;
  std::string sep_ = "\\n";
  std::vector<std::string> defines_;

 private:
  CLI::App app_;
  std::map<std::string, OptionInfo> by_name_;
};

// The template's options as (option, value) pairs and its command, split
// as CLI11 would: options until the first word that is not one.
struct Template {
  std::vector<std::pair<std::string, std::string>> options;  // value "" for flags
  std::vector<std::string> command;
};

Template split_template(const BulkApp& b, const std::vector<std::string>& words) {
  Template t;
  size_t i = 0;
  for (; i < words.size(); i++) {
    const std::string& w = words[i];
    if (w == "--") {
      i++;
      break;
    }
    if (w.size() < 2 || w[0] != '-') break;
    std::string name = w, value;
    bool inline_value = false;
    if (w.starts_with("--")) {
      if (auto eq = w.find('='); eq != std::string::npos) {
        name = w.substr(0, eq);
        value = w.substr(eq + 1);
        inline_value = true;
      }
    } else if (w.size() > 2) {
      name = w.substr(0, 2);
      value = w.substr(2);
      inline_value = true;
    }
    const OptionInfo* info = b.find(name);
    if (!info) {  // kept, for the first parse to refuse as a usage error
      t.options.emplace_back(w, "");
      continue;
    }
    if (info->takes_value && !inline_value) {
      if (i + 1 >= words.size()) break;
      value = words[++i];
    }
    t.options.emplace_back(info->name, value);
  }
  t.command.assign(words.begin() + static_cast<long>(i), words.end());
  return t;
}

std::string py_list(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); i++) s += (i ? ", '" : "'") + v[i] + "'";
  return s + "]";
}

}  // namespace

int cmd_bulksubmit(int argc, char** argv) {
  // The words after the options: the command template, then the input
  // lists (":::" and friends), which CLI11 must not see.
  std::vector<std::string> words(argv + 1, argv + argc);
  auto is_delim = [](const std::string& w) {
    return w == ":::" || w == ":::+" || w == "::::" || w == "::::+";
  };
  auto first_delim = std::find_if(words.begin(), words.end(), is_delim);
  std::vector<std::string> head(words.begin(), first_delim);
  std::vector<std::vector<std::string>> groups;
  std::vector<std::string> kinds;
  for (auto it = first_delim; it != words.end(); ++it) {
    if (is_delim(*it)) {
      kinds.push_back(*it);
      groups.emplace_back();
    } else {
      groups.back().push_back(*it);
    }
  }

  BulkApp b;
  Template tmpl = split_template(b, head);
  // Parsed once, with every {} as 1, for usage errors and bulksubmit's own
  // options; each job's options are parsed again once filled in.
  {
    std::vector<std::string> plain;
    for (const auto& [name, value] : tmpl.options) {
      const OptionInfo* info = b.find(name.substr(0, name.find('=')));
      if (info && info->takes_value) {
        std::string v = value;
        for (size_t p; (p = v.find('{')) != std::string::npos;) {
          size_t q = v.find('}', p);
          v.replace(p, q == std::string::npos ? std::string::npos : q - p + 1, "1");
        }
        plain.push_back(name + "=" + v);
      } else {
        plain.push_back(name);
      }
    }
    plain.emplace_back("true");
    std::vector<char*> cargv{argv[0]};
    for (auto& w : plain) cargv.push_back(w.data());
    if (int rc = parse(b.app(), static_cast<int>(cargv.size()), cargv.data()); rc >= 0) return rc;
  }
  if (!b.defines_.empty())
    fail("--define is not supported (flux-core evaluates Python code there)");
  std::string sep = b.sep_ == "\\n" ? "\n" : b.sep_;
  if (sep == "none" || sep == "None") sep.clear();
  // Bulk-wide settings come from the first parse.
  bool dry_run = b.opts_.dry_run, quiet = b.opts_.quiet, wait = b.opts_.wait;
  bool watch = b.watch_;
  int verbose = b.verbose_;

  // The input lists; linked ones are kept aside with their position.
  std::vector<std::vector<std::string>> lists;
  std::vector<std::pair<size_t, std::vector<std::string>>> links;
  for (size_t g = 0; g < groups.size(); g++) {
    std::vector<std::string> items = groups[g];
    if (kinds[g].starts_with("::::")) {
      if (items.size() != 1) fail("Multiple args not allowed after ::::");
      if (items[0] == "-") {
        items = split_input(read_all(std::cin), sep);
      } else {
        std::ifstream in(items[0]);
        if (!in) fail(items[0] + ": No such file or directory");
        items = split_input(read_all(in), sep);
      }
    }
    if (kinds[g].ends_with("+"))
      links.emplace_back(g, std::move(items));
    else if (!items.empty())
      lists.push_back(std::move(items));
  }
  if (groups.empty()) lists.push_back(split_input(read_all(std::cin), sep));
  if (tmpl.command.empty()) tmpl.command.emplace_back("{}");

  // Every combination of the lists, the last varying fastest.
  std::vector<std::vector<std::string>> inputs(1);
  for (const auto& l : lists) {
    std::vector<std::vector<std::string>> next;
    for (const auto& prefix : inputs)
      for (const auto& item : l) {
        next.push_back(prefix);
        next.back().push_back(item);
      }
    inputs = std::move(next);
  }
  if (lists.empty()) inputs.clear();
  for (auto& [index, items] : links) {
    if (items.empty()) continue;
    size_t k = 0;
    for (auto& in : inputs) {
      in.insert(in.begin() + static_cast<long>(std::min(index, in.size())), items[k]);
      k = (k + 1) % items.size();
    }
  }
  // Each job keeps its place number ({seq}) when the order is shuffled.
  std::vector<size_t> order(inputs.size());
  for (size_t i = 0; i < order.size(); i++) order[i] = i;
  if (b.shuffle_) std::shuffle(order.begin(), order.end(), std::mt19937(std::random_device{}()));

  std::unique_ptr<Handle> h;
  std::map<std::pair<int, uint32_t>, std::unique_ptr<JobSubmitter>> submitters;
  std::vector<JobId> ids;
  size_t total = 0;
  for (size_t seq : order) {
    const auto& in = inputs[seq];
    std::vector<std::string> job_words;
    // Per option flux-core shows (in its order): the values, and whether
    // the inputs changed any of them.
    std::map<int, std::pair<std::vector<std::string>, bool>> shown_values;
    for (const auto& [name, value] : tmpl.options) {
      auto m = mutable_options().find(name);
      std::string shown_name = m != mutable_options().end() ? m->second.prefix : name + "=";
      if (shown_name.ends_with(' ')) shown_name.pop_back();
      std::string v;
      try {
        v = format(value, in, seq);
      } catch (const NotFound& nf) {
        if (nf.key.empty()) fail("Invalid replacement index in " + shown_name + value + "'");
        fail("Replacement key '" + nf.key + "' not found in '" + shown_name + value + "'");
      }
      const OptionInfo* info = b.find(name);
      job_words.push_back(info && info->takes_value ? name + "=" + v : name);
      if (m != mutable_options().end()) {
        auto& [values, changed] = shown_values[m->second.order];
        values.push_back(v);
        changed = changed || v != value || name == "--cc";
      }
    }
    std::vector<std::string> shown;
    for (const auto& [ord, entry] : shown_values) {
      if (!entry.second) continue;
      for (const auto& [name, m] : mutable_options()) {
        if (m.order != ord) continue;
        shown.push_back(m.prefix + (m.list ? py_list(entry.first) : entry.first.back()));
      }
    }
    std::vector<std::string> command;
    for (const auto& w : tmpl.command) {
      try {
        command.push_back(format(w, in, seq));
      } catch (const NotFound&) {
        fail("Invalid replacement string in command: '" + w + "'");
      }
    }
    if (verbose || dry_run) {
      std::string line = "bulksubmit: submit";
      for (const auto& s : shown) line += " " + s;
      for (const auto& c : command) line += " " + c;
      std::printf("%s\n", line.c_str());
    }
    if (dry_run) continue;
    // This job's options, parsed as flux submit's.
    BulkApp jb;
    std::vector<std::string> all = job_words;
    all.emplace_back("--");
    all.insert(all.end(), command.begin(), command.end());
    std::vector<char*> cargv{argv[0]};
    for (auto& w : all) cargv.push_back(w.data());
    if (int rc = parse(jb.app(), static_cast<int>(cargv.size()), cargv.data()); rc >= 0) return rc;
    std::vector<std::string> job_command = jb.app().remaining();
    if (job_command.empty()) fail("job command and arguments are missing");
    if (!h) h = open_instance();
    const SubmitOptions& o = jb.opts_;
    auto key = std::make_pair(o.urgency, o.flag_bits() | (watch || wait ? 4u : 0u));
    // Ids are printed in input order: the other submitters' answers first.
    for (auto& [k, other] : submitters)
      if (k != key) other->finish();
    auto& sub = submitters[key];
    if (!sub)
      sub = std::make_unique<JobSubmitter>(*h, key.first, key.second, [&](JobId id) {
        if (!quiet) std::printf("%s\n", id.encode().c_str());
        ids.push_back(id);
      });
    auto jobspec = [&](long cc_id) {
      Json js = o.jobspec(job_command, cc_id);
      Json& input = js["attributes"]["system"]["shell"]["options"]["input"];
      if (!input.contains("stdin")) input["stdin"] = {{"type", "file"}, {"path", "/dev/null"}};
      return js.dump();
    };
    size_t first = ids.size();
    if (auto cc = o.cc_ids()) {
      for (uint32_t id : *cc) {
        sub->submit(jobspec(id));
        total++;
      }
    } else {
      sub->submit(jobspec(-1));
      total++;
    }
    if (!o.wait_event.empty()) {
      sub->finish();
      for (size_t k = first; k < ids.size(); k++) wait_for_event(*h, ids[k], o.wait_event);
    }
  }
  if (!dry_run && total == 0 && inputs.empty()) fail("no jobs provided for bulk submission");
  for (auto& [k, s] : submitters) s->finish();
  std::fflush(stdout);
  if (watch) {
    int rc = 0;
    AttachOptions ao;
    ao.forward_stdin = false;
    for (const auto& id : ids) rc = std::max(rc, attach_job(*h, id, ao, "flux-job"));
    return rc;
  }
  if (wait) return wait_jobs(*h, ids, argv[0]);
  return 0;
}

}  // namespace flux::cmd
