#include "affinity.hpp"

namespace flux::shell {

Result<Affinity> parse_affinity(const Json& shell_options) {
  if (!shell_options.is_object() || !shell_options.contains("cpu-affinity")) return Affinity::kOff;
  const Json& v = shell_options["cpu-affinity"];
  if (v.is_boolean()) return v.get<bool>() ? Affinity::kOn : Affinity::kOff;
  if (v.is_number_integer()) return v.get<int64_t>() != 0 ? Affinity::kOn : Affinity::kOff;
  if (!v.is_string()) return Error{EINVAL, "cpu-affinity: must be on, off or per-task"};
  std::string s = v.get<std::string>();
  if (s == "on") return Affinity::kOn;
  if (s == "off") return Affinity::kOff;
  if (s == "per-task") return Affinity::kPerTask;
  return Error{EINVAL, "cpu-affinity: unknown value '" + s + "' (on, off or per-task)"};
}

std::vector<int> task_cpus(Affinity a, const Idset& cores, int index, int ntasks) {
  std::vector<int> all(cores.begin(), cores.end());
  if (a == Affinity::kOff || all.empty()) return {};
  if (a == Affinity::kOn || ntasks <= 0) return all;
  int c = static_cast<int>(all.size());
  if (c < ntasks) return {all[index % c]};
  int lo = static_cast<int>(int64_t{index} * c / ntasks);
  int hi = static_cast<int>(int64_t{index + 1} * c / ntasks);
  return std::vector<int>(all.begin() + lo, all.begin() + hi);
}

}  // namespace flux::shell
