#include "kinetic/exec/order_encoder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "kinetic/core/decimal.hpp"
#include "kinetic/exec/order_link_id.hpp"

namespace kinetic::exec {

std::string_view to_string(EncodeError error) noexcept {
  switch (error) {
    case EncodeError::ok:
      return "ok";
    case EncodeError::unknown_symbol:
      return "unknown_symbol";
    case EncodeError::buffer_too_small:
      return "buffer_too_small";
    case EncodeError::zero_qty:
      return "zero_qty";
    case EncodeError::negative_qty:
      return "negative_qty";
    case EncodeError::invalid_side:
      return "invalid_side";
    case EncodeError::invalid_order_type:
      return "invalid_order_type";
    case EncodeError::invalid_time_in_force:
      return "invalid_time_in_force";
    case EncodeError::invalid_price:
      return "invalid_price";
    case EncodeError::missing_client_order_id:
      return "missing_client_order_id";
    case EncodeError::invalid_order_link_id:
      return "invalid_order_link_id";
    case EncodeError::invalid_req_id:
      return "invalid_req_id";
    case EncodeError::invalid_argument:
      return "invalid_argument";
  }
  return "unknown";
}

namespace {

/// Bounded appender over the caller's buffer. Running out of room sets a flag instead of
/// failing each call, so the encoders check once at the end.
class Writer {
 public:
  explicit Writer(std::span<char> out) noexcept
      : begin_(out.data()), pos_(out.data()), end_(out.data() + out.size()) {}

