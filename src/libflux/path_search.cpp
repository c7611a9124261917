#include "path_search.hpp"

#include <unistd.h>

namespace flux {

std::vector<std::string> split_path(const std::string& dirs) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t colon = dirs.find(':', start);
    std::string dir =
        dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!dir.empty()) out.push_back(dir);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return out;
}

std::optional<std::string> search_path(const std::string& dirs, const std::string& file, int mode) {
  for (const auto& dir : split_path(dirs)) {
    std::string cand = dir + "/" + file;
    if (access(cand.c_str(), mode) == 0) return cand;
  }
  return std::nullopt;
}

}  // namespace flux
