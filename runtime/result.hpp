// result<T>: a value or a failure message, for plain classes that must not depend on CAF.
// Errors are values (docs/style.md): callers check before use; the message is written for an operator.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace sa {

/// A failure with a message an operator can act on (names the input and the problem).
struct failure {
  std::string message;
};

template <class T>
class [[nodiscard]] result {
public:
  result(T value) : v_(std::move(value)) {}
  result(failure f) : v_(std::move(f)) {}

  explicit operator bool() const noexcept { return v_.index() == 0; }
  bool ok() const noexcept { return v_.index() == 0; }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The failure message; only valid when !ok().
  const std::string& error() const { return std::get<1>(v_).message; }

private:
  std::variant<T, failure> v_;
};

/// A result without a value.
class [[nodiscard]] status {
public:
  status() = default;
  status(failure f) : message_(std::move(f.message)), ok_(false) {}
  explicit operator bool() const noexcept { return ok_; }
  bool ok() const noexcept { return ok_; }
  const std::string& error() const { return message_; }

private:
  std::string message_;
  bool ok_ = true;
};

} // namespace sa