  void put(std::string_view text) noexcept {
    if (room() < text.size()) {
      overflow_ = true;
      return;
    }
    std::memcpy(pos_, text.data(), text.size());
    pos_ += text.size();
  }
  void put(char c) noexcept {
    if (room() < 1) {
      overflow_ = true;
      return;
    }
    *pos_++ = c;
  }
  /// Claims `length` bytes for the caller to fill; null (and overflow) when they do not fit.
  char* reserve(std::size_t length) noexcept {
    if (room() < length) {
      overflow_ = true;
      return nullptr;
    }
    char* start = pos_;
    pos_ += length;
    return start;
  }
  template <class Tag>
  void put_decimal(Decimal<Tag> value) noexcept {
    if (room() >= Decimal<Tag>::kMaxFormattedLength) {
      pos_ += value.format(pos_);
      return;
    }
    char text[Decimal<Tag>::kMaxFormattedLength];
    put(std::string_view(text, value.format(text)));
  }
  void put_uint(std::uint64_t value) noexcept {
    char digits[20];
    std::size_t length = 0;
    do {
      digits[sizeof(digits) - 1 - length++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    put(std::string_view(digits + sizeof(digits) - length, length));
  }

  [[nodiscard]] bool overflow() const noexcept { return overflow_; }
  [[nodiscard]] std::string_view view() const noexcept {
    return {begin_, static_cast<std::size_t>(pos_ - begin_)};
  }

 private:
  [[nodiscard]] std::size_t room() const noexcept { return static_cast<std::size_t>(end_ - pos_); }
  char* begin_;
  char* pos_;
  char* end_;
  bool overflow_ = false;
};

OrderEncoder::Bytes finish(const Writer& writer) noexcept {
  if (writer.overflow())
    return EncodeError::buffer_too_small;
  return writer.view();
}

/// Decimal text of a non-negative integer in a caller array; returns the view.
std::string_view uint_text(std::uint64_t value, char (&digits)[20]) noexcept {
  std::size_t length = 0;
  do {
    digits[sizeof(digits) - 1 - length++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  return {digits + sizeof(digits) - length, length};
}

constexpr bool is_alnum(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/// Bybit's orderLinkId alphabet and length.
constexpr bool valid_order_link_id(std::string_view id) noexcept {
  if (id.size() > 36)
    return false;
  for (const char c : id) {
    if (!is_alnum(c) && c != '_' && c != '-')
      return false;
  }
  return true;
}

constexpr bool valid_req_id(std::string_view id) noexcept {
  if (id.size() > 36)
    return false;
  for (const char c : id) {
    if (!is_alnum(c) && c != '_' && c != '-' && c != '.' && c != ':')
      return false;
  }
  return true;
}

/// A request path: starts with '/', printable ASCII, no space (it goes into the request line).
constexpr bool valid_path(std::string_view path) noexcept {
  if (path.empty() || path.front() != '/')
    return false;
  for (const char c : path) {
    if (c <= ' ' || c > '~')
      return false;
  }
  return true;
}

constexpr bool valid_op(std::string_view op) noexcept {
  if (op.empty())
    return false;
  for (const char c : op) {
    if (!(c >= 'a' && c <= 'z') && c != '.' && c != '-')
      return false;
  }
  return true;
}

/// Start-up check of the strings that go verbatim into headers and JSON.
void require_token(std::string_view what, std::string_view value, bool allow_colon) {
  if (value.empty())
    throw std::invalid_argument("OrderEncoder: empty " + std::string(what));
  for (const char c : value) {
    const bool ok = is_alnum(c) || c == '-' || c == '_' || c == '.' || (allow_colon && c == ':');
    if (!ok)
      throw std::invalid_argument("OrderEncoder: " + std::string(what) +
                                  " holds a character that is not allowed");
  }
}

std::string_view side_text(Side side) noexcept {
  return side == Side::buy ? std::string_view("Buy") : std::string_view("Sell");
}

}  // namespace

OrderEncoder::OrderEncoder(const feed::SymbolTable& symbols, OrderEncoderConfig config,
                           HmacSha256 signer)
    : symbols_(&symbols), config_(std::move(config)), signer_(std::move(signer)) {
  require_token("api_key", config_.api_key, false);
  require_token("host", config_.host, true);
  require_token("category", config_.category, false);
  require_token("settle_coin", config_.settle_coin, false);
  recv_window_text_ = std::to_string(config_.recv_window_ms);
  body_prefix_ = "{\"category\":\"" + config_.category + "\",";
  http_after_path_ = " HTTP/1.1\r\nHost: " + config_.host +
                     "\r\nX-BAPI-API-KEY: " + config_.api_key + "\r\nX-BAPI-TIMESTAMP: ";
  http_after_sign_ = "\r\nX-BAPI-RECV-WINDOW: " + recv_window_text_ +
                     "\r\nContent-Type: application/json\r\nContent-Length: ";
  ws_after_timestamp_ = "\",\"X-BAPI-RECV-WINDOW\":\"" + recv_window_text_ + "\"},\"op\":\"";
}

OrderEncoder::Bytes OrderEncoder::create_body(const OrderIntent& intent,
                                              std::span<char> out) const noexcept {
  if (intent.client_order_id == 0)
    return EncodeError::missing_client_order_id;
  char link_id[kOrderLinkIdLength];
  format_order_link_id(intent.client_order_id, link_id);
  return create_body(intent, std::string_view(link_id, kOrderLinkIdLength), out);
}

OrderEncoder::Bytes OrderEncoder::create_body(const OrderIntent& intent,
                                              std::string_view order_link_id,
                                              std::span<char> out) const noexcept {
  const std::string_view symbol = symbols_->name(intent.symbol);
  if (symbol.empty())
    return EncodeError::unknown_symbol;
  if (intent.side != Side::buy && intent.side != Side::sell)
    return EncodeError::invalid_side;
  if (intent.type != OrderType::market && intent.type != OrderType::limit)
    return EncodeError::invalid_order_type;
  if (intent.qty.raw() == 0)
    return EncodeError::zero_qty;
  if (intent.qty.raw() < 0)
    return EncodeError::negative_qty;
  const bool limit = intent.type == OrderType::limit;
  if (limit && intent.price.raw() <= 0)
    return EncodeError::invalid_price;
  if (intent.take_profit.raw() < 0 || intent.stop_loss.raw() < 0)
    return EncodeError::invalid_price;
  std::string_view tif;
  if (limit) {
    switch (intent.tif) {
      case TimeInForce::gtc:
        tif = "GTC";
        break;
      case TimeInForce::ioc:
        tif = "IOC";
        break;
      case TimeInForce::fok:
        tif = "FOK";
        break;
      case TimeInForce::post_only:
        tif = "PostOnly";
        break;
      default:
        return EncodeError::invalid_time_in_force;
    }
  }
  if (!valid_order_link_id(order_link_id))
    return EncodeError::invalid_order_link_id;

  Writer w(out);
  w.put(body_prefix_);
  w.put("\"symbol\":\"");
  w.put(symbol);
  w.put("\",\"side\":\"");
  w.put(side_text(intent.side));
  w.put(limit ? std::string_view("\",\"orderType\":\"Limit\",\"qty\":\"")
              : std::string_view("\",\"orderType\":\"Market\",\"qty\":\""));
  w.put_decimal(intent.qty);
  w.put('"');
  if (limit) {
    w.put(",\"price\":\"");
    w.put_decimal(intent.price);
    w.put("\",\"timeInForce\":\"");
    w.put(tif);
    w.put('"');
  }
  if (!order_link_id.empty()) {
    w.put(",\"orderLinkId\":\"");
    w.put(order_link_id);
    w.put('"');
  }
  if (intent.reduce_only)
    w.put(",\"reduceOnly\":true");
  if (intent.take_profit.raw() != 0) {
    w.put(",\"takeProfit\":\"");
    w.put_decimal(intent.take_profit);
    w.put('"');
  }
  if (intent.stop_loss.raw() != 0) {
    w.put(",\"stopLoss\":\"");
    w.put_decimal(intent.stop_loss);
    w.put('"');
  }
  if (config_.position_idx) {
    w.put(",\"positionIdx\":");
    w.put_uint(*config_.position_idx);
  }
  w.put('}');
  return finish(w);
}

OrderEncoder::Bytes OrderEncoder::cancel_body(SymbolId symbol, std::uint64_t client_order_id,
                                              std::span<char> out) const noexcept {
  const std::string_view name = symbols_->name(symbol);
  if (name.empty())
    return EncodeError::unknown_symbol;
  if (client_order_id == 0)
    return EncodeError::missing_client_order_id;
  Writer w(out);
  w.put(body_prefix_);
  w.put("\"symbol\":\"");
  w.put(name);
  w.put("\",\"orderLinkId\":\"");
  if (char* link_id = w.reserve(kOrderLinkIdLength))
    format_order_link_id(client_order_id, link_id);
  w.put("\"}");
  return finish(w);
}

OrderEncoder::Bytes OrderEncoder::cancel_all_body(std::span<char> out) const noexcept {
  Writer w(out);
  w.put(body_prefix_);
  w.put("\"settleCoin\":\"");
  w.put(config_.settle_coin);
  w.put("\"}");
  return finish(w);
}

OrderEncoder::Bytes OrderEncoder::cancel_all_body(SymbolId symbol,
                                                  std::span<char> out) const noexcept {
  const std::string_view name = symbols_->name(symbol);
  if (name.empty())
    return EncodeError::unknown_symbol;
  Writer w(out);
  w.put(body_prefix_);
  w.put("\"symbol\":\"");
  w.put(name);
  w.put("\"}");
  return finish(w);
}

OrderEncoder::Bytes OrderEncoder::http_post(std::string_view path, std::string_view body,
                                            std::int64_t timestamp_ms,
                                            std::span<char> out) const noexcept {
  if (timestamp_ms < 0 || !valid_path(path))
    return EncodeError::invalid_argument;
  char timestamp_digits[20];
  const std::string_view timestamp =
      uint_text(static_cast<std::uint64_t>(timestamp_ms), timestamp_digits);
  Writer w(out);
  w.put("POST ");
  w.put(path);
  w.put(http_after_path_);
  w.put(timestamp);
  w.put("\r\nX-BAPI-SIGN: ");
  char* signature = w.reserve(kHmacSha256HexLength);
  w.put(http_after_sign_);
  w.put_uint(body.size());
  w.put("\r\n\r\n");
  w.put(body);
  if (w.overflow())
    return EncodeError::buffer_too_small;
  // Cannot fail: the signer is never a moved-from one inside an encoder.
  (void)signer_.sign({timestamp, config_.api_key, recv_window_text_, body},
                     std::span<char, kHmacSha256HexLength>(signature, kHmacSha256HexLength));
  return w.view();
}

OrderEncoder::Bytes OrderEncoder::ws_request(std::string_view op, std::string_view req_id,
                                             std::string_view body, std::int64_t timestamp_ms,
                                             std::span<char> out) const noexcept {
  if (timestamp_ms < 0 || !valid_op(op))
    return EncodeError::invalid_argument;
  if (!valid_req_id(req_id))
    return EncodeError::invalid_req_id;
  Writer w(out);
  if (req_id.empty()) {
    w.put("{\"header\":{\"X-BAPI-TIMESTAMP\":\"");
  } else {
    w.put("{\"reqId\":\"");
    w.put(req_id);
    w.put("\",\"header\":{\"X-BAPI-TIMESTAMP\":\"");
  }
  w.put_uint(static_cast<std::uint64_t>(timestamp_ms));
  w.put(ws_after_timestamp_);
  w.put(op);
  w.put("\",\"args\":[");
  w.put(body);
  w.put("]}");
  return finish(w);
}

OrderEncoder::Bytes OrderEncoder::ws_auth(std::int64_t expires_ms,
                                          std::span<char> out) const noexcept {
  if (expires_ms < 0)
    return EncodeError::invalid_argument;
  char expires_digits[20];
  const std::string_view expires =
      uint_text(static_cast<std::uint64_t>(expires_ms), expires_digits);
  Writer w(out);
  w.put("{\"op\":\"auth\",\"args\":[\"");
  w.put(config_.api_key);
  w.put("\",");
  w.put(expires);
  w.put(",\"");
  char* signature = w.reserve(kHmacSha256HexLength);
  w.put("\"]}");
  if (w.overflow())
    return EncodeError::buffer_too_small;
  (void)signer_.sign({"GET/realtime", expires},
                     std::span<char, kHmacSha256HexLength>(signature, kHmacSha256HexLength));
  return w.view();
}

OrderEncoder::Bytes OrderEncoder::create_http(const OrderIntent& intent, std::int64_t timestamp_ms,
                                              std::span<char> out) const noexcept {
  char scratch[kMaxBodyLength];
  const Bytes body = create_body(intent, scratch);
  if (!body)
    return body.error();
  return http_post(kOrderCreatePath, body.value(), timestamp_ms, out);
}

OrderEncoder::Bytes OrderEncoder::create_ws(const OrderIntent& intent, std::string_view req_id,
                                            std::int64_t timestamp_ms,
                                            std::span<char> out) const noexcept {
  char scratch[kMaxBodyLength];
  const Bytes body = create_body(intent, scratch);
  if (!body)
    return body.error();
  return ws_request(kWsOrderCreate, req_id, body.value(), timestamp_ms, out);
}

OrderEncoder::Bytes OrderEncoder::cancel_http(SymbolId symbol, std::uint64_t client_order_id,
                                              std::int64_t timestamp_ms,
                                              std::span<char> out) const noexcept {
  char scratch[kMaxBodyLength];
  const Bytes body = cancel_body(symbol, client_order_id, scratch);
  if (!body)
    return body.error();
  return http_post(kOrderCancelPath, body.value(), timestamp_ms, out);
}

OrderEncoder::Bytes OrderEncoder::cancel_ws(SymbolId symbol, std::uint64_t client_order_id,
                                            std::string_view req_id, std::int64_t timestamp_ms,
                                            std::span<char> out) const noexcept {
  char scratch[kMaxBodyLength];
  const Bytes body = cancel_body(symbol, client_order_id, scratch);
  if (!body)
    return body.error();
  return ws_request(kWsOrderCancel, req_id, body.value(), timestamp_ms, out);
}

OrderEncoder::Bytes OrderEncoder::cancel_all_http(std::int64_t timestamp_ms,
                                                  std::span<char> out) const noexcept {
  char scratch[kMaxBodyLength];
  const Bytes body = cancel_all_body(scratch);
  if (!body)
    return body.error();
  return http_post(kOrderCancelAllPath, body.value(), timestamp_ms, out);
}

OrderEncoder::Bytes OrderEncoder::cancel_all_http(SymbolId symbol, std::int64_t timestamp_ms,
                                                  std::span<char> out) const noexcept {
  char scratch[kMaxBodyLength];
  const Bytes body = cancel_all_body(symbol, scratch);
  if (!body)
    return body.error();
  return http_post(kOrderCancelAllPath, body.value(), timestamp_ms, out);
}

// ---- OrderIdGenerator ----

namespace {

[[noreturn]] void fail_state(const std::string& file, const std::string& what) {
  throw std::runtime_error("OrderIdGenerator: " + file + ": " + what);
}

std::string errno_text() {
  return std::strerror(errno);
}

/// The boot number stored in `file`, 0 when the file does not exist.
std::uint32_t read_boot_number(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(file))
      return 0;
    fail_state(file, "cannot be read");
  }
  std::ostringstream content;
  content << in.rdbuf();
  std::string text = content.str();
  if (!text.empty() && text.back() == '\n')
    text.pop_back();
  if (text.empty() || text.size() > 10)
    fail_state(file, "does not hold a boot number");
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9')
      fail_state(file, "does not hold a boot number");
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > OrderIdGenerator::kMaxBootNumber)
    fail_state(file, "boot number out of range");
  return static_cast<std::uint32_t>(value);
}

/// Replaces `file` with `text` atomically and durably: a crash leaves the old or the new
/// content, never a torn one, and the new one survives power loss once this returns.
void write_durably(const std::string& file, const std::string& text) {
  const std::string temporary = file + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    fail_state(temporary, "open: " + errno_text());
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      const std::string error = errno_text();
      ::close(fd);
      fail_state(temporary, "write: " + error);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const std::string error = errno_text();
    ::close(fd);
    fail_state(temporary, "fsync: " + error);
  }
  ::close(fd);
  if (::rename(temporary.c_str(), file.c_str()) != 0)
    fail_state(file, "rename: " + errno_text());
  std::filesystem::path directory = std::filesystem::path(file).parent_path();
  if (directory.empty())
    directory = ".";
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    fail_state(directory.string(), "open: " + errno_text());
  const int synced = ::fsync(dir_fd);
  ::close(dir_fd);
  if (synced != 0)
    fail_state(directory.string(), "fsync: " + errno_text());
}

}  // namespace

OrderIdGenerator::OrderIdGenerator(const std::string& state_file) {
  const std::uint32_t previous = read_boot_number(state_file);
  if (previous >= kMaxBootNumber)
    fail_state(state_file, "boot numbers used up");
  const std::uint32_t boot = previous + 1;
  write_durably(state_file, std::to_string(boot) + "\n");
  base_ = std::uint64_t{boot} << kCounterBits;
}

}  // namespace kinetic::exec
