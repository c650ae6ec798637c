#include "kinetic/exec/private_session.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "kinetic/core/clock.hpp"
#include "kinetic/feed/bybit_decoder.hpp"

namespace kinetic::exec {
namespace {

using feed::NetError;

std::span<const std::byte> as_bytes(const char* data, std::size_t size) noexcept {
  return {reinterpret_cast<const std::byte*>(data), size};
}

/// Text that can go between JSON quotes as it is: printable ASCII without '"' and '\'.
bool json_safe(std::string_view text) noexcept {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c >= 0x20 && c < 0x7F && c != '"' && c != '\\'; });
}

/// Appends to a fixed buffer; `ok` turns false (and stays) when something does not fit.
struct Writer {
  char* out;
  std::size_t capacity;
  std::size_t size = 0;
  bool ok = true;

  void text(std::string_view s) noexcept {
    if (!ok || s.size() > capacity - size) {
      ok = false;
      return;
    }
    std::memcpy(out + size, s.data(), s.size());
    size += s.size();
  }
  void number(std::int64_t value) noexcept {
    char digits[24];
    const auto written = std::to_chars(digits, digits + sizeof digits, value);
    text(std::string_view(digits, static_cast<std::size_t>(written.ptr - digits)));
  }
};

std::int64_t wall_clock_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

/// The decoder's sink during one message: events straight to the owner's sink, control
/// replies to the owner's sink and then to the session's state machine.
class PrivateSession::Dispatch final : public PrivateSink {
 public:
  Dispatch(PrivateSession& session, PrivateSessionSink& sink, TimestampNs now) noexcept
      : session_(session), sink_(sink), now_(now) {}
  void on_orders(std::span<const OrderUpdate> items) override {
    session_.stats_.items += items.size();
    sink_.on_orders(items);
  }
  void on_executions(std::span<const ExecutionReport> items) override {
    session_.stats_.items += items.size();
    sink_.on_executions(items);
  }
  void on_positions(std::span<const PositionUpdate> items) override {
    session_.stats_.items += items.size();
    sink_.on_positions(items);
  }
  void on_wallets(std::span<const WalletUpdate> items) override {
    session_.stats_.items += items.size();
    sink_.on_wallets(items);
  }
  void on_control(const PrivateControl& control) override {
    sink_.on_control(control);
    session_.handle_control(control, now_, sink_);
  }

 private:
  PrivateSession& session_;
  PrivateSessionSink& sink_;
  TimestampNs now_;
};

PrivateSession::PrivateSession(PrivateSessionOptions options, feed::SymbolTable& symbols)
    : options_(std::move(options)),
      decoder_(symbols, options_.decoder),
      signer_(options_.api_secret),
      deframer_(feed::WsRole::client, options_.decoder.max_message_bytes),
      framer_(feed::WsRole::client),
      heartbeat_(options_.timing),
      backoff_(options_.timing, options_.seed) {
  // The secret now lives in the signer only.
  const bool had_secret = !options_.api_secret.empty();
  std::fill(options_.api_secret.begin(), options_.api_secret.end(), '\0');
  options_.api_secret.clear();
  const auto url = feed::parse_url(options_.url);
  if (!url || (url.value().scheme != "ws" && url.value().scheme != "wss"))
    throw std::invalid_argument("private stream URL must be ws:// or wss://: " + options_.url);
  url_ = url.value();
  if (url_.tls && options_.tls == nullptr)
    throw std::invalid_argument("wss:// needs a TLS context (CA file or the system store)");
  if (options_.api_key.empty() || !had_secret)
    throw std::invalid_argument("private stream needs an API key and secret");
  if (options_.api_key.size() > 64 || !json_safe(options_.api_key))
    throw std::invalid_argument("API key is too long or has characters needing escaping");
  if (options_.topics.empty())
    throw std::invalid_argument("private stream without topics");
  for (const std::string& topic : options_.topics) {
    if (topic.empty() || !json_safe(topic))
      throw std::invalid_argument("bad private topic: " + topic);
    topics_.emplace_back(topic);
  }
  if (!options_.timing.valid() || options_.reply_timeout_ms <= 0 ||
      options_.handshake_timeout_ms <= 0 || options_.auth_expiry_margin_ms <= 0 ||
      options_.max_auth_failures == 0) {
    throw std::invalid_argument("private session timing out of range");
  }
  receive_size_ = 2 * (options_.decoder.max_message_bytes + feed::kWsMaxHeaderSize);
  receive_ = std::make_unique<char[]>(receive_size_ + feed::kWsPadding);
  send_size_ = 16 * 1024;
  send_ = std::make_unique<char[]>(send_size_);
}

