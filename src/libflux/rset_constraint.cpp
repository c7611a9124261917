#include "rset_constraint.hpp"

#include <string>

namespace flux {

namespace {

// The characters RFC 20 refuses in a property name (^ is allowed first, as
// the negation).
constexpr std::string_view kBadPropertyChars = "!&'\"`|()^ \t";

Idset properties_ranks(const Rset& rset, const Json& values) {
  if (!values.is_array()) throw FluxError(EINVAL, "properties value must be an array");
  Idset out = rset.ranks();
  for (const auto& v : values) {
    if (!v.is_string()) throw FluxError(EINVAL, "non-string property specified");
    std::string_view name = v.get_ref<const std::string&>();
    bool negate = !name.empty() && name[0] == '^';
    std::string_view bare = negate ? name.substr(1) : name;
    if (auto pos = bare.find_first_of(kBadPropertyChars); pos != std::string_view::npos)
      throw FluxError(EINVAL, "invalid character '" + std::string(1, bare[pos]) +
                                  "' in property \"" + std::string(name) + "\"");
    auto it = rset.properties.find(std::string(bare));
    Idset have = it == rset.properties.end() ? Idset{} : it->second;
    if (negate)
      out -= have;
    else
      out &= have;
  }
  return out;
}

Idset eval(const Rset& rset, const Json& c) {
  if (c.is_null()) return rset.ranks();
  if (!c.is_object()) throw FluxError(EINVAL, "constraint must be JSON object");
  if (c.empty()) return rset.ranks();
  if (c.size() != 1) throw FluxError(EINVAL, "constraint must only contain 1 element");
  const std::string& op = c.begin().key();
  const Json& values = c.begin().value();
  if (op == "properties") return properties_ranks(rset, values);
  if (!values.is_array()) throw FluxError(EINVAL, op + " operator value must be an array");
  if (op == "and" || op == "or") {
    Idset out = op == "and" ? rset.ranks() : Idset{};
    for (const auto& sub : values) {
      if (op == "and")
        out &= eval(rset, sub);
      else
        out |= eval(rset, sub);
    }
    return out;
  }
  if (op == "not") {
    Idset out = rset.ranks();
    for (const auto& sub : values) out -= eval(rset, sub);
    return out;
  }
  if (op == "ranks") {
    Idset want;
    for (const auto& v : values) {
      auto ids = v.is_string() ? Idset::decode(v.get_ref<const std::string&>())
                               : Result<Idset>(Error{EINVAL, ""});
      if (!ids)
        throw FluxError(EINVAL, "invalid idset '" +
                                    (v.is_string() ? v.get<std::string>() : v.dump()) + "' in " +
                                    values.dump());
      want |= *ids;
    }
    return want & rset.ranks();
  }
  if (op == "hostlist") {
    Hostlist want;
    for (const auto& v : values) {
      if (!v.is_string() || !want.append(v.get_ref<const std::string&>()))
        throw FluxError(EINVAL, "invalid hostlist '" +
                                    (v.is_string() ? v.get<std::string>() : v.dump()) + "' in " +
                                    values.dump());
    }
    Idset out;
    for (const auto& [rank, node] : rset.nodes())
      if (!node.host.empty() && want.contains(node.host)) out.insert(rank);
    return out;
  }
  throw FluxError(EINVAL, "unknown constraint operator: " + op);
}

}  // namespace

Result<Idset> constraint_ranks(const Rset& rset, const Json& constraint) {
  try {
    return eval(rset, constraint);
  } catch (const FluxError& e) {
    return Error{e.errnum(), e.what()};
  }
}

Result<Rset> rset_copy_constraint(const Rset& rset, const Json& constraint) {
  auto ranks = constraint_ranks(rset, constraint);
  if (!ranks) return ranks.error();
  return rset.copy_ranks(*ranks);
}

}  // namespace flux
