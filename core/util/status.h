#pragma once
// Errors as values across library boundaries (CONVENTIONS: exceptions never escape a library,
// a thread or a Qt slot). A failed Status/Result carries one message a person can act on,
// e.g. "model.gguf: tensor 'blk.3.ffn_up_exps.weight' data ends at byte 9.1e9, past the end of
// the file (8.7e9 bytes)".
#include <string>
#include <utility>
#include <variant>

#include "core/util/check.h"

namespace moe {

/// A failure with a human-readable message.
struct Error {
  std::string message;
};

/// Success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error e) : error_(std::move(e.message)), ok_(false) {}  // NOLINT: implicit on purpose
  static Status ok_status() { return {}; }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const std::string& message() const { return error_; }
  Error error() const { return Error{error_}; }

 private:
  std::string error_;
  bool ok_ = true;
};

/// A value of type T or an Error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Error e) : v_(std::move(e)) {}      // NOLINT: implicit on purpose

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    MOE_CHECK(ok(), "Result::value() on an error: " + error().message);
    return std::get<0>(v_);
  }
  const T& value() const& {
    MOE_CHECK(ok(), "Result::value() on an error: " + error().message);
    return std::get<0>(v_);
  }
  T&& value() && {
    MOE_CHECK(ok(), "Result::value() on an error: " + error().message);
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    static const Error kNoError{"(no error)"};
    return ok() ? kNoError : std::get<1>(v_);
  }
  const std::string& message() const { return error().message; }
  Status status() const { return ok() ? Status{} : Status{error()}; }

 private:
  std::variant<T, Error> v_;
};

/// Builds an Error from pieces: make_error("file.gguf: ", "bad magic").
template <class... Parts>
Error make_error(Parts&&... parts) {
  std::string s;
  (s += ... += std::forward<Parts>(parts));
  return Error{std::move(s)};
}

}  // namespace moe

/// Propagates a failed Status/Result from the current function.
#define MOE_TRY(expr)                                  \
  do {                                                 \
    auto&& moe_try_status_ = (expr);                   \
    if (!moe_try_status_.ok()) return moe_try_status_.error(); \
  } while (0)
