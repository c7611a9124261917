// The broker's reading of its configuration: the [access] table.
#include "config.hpp"

#include <cerrno>

#include "libflux/result.hpp"

namespace flux::broker {

AccessPolicy access_policy(const Json& config) {
  AccessPolicy p;
  auto it = config.find("access");
  if (it == config.end()) return p;
  if (!it->is_object()) throw FluxError(EINVAL, "[access] must be a table");
  for (const auto& [key, value] : it->items()) {
    bool* field = key == "allow-guest-user"   ? &p.allow_guest_user
                  : key == "allow-root-owner" ? &p.allow_root_owner
                  : key == "private-mode"     ? &p.private_mode
                                              : nullptr;
    if (!field) throw FluxError(EINVAL, "[access]: unknown key " + key);
    if (!value.is_boolean()) throw FluxError(EINVAL, "[access]: " + key + " must be true or false");
    *field = value.get<bool>();
  }
  return p;
}

}  // namespace flux::broker
