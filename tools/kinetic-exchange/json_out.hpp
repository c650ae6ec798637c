#pragma once
// JsonOut: appends compact JSON to a std::string, the way Bybit writes it: no spaces, keys in
// the order written, prices and quantities as exact decimal strings.
//
// The exchange simulator builds every reply and push with it. It keeps the comma bookkeeping
// in one place so that callers only say what to write. Escaping covers what JSON requires
// (quote, backslash, control characters); text from clients is escaped, never copied raw.
//
// Ownership: writes into a string the caller owns (reserve it once and clear() it between
// messages to reuse its capacity). Not thread-safe; one message at a time.

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "kinetic/core/decimal.hpp"

namespace kinetic::exchange {

class JsonOut {
 public:
  explicit JsonOut(std::string& out) noexcept : out_(out) {}

  JsonOut& begin_object() {
    separate();
    out_.push_back('{');
    first_ = true;
    return *this;
  }
  JsonOut& end_object() {
    out_.push_back('}');
    first_ = false;
    return *this;
  }
  JsonOut& begin_array() {
    separate();
    out_.push_back('[');
    first_ = true;
    return *this;
  }
  JsonOut& end_array() {
    out_.push_back(']');
    first_ = false;
    return *this;
  }
  /// A key; the next value written is its value.
  JsonOut& key(std::string_view name) {
    separate();
    append_quoted(name);
    out_.push_back(':');
    after_key_ = true;
    return *this;
  }
  JsonOut& string(std::string_view text) {
    separate();
    append_quoted(text);
    return *this;
  }
  JsonOut& boolean(bool value) {
    separate();
    out_.append(value ? "true" : "false");
    return *this;
  }
  JsonOut& null() {
    separate();
    out_.append("null");
    return *this;
  }
  template <typename Integer>
  requires std::is_integral_v<Integer> JsonOut& number(Integer value) {
    separate();
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, value);
    out_.append(digits, static_cast<std::size_t>(result.ptr - digits));
    return *this;
  }
  /// An integer written as a JSON string ("1735689601001"): Bybit's createdTime etc.
  template <typename Integer>
  requires std::is_integral_v<Integer> JsonOut& number_string(Integer value) {
    separate();
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, value);
    out_.push_back('"');
    out_.append(digits, static_cast<std::size_t>(result.ptr - digits));
    out_.push_back('"');
    return *this;
  }
  /// An exact decimal as a JSON string, shortest form ("0.015", "93512.4", "0").
  template <typename Tag>
  JsonOut& decimal(Decimal<Tag> value) {
    separate();
    char text[Decimal<Tag>::kMaxFormattedLength];
    const std::size_t length = value.format(text);
    out_.push_back('"');
    out_.append(text, length);
    out_.push_back('"');
    return *this;
  }
  /// An exact decimal as a JSON string with exactly `fraction_digits` decimals ("93512.40"
  /// for a 0.10 tick), as Bybit prints prices and sizes of an instrument.
  template <typename Tag>
  JsonOut& decimal_fixed(Decimal<Tag> value, int fraction_digits) {
    separate();
    char text[Decimal<Tag>::kMaxFormattedLength];
    const std::size_t length = value.format_fixed(text, fraction_digits);
    out_.push_back('"');
    out_.append(text, length);
    out_.push_back('"');
    return *this;
  }
  /// Already-valid JSON (a nested document built elsewhere), copied as is.
  JsonOut& raw(std::string_view json) {
    separate();
    out_.append(json);
    return *this;
  }

  // Shorthands for "key":value.
  JsonOut& field(std::string_view name, std::string_view text) { return key(name).string(text); }
  JsonOut& field(std::string_view name, const char* text) {
    return key(name).string(std::string_view(text));
  }
  JsonOut& field(std::string_view name, bool value) { return key(name).boolean(value); }
  template <typename Integer>
  requires std::is_integral_v<Integer> JsonOut& field(std::string_view name, Integer value) {
    return key(name).number(value);
  }
  template <typename Tag>
  JsonOut& field(std::string_view name, Decimal<Tag> value) {
    return key(name).decimal(value);
  }

  [[nodiscard]] std::string& str() noexcept { return out_; }

 private:
  void separate() {
    if (after_key_) {
      after_key_ = false;
      first_ = false;
      return;
    }
    if (!first_)
      out_.push_back(',');
    first_ = false;
  }
  void append_quoted(std::string_view text) {
    out_.push_back('"');
    for (const char c : text) {
      const auto byte = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out_.push_back('\\');
        out_.push_back(c);
      } else if (byte < 0x20) {
        static constexpr char kHex[] = "0123456789abcdef";
        out_.append("\\u00");
        out_.push_back(kHex[byte >> 4]);
        out_.push_back(kHex[byte & 0xF]);
      } else {
        out_.push_back(c);
      }
    }
    out_.push_back('"');
  }

  std::string& out_;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace kinetic::exchange