PrivateSession::~PrivateSession() {
  stop();
}

void PrivateSession::poll(TimestampNs now, PrivateSessionSink& sink) {
  if (!started_) {
    started_ = true;
    last_message_at_ = now;
  }
  switch (state_) {
    case PrivateSessionState::stopped:
    case PrivateSessionState::auth_failed:
      return;
    case PrivateSessionState::waiting:
      if (now >= next_attempt_at_)
        connect(now, sink);
      return;
    case PrivateSessionState::authenticating:
    case PrivateSessionState::subscribing:
    case PrivateSessionState::ready:
      break;
  }
  if (!receive_and_handle(now, sink))
    return;  // disconnected (or gave up)
  if (state_ != PrivateSessionState::ready && now > reply_deadline_) {
    disconnect(now,
               state_ == PrivateSessionState::authenticating
                   ? "no reply to the auth request in time"
                   : "no reply to the subscribe request in time",
               sink);
    return;
  }
  if (heartbeat_.dead(now)) {
    disconnect(now, "no data and no pong in time: connection taken as dead", sink);
    return;
  }
  if (heartbeat_.ping_due(now)) {
    char req_id[24];
    char* const json = send_.get() + feed::kWsMaxHeaderSize;
    const auto written = feed::encode_ping(std::span(json, send_size_ - feed::kWsMaxHeaderSize),
                                           request_id(req_id, 'p'));
    if (written && send_json(written.value())) {
      ++stats_.pings_sent;
      heartbeat_.on_ping_sent(now);
    } else {
      disconnect(now, "could not send the ping", sink);
    }
  }
}

void PrivateSession::wait(int timeout_ms) noexcept {
  const bool connected = state_ == PrivateSessionState::authenticating ||
                         state_ == PrivateSessionState::subscribing ||
                         state_ == PrivateSessionState::ready;
  if (connected && stream_ && begin_ == end_)
    (void)stream_->wait(timeout_ms);
}

void PrivateSession::stop() noexcept {
  if (stream_ && stream_->is_open()) {
    const std::size_t n =
        framer_.close(feed::ws_close::kNormal, "client stop", std::span(send_.get(), send_size_));
    if (n > 0) {
      (void)stream_->send(as_bytes(send_.get(), n));
      (void)stream_->flush();
    }
  }
  close_stream();
  state_ = PrivateSessionState::stopped;
}

void PrivateSession::restart() noexcept {
  if (state_ != PrivateSessionState::stopped && state_ != PrivateSessionState::auth_failed)
    return;
  state_ = PrivateSessionState::waiting;
  next_attempt_at_ = 0;
  consecutive_auth_failures_ = 0;
  backoff_.reset();
}

void PrivateSession::close_stream() noexcept {
  if (!stream_ || !stream_->is_open())
    return;
  // A close frame may still sit in the send queue: give it a moment to leave (this is the
  // disconnect path, not the streaming one).
  const TimestampNs deadline = Clock::now_ns() + 200'000'000;
  while (stream_->unsent_bytes() > 0 && Clock::now_ns() < deadline) {
    if (stream_->flush() != NetError::ok)
      break;
    (void)stream_->wait(10);
  }
  stream_->close();
}

