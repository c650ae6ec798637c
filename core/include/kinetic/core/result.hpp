#pragma once
// Result<T, E>: a value or an error code, returned by hot-path functions instead of throwing.
//
// Modelled on simdjson's simdjson_result: a plain pair of value and error, trivially copyable
// when T is, so it costs nothing to return in registers. E is an `enum class` whose
// zero-valued enumerator means success (conventionally named `ok`).

#include <cassert>
#include <type_traits>
#include <utility>

namespace kinetic {

/// A value of type T or an error of type E. Value type: no ownership, no shared state; as
/// thread-safe as T. Reading value() of a failed result is a programming error (asserted).
template <class T, class E>
class [[nodiscard]] Result {
  static_assert(std::is_enum_v<E>, "Result's error type must be an enum (class)");
  static_assert(std::is_default_constructible_v<T>, "Result needs a default-constructible T");

 public:
  using value_type = T;
  using error_type = E;

  constexpr Result(T value) noexcept(
      std::is_nothrow_move_constructible_v<T>)  // NOLINT: implicit by design
      : value_(std::move(value)), error_(E{}) {}
  constexpr Result(E error) noexcept : value_(), error_(error) {  // NOLINT: implicit by design
    assert(error != E{} && "a Result made from an error must carry a failure code");
  }

  [[nodiscard]] constexpr bool ok() const noexcept { return error_ == E{}; }
  constexpr explicit operator bool() const noexcept { return ok(); }
  [[nodiscard]] constexpr E error() const noexcept { return error_; }

  [[nodiscard]] constexpr const T& value() const& noexcept {
    assert(ok());
    return value_;
  }
  [[nodiscard]] constexpr T& value() & noexcept {
    assert(ok());
    return value_;
  }
  [[nodiscard]] constexpr T value_or(T fallback) const noexcept { return ok() ? value_ : fallback; }

 private:
  T value_;
  E error_;
};

}  // namespace kinetic
