// Name <-> value tables for sched-graph's policy enums (match policies,
// queue policies): one lookup for both.
#pragma once

#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>

#include "libflux/result.hpp"

namespace flux::sched_graph {

template <class E>
struct EnumName {
  std::string_view name;
  E value;
};

// EINVAL "unknown WHAT 'NAME'" for a name the table lacks.
template <class E, size_t N>
Result<E> enum_parse(const EnumName<E> (&table)[N], std::string_view name, const char* what) {
  for (const auto& e : table) {
    if (e.name == name) return e.value;
  }
  return Error{EINVAL, std::string("unknown ") + what + " '" + std::string(name) + "'"};
}

// The first name of value (the table's first entry if none).
template <class E, size_t N>
std::string enum_name(const EnumName<E> (&table)[N], E value) {
  for (const auto& e : table) {
    if (e.value == value) return std::string(e.name);
  }
  return std::string(table[0].name);
}

}  // namespace flux::sched_graph