void PrivateSession::connect(TimestampNs now, PrivateSessionSink& sink) {
  if (!stream_)
    stream_ = std::make_unique<feed::Stream>();
  feed::StreamOptions stream_options;
  stream_options.tcp = options_.tcp;
  stream_options.tcp.connect_timeout_ms =
      static_cast<int>(options_.timing.connect_timeout_ns / 1'000'000);
  stream_options.tls = options_.tls;
  stream_options.handshake_timeout_ms = options_.handshake_timeout_ms;
  const NetError error = stream_->connect(url_, stream_options);
  const TimestampNs deadline =
      Clock::now_ns() + static_cast<TimestampNs>(options_.handshake_timeout_ms) * 1'000'000;
  if (error != NetError::ok || !websocket_handshake(deadline)) {
    if (error != NetError::ok)
      last_error_ = feed::to_string(error);
    stream_->close();
    ++stats_.connect_failures;
    next_attempt_at_ = now + backoff_.next_delay();
    sink.on_connection(false, last_error_, now);
    return;
  }
  deframer_.reset();
  heartbeat_.start(now);
  last_message_at_ = now;
  disconnect_requested_ = false;
  ++stats_.connects;
  sink.on_connection(true, stats_.connects == 1 ? "connected" : "reconnected", now);
  if (!send_auth(now)) {
    disconnect(now, "could not send the auth request", sink);
    return;
  }
  state_ = PrivateSessionState::authenticating;
  reply_deadline_ = now + static_cast<TimestampNs>(options_.reply_timeout_ms) * 1'000'000;
}

bool PrivateSession::websocket_handshake(TimestampNs deadline_ns) {
  std::array<std::uint8_t, 16> random{};
  if (::getrandom(random.data(), random.size(), 0) != static_cast<ssize_t>(random.size())) {
    last_error_ = "getrandom failed";
    return false;
  }
  const feed::WsKey key = feed::make_ws_key(random);
  feed::WsClientTarget target;
  target.host = url_.host;
  target.port = url_.port;
  target.tls = url_.tls;
  target.path_and_query = url_.target;
  const std::size_t request =
      feed::build_ws_client_request(target, key, std::span(send_.get(), send_size_));
  if (request == 0 || stream_->send(as_bytes(send_.get(), request)) != NetError::ok) {
    last_error_ = "could not send the WebSocket upgrade request";
    return false;
  }
  begin_ = 0;
  end_ = 0;
  for (;;) {
    if (stream_->flush() != NetError::ok) {
      last_error_ = "connection lost during the WebSocket handshake";
      return false;
    }
    const auto received = stream_->receive_into(
        std::as_writable_bytes(std::span(receive_.get() + end_, receive_size_ - end_)));
    if (received) {
      end_ += received.value();
      const feed::WsResponseParse parsed =
          feed::parse_ws_server_response(std::string_view(receive_.get(), end_), key);
      if (parsed.error == feed::HandshakeError::ok) {
        begin_ = parsed.consumed;  // what follows the header are frames already
        return true;
      }
      if (parsed.error != feed::HandshakeError::incomplete) {
        last_error_ = feed::to_string(parsed.error);
        return false;
      }
      continue;
    }
    if (received.error() != NetError::would_block) {
      last_error_ = feed::to_string(received.error());
      return false;
    }
    const TimestampNs left = deadline_ns - Clock::now_ns();
    if (left <= 0) {
      last_error_ = "WebSocket handshake timed out";
      return false;
    }
    (void)stream_->wait(static_cast<int>(left / 1'000'000) + 1);
  }
}

void PrivateSession::disconnect(TimestampNs now, std::string_view reason,
                                PrivateSessionSink& sink) noexcept {
  close_stream();
  last_error_ = reason;
  ++stats_.disconnects;
  state_ = PrivateSessionState::waiting;
  next_attempt_at_ = now + backoff_.next_delay();
  begin_ = end_ = 0;
  disconnect_requested_ = false;
  sink.on_connection(false, reason, now);
}

