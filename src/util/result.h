// Result<T>: a value or an Error, for every operation that can fail on outside input.
// Exceptions are kept for programming errors and for the CLI's top level; protocol, codec and
// store code return Result so that a refusal is an ordinary value that tests can inspect.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace bc::util {

// Error codes are stable: the CLI maps them to exit codes and --json prints their names.
enum class Errc {
  invalid_argument,  // the caller's input is malformed (a flag, a name, a number)
  bad_format,        // outside bytes do not parse
  truncated,         // outside bytes end early
  checksum,          // a checksum does not match (typo or alteration)
  bad_signature,     // a signature does not verify
  unsupported_version,
  expired,
  limit,             // a size or count limit was exceeded
  not_found,
  already_exists,
  refused,           // a policy refusal (revoked, already used, not verified, ...)
  crypto,            // an authentication or key-agreement failure
  io,                // file system or socket
  store,             // the database
  internal,
};

const char* errc_name(Errc code);

struct Error {
  Errc code;
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{Errc::internal, {}};
  bool ok_ = true;
};

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace bc::util

// Propagates the error of a Result expression, otherwise yields nothing.
#define BC_TRY_VOID(expr)                                            \
  do {                                                               \
    auto bc_try_result_ = (expr);                                    \
    if (!bc_try_result_.ok()) return bc_try_result_.error();         \
  } while (false)
