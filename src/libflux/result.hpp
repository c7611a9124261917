// Result<T>: a value or an Error, for functions whose failure is ordinary
// (bad input, a missing attribute). FluxError is the exception form used at
// API edges; both carry an errno and a message a person can act on.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace flux {

struct Error {
  int errnum = EINVAL;
  std::string message;
};

class FluxError : public std::runtime_error {
 public:
  FluxError(int errnum, const std::string& message)
      : std::runtime_error(message), errnum_(errnum) {}
  explicit FluxError(Error e) : FluxError(e.errnum, e.message) {}
  int errnum() const { return errnum_; }

 private:
  int errnum_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error e) : v_(std::move(e)) {}      // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return std::get<1>(v_); }
  T& value() & {
    if (!ok()) throw FluxError(error());
    return std::get<0>(v_);
  }
  T&& value() && {
    if (!ok()) throw FluxError(error());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace flux