bool PrivateSession::receive_and_handle(TimestampNs now, PrivateSessionSink& sink) noexcept {
  using feed::WsEventKind;
  for (;;) {
    // Frames first: the handshake may have left some, and a read may bring several.
    for (;;) {
      const feed::WsEvent event = deframer_.next(std::span(receive_.get() + begin_, end_ - begin_));
      begin_ += event.consumed;
      if (event.kind == WsEventKind::need_more)
        break;
      switch (event.kind) {
        case WsEventKind::message:
          handle_message(event.payload, now, sink);
          if (state_ == PrivateSessionState::auth_failed)
            return false;
          if (disconnect_requested_) {
            disconnect(now, pending_reason_, sink);
            return false;
          }
          break;
        case WsEventKind::ping: {
          const std::size_t n = framer_.pong(event.payload, std::span(send_.get(), send_size_));
          if (n == 0 || !send_frame(n)) {
            disconnect(now, "could not answer a ping", sink);
            return false;
          }
          heartbeat_.on_received(now);
          break;
        }
        case WsEventKind::pong:
          heartbeat_.on_received(now);
          break;
        case WsEventKind::close: {
          const std::size_t n =
              framer_.close(event.close_code == feed::ws_close::kNoStatus ? feed::ws_close::kNormal
                                                                          : event.close_code,
                            "", std::span(send_.get(), send_size_));
          if (n > 0)
            (void)send_frame(n);
          disconnect(now, "the server closed the WebSocket", sink);
          return false;
        }
        case WsEventKind::error: {
          ++stats_.protocol_errors;
          const std::size_t n =
              framer_.close(event.close_code, "", std::span(send_.get(), send_size_));
          if (n > 0)
            (void)send_frame(n);
          disconnect(now, feed::to_string(event.error), sink);
          return false;
        }
        case WsEventKind::need_more:
          break;
      }
    }
    // Everything whole is handled: keep the partial frame, at the front when it is all left.
    if (begin_ == end_) {
      begin_ = end_ = 0;
    } else if (end_ == receive_size_ || begin_ > receive_size_ / 2) {
      std::memmove(receive_.get(), receive_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == receive_size_) {
      disconnect(now, "a frame larger than the receive buffer", sink);
      return false;
    }
    const auto received = stream_->receive_into(
        std::as_writable_bytes(std::span(receive_.get() + end_, receive_size_ - end_)));
    if (!received) {
      if (received.error() == NetError::would_block)
        return true;
      disconnect(now,
                 received.error() == NetError::closed ? "the server closed the connection"
                                                      : feed::to_string(received.error()),
                 sink);
      return false;
    }
    end_ += received.value();
  }
}

void PrivateSession::handle_message(std::string_view text, TimestampNs now,
                                    PrivateSessionSink& sink) noexcept {
  heartbeat_.on_received(now);
  last_message_at_ = now;
  ++stats_.messages;
  stats_.bytes += text.size();
  Dispatch dispatch(*this, sink, now);
  // The payload lies in the receive buffer, which keeps kWsPadding readable bytes after it.
  const PrivateDecodeResult result = decoder_.decode(text, dispatch);
  if (result.status == PrivateDecodeStatus::error)
    ++stats_.decode_errors;
  else if (result.status == PrivateDecodeStatus::unknown_topic)
    ++stats_.unknown_topics;
}

void PrivateSession::handle_control(const PrivateControl& control, TimestampNs now,
                                    PrivateSessionSink& sink) noexcept {
  switch (control.kind) {
    case PrivateControlKind::pong:
      ++stats_.pongs;
      break;
    case PrivateControlKind::auth_ok:
      if (state_ != PrivateSessionState::authenticating)
        break;
      if (!send_subscribe()) {
        disconnect_requested_ = true;
        pending_reason_ = "could not send the subscribe request";
        break;
      }
      state_ = PrivateSessionState::subscribing;
      reply_deadline_ = now + static_cast<TimestampNs>(options_.reply_timeout_ms) * 1'000'000;
      break;
    case PrivateControlKind::auth_failed: {
      ++stats_.auth_failures;
      ++consecutive_auth_failures_;
      const std::string_view message = control.ret_msg.view();
      const std::size_t n = std::min(message.size(), sizeof auth_error_ - 1);
      std::memcpy(auth_error_, message.data(), n);
      auth_error_[n] = '\0';
      const std::string_view reason =
          n > 0 ? std::string_view(auth_error_, n) : std::string_view("auth refused");
      const bool give_up = consecutive_auth_failures_ >= options_.max_auth_failures;
      sink.on_auth_failed(reason, give_up, now);
      if (give_up) {
        close_stream();
        ++stats_.disconnects;
        last_error_ = reason;
        begin_ = end_ = 0;
        state_ = PrivateSessionState::auth_failed;
        sink.on_connection(false, reason, now);
      } else {
        disconnect_requested_ = true;
        pending_reason_ = reason;
      }
      break;
    }
    case PrivateControlKind::subscribed:
      if (state_ != PrivateSessionState::subscribing)
        break;
      state_ = PrivateSessionState::ready;
      consecutive_auth_failures_ = 0;
      backoff_.reset();  // this connection works: the next outage starts from the first delay
      ++stats_.ready;
      sink.on_ready(stats_.ready > 1, now);
      break;
    case PrivateControlKind::subscribe_failed:
      ++stats_.subscribe_failures;
      disconnect_requested_ = true;
      pending_reason_ = "the exchange refused the subscription";
      break;
    case PrivateControlKind::unsubscribed:
    case PrivateControlKind::unsubscribe_failed:
    case PrivateControlKind::other:
      break;
  }
}

std::size_t PrivateSession::encode_auth(std::int64_t expires_ms, std::span<char> out) noexcept {
  char expires[24];
  const auto end = std::to_chars(expires, expires + sizeof expires, expires_ms);
  const std::string_view expires_text(expires, static_cast<std::size_t>(end.ptr - expires));
  std::array<char, kHmacSha256HexLength> signature{};
  if (!signer_.sign({"GET/realtime", expires_text}, signature))
    return 0;
  Writer w{out.data(), out.size()};
  w.text(R"({"op":"auth","args":[")");
  w.text(options_.api_key);
  w.text(R"(",)");
  w.text(expires_text);
  w.text(R"(,")");
  w.text(std::string_view(signature.data(), signature.size()));
  w.text(R"("]})");
  return w.ok ? w.size : 0;
}

