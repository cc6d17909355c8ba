// Result<T>: a value or an Error, returned across folder boundaries instead of throwing.
//
// Debian 12 has neither std::expected (C++23) nor tl::expected packaged, so this is the
// small subset we use: construct from a value or an Error, test with ok(), read with
// value() / error(). Reading the wrong alternative is a broken invariant and aborts.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace ghl {

// One problem, phrased for the person who has to fix it: what is wrong, where, and
// (where we know) what to do about it. Never contains a secret.
struct Error {
  std::string message;
};

namespace detail {
[[noreturn]] inline void BadResultAccess(const char* what) {
  (void)std::fprintf(stderr, "ghl-syncd: broken invariant: %s\n", what);
  std::abort();
}
}  // namespace detail

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    if (!ok()) detail::BadResultAccess(std::get<1>(v_).message.c_str());
    return std::get<0>(v_);
  }
  const T& value() const& {
    if (!ok()) detail::BadResultAccess(std::get<1>(v_).message.c_str());
    return std::get<0>(v_);
  }
  T&& value() && {
    if (!ok()) detail::BadResultAccess(std::get<1>(v_).message.c_str());
    return std::get<0>(std::move(v_));
  }
  const Error& error() const {
    if (ok()) detail::BadResultAccess("error() read on a successful Result");
    return std::get<1>(v_);
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    if (ok_) detail::BadResultAccess("error() read on a successful Result");
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

inline Result<void> Ok() { return {}; }

}  // namespace ghl
