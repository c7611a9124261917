// Finding a file on a colon-separated search path (PATH, FLUX_EXEC_PATH,
// the module path).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace flux {

std::vector<std::string> split_path(const std::string& dirs);
// The first DIR/file that access(2) allows with `mode` (R_OK, X_OK).
std::optional<std::string> search_path(const std::string& dirs, const std::string& file, int mode);

}  // namespace flux
