#include "kinetic/feed/market_data_session.hpp"

#include <sys/random.h>

#include <array>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include "kinetic/core/clock.hpp"

namespace kinetic::feed {
namespace {

std::span<const std::byte> as_bytes(const char* data, std::size_t size) noexcept {
  return {reinterpret_cast<const std::byte*>(data), size};
}

// "orderbook.50.BTCUSDT" → "BTCUSDT"; "" when the topic has no symbol part.
std::string_view topic_symbol(std::string_view topic) noexcept {
  const std::size_t dot = topic.rfind('.');
  return dot == std::string_view::npos ? std::string_view{} : topic.substr(dot + 1);
}

}  // namespace

MarketDataSession::MarketDataSession(MarketDataSessionOptions options, SymbolTable& symbols)
    : options_(std::move(options)),
      symbols_(symbols),
      deframer_(WsRole::client, options_.max_message_bytes),
      framer_(WsRole::client),
      decoder_(symbols, BybitDecoderConfig{options_.max_message_bytes, 32}),
      heartbeat_(options_.timing),
      backoff_(options_.timing, options_.seed),
      latency_(std::make_unique<LatencyHistogram>()) {
  const auto url = parse_url(options_.url);
  if (!url || (url.value().scheme != "ws" && url.value().scheme != "wss"))
    throw std::invalid_argument("market data URL must be ws:// or wss://: " + options_.url);
  url_ = url.value();
  if (url_.tls && options_.tls == nullptr)
    throw std::invalid_argument("wss:// needs a TLS context (CA file or the system store)");
  if (options_.topics.empty())
    throw std::invalid_argument("market data session without topics");
  if (!options_.timing.valid())
    throw std::invalid_argument("market data session timing out of range");
  books_.resize(symbols_.capacity());
  for (const std::string& topic : options_.topics) {
    const std::string_view symbol = topic_symbol(topic);
    if (symbol.empty() || symbol.size() == topic.size())
      throw std::invalid_argument("topic without a symbol: " + topic);
    const auto id = symbols_.intern(symbol);
    if (!id)
      throw std::invalid_argument("symbol table full or bad symbol in topic: " + topic);
    if (topic.rfind("orderbook.", 0) == 0) {
      books_[*id] = std::make_unique<OrderBook>(options_.book_levels, *id);
      book_topics_.push_back(BookTopic{*id, topic});
    }
  }
  for (const std::string& topic : options_.topics)
    all_topics_.emplace_back(topic);
  // One whole frame of the largest message must fit, plus room to receive behind it.
  receive_size_ = 2 * (options_.max_message_bytes + kWsMaxHeaderSize);
  receive_ = std::make_unique<char[]>(receive_size_ + kWsPadding);
  send_size_ = 64 * 1024;
  send_ = std::make_unique<char[]>(send_size_);
  events_.resize(BybitDecoder::kRecommendedEventCapacity);
}

MarketDataSession::~MarketDataSession() {
  stop();
}

const OrderBook* MarketDataSession::book(SymbolId symbol) const noexcept {
  return symbol < books_.size() ? books_[symbol].get() : nullptr;
}

void MarketDataSession::poll(TimestampNs now, FeedSink& sink) {
  if (!started_) {
    started_ = true;
    last_message_at_ = now;
  }
  if (state_ == SessionState::stopped)
    return;
  if (state_ == SessionState::waiting) {
    if (now >= next_attempt_at_)
      connect(now, sink);
    return;
  }
  if (!receive_and_handle(now, sink))
    return;  // disconnected
  if (heartbeat_.dead(now)) {
    disconnect(now, "no data and no pong in time: connection taken as dead", sink);
    return;
  }
  if (heartbeat_.ping_due(now)) {
    char request[96];
    char req_id[24];
    const auto json = encode_ping(std::span(request), request_id(req_id, 'p'));
    if (json && send_text(std::string_view(request, json.value()))) {
      ++stats_.pings_sent;
      heartbeat_.on_ping_sent(now);
    } else {
      disconnect(now, "could not send the ping", sink);
    }
  }
}

void MarketDataSession::wait(int timeout_ms) noexcept {
  if (state_ == SessionState::streaming && stream_ && begin_ == end_)
    (void)stream_->wait(timeout_ms);
}

void MarketDataSession::stop() noexcept {
  if (state_ == SessionState::streaming && stream_) {
    const std::size_t n =
        framer_.close(ws_close::kNormal, "client stop", std::span(send_.get(), send_size_));
    if (n > 0) {
      (void)stream_->send(as_bytes(send_.get(), n));
      (void)stream_->flush();
    }
  }
  close_stream();
  state_ = SessionState::stopped;
}

void MarketDataSession::close_stream() noexcept {
  if (!stream_ || !stream_->is_open())
    return;
  // A close frame (ours, or the echo of the server's) may still sit in the send queue, or be
  // in flight on io_uring: closing now would cancel it. Give it a moment to leave; this is
  // the disconnect path, not the streaming one.
  const TimestampNs deadline = Clock::now_ns() + 200'000'000;
  while (stream_->unsent_bytes() > 0 && Clock::now_ns() < deadline) {
    if (stream_->flush() != NetError::ok)
      break;
    (void)stream_->wait(10);
  }
  stream_->close();
}

void MarketDataSession::connect(TimestampNs now, FeedSink& sink) {
  if (!stream_)
    stream_ = std::make_unique<Stream>();
  StreamOptions stream_options;
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
      last_error_ = to_string(error);
    stream_->close();
    ++stats_.connect_failures;
    next_attempt_at_ = now + backoff_.next_delay();
    sink.on_connection(false, last_error_, now);
    return;
  }
  deframer_.reset();
  decoder_.reset_tickers();
  for (auto& book : books_)
    if (book)
      book->invalidate();
  state_ = SessionState::streaming;
  heartbeat_.start(now);
  last_message_at_ = now;
  ++stats_.connects;
  if (!subscribe(all_topics_, false)) {
    disconnect(now, "could not send the subscription", sink);
    return;
  }
  sink.on_connection(true, stats_.connects == 1 ? "connected" : "reconnected", now);
}