bool PrivateSession::send_auth(TimestampNs /*now*/) noexcept {
  const std::int64_t expires = wall_clock_ms() + clock_offset_ms_ + options_.auth_expiry_margin_ms;
  char* const json = send_.get() + feed::kWsMaxHeaderSize;
  const std::size_t written =
      encode_auth(expires, std::span(json, send_size_ - feed::kWsMaxHeaderSize));
  return written > 0 && send_json(written);
}

bool PrivateSession::send_subscribe() noexcept {
  char req_id[24];
  const std::string_view id = request_id(req_id, 's');
  char* const json = send_.get() + feed::kWsMaxHeaderSize;
  const auto written =
      feed::encode_subscribe(std::span(json, send_size_ - feed::kWsMaxHeaderSize), id, topics_);
  return written && send_json(written.value());
}

bool PrivateSession::send_json(std::size_t json_bytes) noexcept {
  // The JSON lies after room for the frame header, so the framer masks it where it lies.
  const std::span<char> frame =
      framer_.encode_in_place(feed::WsOpcode::text, true, std::span(send_.get(), send_size_),
                              feed::kWsMaxHeaderSize, json_bytes);
  return !frame.empty() && stream_->send(as_bytes(frame.data(), frame.size())) == NetError::ok &&
         stream_->flush() == NetError::ok;
}

bool PrivateSession::send_frame(std::size_t frame_bytes) noexcept {
  return stream_->send(as_bytes(send_.get(), frame_bytes)) == NetError::ok &&
         stream_->flush() == NetError::ok;
}

std::string_view PrivateSession::request_id(char (&out)[24], char prefix) noexcept {
  // "p17", "s18", ...: unique per session, so an ack names the request it answers.
  out[0] = prefix;
  const auto written = std::to_chars(out + 1, out + sizeof out, ++request_counter_);
  return {out, static_cast<std::size_t>(written.ptr - out)};
}

std::string_view to_string(PrivateSessionState state) noexcept {
  switch (state) {
    case PrivateSessionState::waiting:
      return "waiting";
    case PrivateSessionState::authenticating:
      return "authenticating";
    case PrivateSessionState::subscribing:
      return "subscribing";
    case PrivateSessionState::ready:
      return "ready";
    case PrivateSessionState::auth_failed:
      return "auth_failed";
    case PrivateSessionState::stopped:
      return "stopped";
  }
  return "?";
}

}  // namespace kinetic::exec