bool MarketDataSession::websocket_handshake(TimestampNs deadline_ns) {
  std::array<std::uint8_t, 16> random{};
  if (::getrandom(random.data(), random.size(), 0) != static_cast<ssize_t>(random.size())) {
    last_error_ = "getrandom failed";
    return false;
  }
  const WsKey key = make_ws_key(random);
  WsClientTarget target;
  target.host = url_.host;
  target.port = url_.port;
  target.tls = url_.tls;
  target.path_and_query = url_.target;
  const std::size_t request =
      build_ws_client_request(target, key, std::span(send_.get(), send_size_));
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
      const WsResponseParse parsed =
          parse_ws_server_response(std::string_view(receive_.get(), end_), key);
      if (parsed.error == HandshakeError::ok) {
        begin_ = parsed.consumed;  // what follows the header are frames already
        return true;
      }
      if (parsed.error != HandshakeError::incomplete) {
        last_error_ = to_string(parsed.error);
        return false;
      }
      continue;
    }
    if (received.error() != NetError::would_block) {
      last_error_ = to_string(received.error());
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

void MarketDataSession::disconnect(TimestampNs now, std::string_view reason,
                                   FeedSink& sink) noexcept {
  close_stream();
  last_error_ = reason;
  ++stats_.disconnects;
  state_ = SessionState::waiting;
  next_attempt_at_ = now + backoff_.next_delay();
  begin_ = end_ = 0;
  for (auto& book : books_)
    if (book)
      book->invalidate();
  sink.on_connection(false, reason, now);
}

bool MarketDataSession::receive_and_handle(TimestampNs now, FeedSink& sink) noexcept {
  for (;;) {
    // Frames first: the handshake may have left some, and a read may bring several.
    for (;;) {
      const WsEvent event = deframer_.next(std::span(receive_.get() + begin_, end_ - begin_));
      begin_ += event.consumed;
      if (event.kind == WsEventKind::need_more)
        break;
      switch (event.kind) {
        case WsEventKind::message:
          handle_message(event.payload, now, Clock::ticks(), sink);
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
          const std::size_t n = framer_.close(
              event.close_code == ws_close::kNoStatus ? ws_close::kNormal : event.close_code, "",
              std::span(send_.get(), send_size_));
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
          disconnect(now, to_string(event.error), sink);
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
                                                      : to_string(received.error()),
                 sink);
      return false;
    }
    end_ += received.value();
  }
}

void MarketDataSession::handle_message(std::string_view text, TimestampNs now,
                                       std::uint64_t read_ticks, FeedSink& sink) noexcept {
  heartbeat_.on_received(now);
  last_message_at_ = now;
  ++stats_.messages;
  stats_.bytes += text.size();
  sink.on_message(text, now);
  const DecodeResult result = decoder_.decode(text, now, std::span(events_));
  switch (result.status) {
    case DecodeStatus::data: {
      const std::span<const MarketEvent> events(events_.data(), result.events);
      stats_.events += result.events;
      if (!events.empty() && events.front().type == MarketEventType::book_level) {
        const SymbolId symbol = events.front().symbol;
        OrderBook* const book = symbol < books_.size() ? books_[symbol].get() : nullptr;
        if (book != nullptr) {
          const BookStatus status = book->apply(events);
          if (status == BookStatus::resync_needed || status == BookStatus::malformed) {
            ++stats_.book_gaps;
            resync(symbol);
          }
          sink.on_events(events);
          if (book->valid())
            sink.on_book(*book);
          break;
        }
      }
      sink.on_events(events);
      break;
    }
    case DecodeStatus::control:
      if (result.control.kind == ControlKind::pong)
        ++stats_.pongs;
      else if (result.control.kind == ControlKind::subscribed)
        backoff_.reset();  // this connection works: the next outage starts from 1 s again
      else if (result.control.kind == ControlKind::subscribe_failed)
        ++stats_.subscribe_failures;
      break;
    case DecodeStatus::unknown_topic:
      ++stats_.unknown_topics;
      break;
    case DecodeStatus::malformed:
    case DecodeStatus::overflow:
      ++stats_.decode_errors;
      break;
    case DecodeStatus::ignored:
      break;
  }
  latency_->record(static_cast<std::uint64_t>(Clock::ticks_to_ns(Clock::ticks() - read_ticks)));
}

void MarketDataSession::resync(SymbolId symbol) noexcept {
  for (const BookTopic& book : book_topics_) {
    if (book.symbol != symbol)
      continue;
    const std::string_view topic[] = {book.topic};
    (void)subscribe(topic, true);
    (void)subscribe(topic, false);
    ++stats_.resubscribes;
  }
}

bool MarketDataSession::subscribe(std::span<const std::string_view> topics,
                                  bool unsubscribe) noexcept {
  char req_id[24];
  const std::string_view id = request_id(req_id, unsubscribe ? 'u' : 's');
  // The JSON goes after room for the frame header, so the framer masks it where it lies.
  char* const json = send_.get() + kWsMaxHeaderSize;
  const std::span<char> space(json, send_size_ - kWsMaxHeaderSize);
  const auto written =
      unsubscribe ? encode_unsubscribe(space, id, topics) : encode_subscribe(space, id, topics);
  if (!written)
    return false;
  const std::span<char> frame = framer_.encode_in_place(
      WsOpcode::text, true, std::span(send_.get(), send_size_), kWsMaxHeaderSize, written.value());
  return !frame.empty() && stream_->send(as_bytes(frame.data(), frame.size())) == NetError::ok &&
         stream_->flush() == NetError::ok;
}

std::string_view MarketDataSession::request_id(char (&out)[24], char prefix) noexcept {
  // "p17", "s18", ...: unique per session, so an ack names the request it answers.
  out[0] = prefix;
  const auto written = std::to_chars(out + 1, out + sizeof out, ++request_counter_);
  return {out, static_cast<std::size_t>(written.ptr - out)};
}

bool MarketDataSession::send_text(std::string_view text) noexcept {
  const std::size_t n = framer_.text(text, std::span(send_.get(), send_size_));
  return n > 0 && send_frame(n);
}

bool MarketDataSession::send_frame(std::size_t frame_bytes) noexcept {
  return stream_->send(as_bytes(send_.get(), frame_bytes)) == NetError::ok &&
         stream_->flush() == NetError::ok;
}

}  // namespace kinetic::feed
