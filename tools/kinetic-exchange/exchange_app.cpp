// ExchangeApp: public, private and trade WebSockets, market pacing and the WS faults of the
// exchange simulator. See exchange_app.hpp.

#include "exchange_app.hpp"

#include <simdjson.h>
#include <time.h>

#include <algorithm>
#include <charconv>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace kinetic::exchange {
namespace {

using exec::sim::AccountId;

[[nodiscard]] std::int64_t realtime_ns() noexcept {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

constexpr std::int64_t kNsPerMs = 1'000'000;
/// How often the feeds' time-driven messages (level-1 re-sends, candles) are computed.
constexpr std::int64_t kTimerPeriodNs = 50 * kNsPerMs;
/// Bybit: reqId of the trade stream is at most 36 characters.
constexpr std::size_t kMaxReqIdLength = 36;
/// reqIds remembered per trade connection for the duplicate check (oldest forgotten first).
constexpr std::size_t kRememberedReqIds = 100'000;
/// Bybit: a spot subscribe request carries at most 10 args.
constexpr std::size_t kMaxSpotArgs = 10;

enum class Endpoint : std::uint8_t { public_linear, public_spot, private_stream, trade };

[[nodiscard]] std::string_view endpoint_path(Endpoint endpoint) noexcept {
  switch (endpoint) {
    case Endpoint::public_linear:
      return "/v5/public/linear";
    case Endpoint::public_spot:
      return "/v5/public/spot";
    case Endpoint::private_stream:
      return "/v5/private";
    case Endpoint::trade:
      return "/v5/trade";
  }
  return "";
}

[[nodiscard]] bool is_public(Endpoint endpoint) noexcept {
  return endpoint == Endpoint::public_linear || endpoint == Endpoint::public_spot;
}

/// splitmix64: ids that look random but are deterministic per connection/counter.
[[nodiscard]] std::uint64_t mix(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// A Bybit-shaped connection id: 20 base32hex characters, '-', a short suffix
/// ("cejreaspqfh3sjdnldmg-p" in the docs).
[[nodiscard]] std::string make_conn_id(ConnId connection) {
  static constexpr char kBase32[] = "0123456789abcdefghijklmnopqrstuv";
  std::string id;
  id.reserve(28);
  std::uint64_t bits = mix(connection);
  std::uint64_t more = mix(bits ^ 0xC0FFEEull);
  for (int i = 0; i < 20; ++i) {
    if (i == 12)
      bits = more;
    id.push_back(kBase32[bits & 31u]);
    bits >>= 5;
  }
  id.push_back('-');
  std::uint64_t suffix = connection;
  do {
    id.push_back(kBase32[suffix % 32]);
    suffix /= 32;
  } while (suffix != 0);
  return id;
}

[[nodiscard]] std::string trace_id(std::uint64_t counter) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(32);
  for (std::uint64_t part : {mix(counter ^ 0x7ACEull), mix(counter + 0x51DEull)}) {
    for (int i = 0; i < 16; ++i) {
      id.push_back(kHex[part & 15u]);
      part >>= 4;
    }
  }
  return id;
}

[[nodiscard]] std::string to_string(std::int64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  return std::string(digits, static_cast<std::size_t>(result.ptr - digits));
}

/// Text is logged, never echoed raw: cut it and drop control characters.
[[nodiscard]] std::string loggable(std::string_view text, std::size_t limit = 200) {
  std::string out;
  out.reserve(std::min(text.size(), limit) + 3);
  for (const char c : text.substr(0, limit)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  }
  if (text.size() > limit)
    out.append("...");
  return out;
}

[[nodiscard]] std::optional<std::string_view> string_field(simdjson::dom::element object,
                                                           std::string_view key) {
  std::string_view value;
  if (object[key].get_string().get(value) != simdjson::SUCCESS)
    return std::nullopt;
  return value;
}

/// An integer given as a JSON number or as a string of digits (Bybit sends expires as a
/// number and header timestamps as strings; clients are not always that careful).
[[nodiscard]] std::optional<std::int64_t> integer_value(simdjson::dom::element element) {
  std::int64_t signed_value = 0;
  if (element.get_int64().get(signed_value) == simdjson::SUCCESS)
    return signed_value;
  std::string_view text;
  if (element.get_string().get(text) == simdjson::SUCCESS && !text.empty()) {
    std::int64_t parsed = 0;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (result.ec == std::errc{} && result.ptr == text.data() + text.size())
      return parsed;
  }
  double real = 0;
  if (element.get_double().get(real) == simdjson::SUCCESS && real >= -9.2e18 && real <= 9.2e18 &&
      real == static_cast<double>(static_cast<std::int64_t>(real))) {
    return static_cast<std::int64_t>(real);
  }
  return std::nullopt;
}

[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i]))
      return false;
  }
  return true;
}

// ---- private topics ----
enum class PrivateTopic : std::uint8_t { order, execution, position, wallet };
constexpr std::string_view kPrivateTopicNames[] = {"order", "execution", "position", "wallet"};

struct ParsedPrivateTopic {
  PrivateTopic topic = PrivateTopic::order;
  bool per_category = false;
  bool linear = true;  ///< all-in-one or ".linear": the only ones this exchange pushes to
};

/// "order", "order.linear", "execution.spot", "position.inverse", "wallet"... or nullopt.
[[nodiscard]] std::optional<ParsedPrivateTopic> parse_private_topic(std::string_view name) {
  const std::size_t dot = name.find('.');
  const std::string_view base = name.substr(0, dot);
  ParsedPrivateTopic parsed;
  bool found = false;
  for (std::size_t i = 0; i < std::size(kPrivateTopicNames); ++i) {
    if (base == kPrivateTopicNames[i]) {
      parsed.topic = static_cast<PrivateTopic>(i);
      found = true;
    }
  }
  if (!found)
    return std::nullopt;
  if (dot == std::string_view::npos)
    return parsed;
  const std::string_view category = name.substr(dot + 1);
  if (parsed.topic == PrivateTopic::wallet)
    return std::nullopt;  // wallet is all-in-one only
  const bool known = category == "linear" || category == "inverse" || category == "option" ||
                     (category == "spot" && parsed.topic != PrivateTopic::position);
  if (!known)
    return std::nullopt;
  parsed.per_category = true;
  parsed.linear = category == "linear";
  return parsed;
}

struct DelayedReply {
  std::int64_t due_ns = 0;
  std::string text;
};

struct Connection {
  Endpoint endpoint = Endpoint::public_linear;
  std::string conn_id;
  std::set<TopicId> topics;  ///< public topics subscribed
  // private and trade streams
  bool authenticated = false;
  AccountId account = 0;
  std::string key;                          ///< API key of the account (logged; never the secret)
  std::set<std::string> private_topics;     ///< names as subscribed ("order", "order.linear")
  std::unordered_set<std::string> req_ids;  ///< trade stream: reqIds seen (duplicate → 20006)
  std::deque<std::string> req_id_order;
  std::deque<DelayedReply> delayed;  ///< trade replies held back by a "delay" fault, in order
};

}  // namespace

struct ExchangeApp::Impl final : exec::sim::VenueListener {
  Impl(ExchangeContext& context_in, MarketSource& source_in, PublicFeed& linear_in,
       PublicFeed& spot_in, const PacingOptions& pacing_in)
      : context(context_in),
        source(source_in),
        linear_feed(linear_in),
        spot_feed(spot_in),
        pacing(pacing_in) {
    if (!(pacing.speed > 0))
      pacing.speed = 1.0;
    if (pacing.max_steps_per_tick == 0)
      pacing.max_steps_per_tick = 1;
    venue_symbol.assign(source.symbols().size(), -1);
  }

  ExchangeContext& context;
  MarketSource& source;
  PublicFeed& linear_feed;
  PublicFeed& spot_feed;
  PacingOptions pacing;
  Server* server = nullptr;

  simdjson::dom::parser parser;
  std::map<ConnId, Connection> connections;
  std::map<TopicId, std::vector<ConnId>> linear_subscribers;
  std::map<TopicId, std::vector<ConnId>> spot_subscribers;
  std::vector<TopicMessage> messages;  ///< scratch for the feeds' output
  std::vector<ConnId> recipients;      ///< scratch for fan-out
  AppStats stats;

  // ---- pacing ----
  std::optional<MarketStep> pending;  ///< the next step, fetched but not yet due
  bool anchored = false;
  std::int64_t anchor_wall_ns = 0;
  std::int64_t anchor_source_ns = 0;
  bool paused = false;
  bool blocked = false;        ///< --speed max: a subscriber's output is full, or none subscribes
  bool no_subscriber = false;  ///< --speed max: nobody subscribes to public data
  bool more_now = false;       ///< the per-tick step budget ran out with steps already due
  std::int64_t next_timer_ns = 0;
  /// Per source symbol: -1 unknown yet, 0 the venue does not list it, 1 it does.
  std::vector<int> venue_symbol;

  std::uint64_t private_message_seq = 0;
  std::uint64_t tick_failures = 0;
  std::uint64_t trace_seq = 0;

  // ---------------------------------------------------------------- logging and sending
  void log(std::string_view line) { context.log.write(line); }

  void send(ConnId connection, std::string_view text) {
    if (server != nullptr)
      server->send_text(connection, text);
  }

  /// A public push; the "malformed_frames" fault breaks the next N of them.
  void send_public(ConnId connection, std::string_view json) {
    if (server == nullptr)
      return;
    if (context.faults.malformed_frames > 0) {
      // Cut in the middle: the frame is valid UTF-8 text but not JSON. Counted only when it
      // was queued, so that a closing connection does not swallow one.
      if (server->send_raw_text(connection,
                                json.substr(0, std::max<std::size_t>(1, json.size() / 2)))) {
        --context.faults.malformed_frames;
        ++stats.malformed_sent;
      }
      return;
    }
    server->send_text(connection, json);
    ++stats.public_messages;
  }

  // ---------------------------------------------------------------- public streams
  [[nodiscard]] PublicFeed& feed_of(const Connection& connection) {
    return connection.endpoint == Endpoint::public_spot ? spot_feed : linear_feed;
  }
  [[nodiscard]] std::map<TopicId, std::vector<ConnId>>& subscribers_of(
      const Connection& connection) {
    return connection.endpoint == Endpoint::public_spot ? spot_subscribers : linear_subscribers;
  }

  /// {"success":..,"ret_msg":..,"conn_id":..,"req_id":..,"op":..}: linear always carries
  /// req_id ("" when none was sent); spot only when one was sent (docs §1.3).
  [[nodiscard]] std::string public_reply(const Connection& connection, bool success,
                                         std::string_view ret_msg,
                                         std::optional<std::string_view> req_id,
                                         std::string_view op) const {
    std::string text;
    JsonOut out(text);
    out.begin_object();
    out.field("success", success);
    out.field("ret_msg", ret_msg);
    out.field("conn_id", std::string_view(connection.conn_id));
    if (connection.endpoint == Endpoint::public_linear || req_id) {
      out.field("req_id", req_id.value_or(""));
    }
    out.field("op", op);
    out.end_object();
    return text;
  }

  void public_message(ConnId id, Connection& connection, std::string_view message) {
    const std::string_view path = endpoint_path(connection.endpoint);
    simdjson::dom::element doc;
    if (const auto error = parser.parse(message.data(), message.size()).get(doc);
        error != simdjson::SUCCESS || !doc.is_object()) {
      const std::string reason =
          std::string("Failed to decode incoming data:") +
          (error != simdjson::SUCCESS ? simdjson::error_message(error) : "expect an object");
      send(id, public_reply(connection, false, reason, std::nullopt, ""));
      log("ws#" + std::to_string(id) + " " + std::string(path) + " undecodable message -> " +
          reason);
      return;
    }
    const std::string_view op = string_field(doc, "op").value_or("");
    const std::optional<std::string_view> req_id = string_field(doc, "req_id");

    if (op == "ping") {
      send(id, public_reply(connection, true, "pong", req_id, "ping"));
      log("ws#" + std::to_string(id) + " " + std::string(path) + " ping -> pong");
      return;
    }
    if (op != "subscribe" && op != "unsubscribe") {
      send(id, public_reply(connection, false, "error:invalid op", req_id, op));
      log("ws#" + std::to_string(id) + " " + std::string(path) + " op=" + loggable(op) +
          " -> error:invalid op");
      return;
    }
    const bool subscribe = op == "subscribe";

    simdjson::dom::array args;
    std::vector<std::string_view> topics;
    std::string failure;
    if (doc["args"].get_array().get(args) != simdjson::SUCCESS) {
      failure = "Params Error";
    } else {
      for (const simdjson::dom::element arg : args) {
        std::string_view topic;
        if (arg.get_string().get(topic) != simdjson::SUCCESS) {
          failure = "Params Error";
          break;
        }
        topics.push_back(topic);
      }
    }
    if (failure.empty() && connection.endpoint == Endpoint::public_spot &&
        topics.size() > kMaxSpotArgs) {
      failure = "args size >10";
    }

    // Resolve every topic first: a request with one bad topic subscribes none of them.
    PublicFeed& feed = feed_of(connection);
    std::vector<TopicId> ids;
    for (const std::string_view topic : topics) {
      if (!failure.empty())
        break;
      const std::optional<TopicId> topic_id = feed.find_topic(topic);
      if (!topic_id) {
        failure = "error:handler not found,topic:" + std::string(topic);
        break;
      }
      if (subscribe && (connection.topics.count(*topic_id) != 0 ||
                        std::find(ids.begin(), ids.end(), *topic_id) != ids.end())) {
        failure = "error:already subscribed,topic:" + std::string(topic);
        break;
      }
      ids.push_back(*topic_id);
    }

    std::string outcome;
    if (!failure.empty()) {
      send(id, public_reply(connection, false, failure, req_id, op));
      outcome = failure;
    } else {
      const std::string_view ok_message =
          connection.endpoint == Endpoint::public_spot ? op : std::string_view();
      send(id, public_reply(connection, true, ok_message, req_id, op));
      auto& subscribers = subscribers_of(connection);
      const std::int64_t now_ms = context.now_ms();
      for (const TopicId topic_id : ids) {
        auto& list = subscribers[topic_id];
        if (subscribe) {
          connection.topics.insert(topic_id);
          list.push_back(id);
          feed.set_subscriber_count(topic_id, list.size());
          // The topic's snapshot goes to the new subscriber only, right after the ack.
          messages.clear();
          feed.initial_messages(topic_id, now_ms, messages);
          for (const TopicMessage& initial : messages)
            send_public(id, initial.json);
          messages.clear();
        } else if (connection.topics.erase(topic_id) != 0) {
          list.erase(std::remove(list.begin(), list.end(), id), list.end());
          feed.set_subscriber_count(topic_id, list.size());
        }
      }
      outcome = "ok";
    }
    std::string line =
        "ws#" + std::to_string(id) + " " + std::string(path) + " " + std::string(op) + " [";
    for (std::size_t i = 0; i < topics.size(); ++i) {
      if (i != 0)
        line.push_back(',');
      line.append(loggable(topics[i], 64));
    }
    line.append("] -> ").append(outcome);
    log(line);
  }

  void fan_out(std::map<TopicId, std::vector<ConnId>>& subscribers) {
    for (const TopicMessage& message : messages) {
      const auto found = subscribers.find(message.topic);
      if (found == subscribers.end() || found->second.empty())
        continue;
      // A copy: a send may close a connection, which edits the list.
      recipients.assign(found->second.begin(), found->second.end());
      for (const ConnId connection : recipients)
        send_public(connection, message.json);
    }
    messages.clear();
  }

  void unsubscribe_all(ConnId id, Connection& connection) {
    PublicFeed& feed = feed_of(connection);
    auto& subscribers = subscribers_of(connection);
    for (const TopicId topic_id : connection.topics) {
      auto& list = subscribers[topic_id];
      list.erase(std::remove(list.begin(), list.end(), id), list.end());
      feed.set_subscriber_count(topic_id, list.size());
    }
    connection.topics.clear();
  }

  // ---------------------------------------------------------------- private stream
  /// {"req_id"?,"success","ret_msg","op","conn_id"} (docs §2.1, as Bybit sends it).
  [[nodiscard]] static std::string private_reply(const Connection& connection, bool success,
                                                 std::string_view ret_msg,
                                                 std::optional<std::string_view> req_id,
                                                 std::string_view op) {
    std::string text;
    JsonOut out(text);
    out.begin_object();
    if (req_id)
      out.field("req_id", *req_id);
    out.field("success", success);
    out.field("ret_msg", ret_msg);
    out.field("op", op);
    out.field("conn_id", std::string_view(connection.conn_id));
    out.end_object();
    return text;
  }

  struct AuthArgs {
    std::string_view key;
    std::int64_t expires = 0;
    std::string_view signature;
  };
  [[nodiscard]] static std::optional<AuthArgs> auth_args(simdjson::dom::element doc) {
    simdjson::dom::array args;
    if (doc["args"].get_array().get(args) != simdjson::SUCCESS || args.size() != 3) {
      return std::nullopt;
    }
    AuthArgs parsed;
    if (args.at(0).get_string().get(parsed.key) != simdjson::SUCCESS)
      return std::nullopt;
    simdjson::dom::element expires;
    if (args.at(1).get(expires) != simdjson::SUCCESS)
      return std::nullopt;
    const std::optional<std::int64_t> expires_ms = integer_value(expires);
    if (!expires_ms)
      return std::nullopt;
    parsed.expires = *expires_ms;
    if (args.at(2).get_string().get(parsed.signature) != simdjson::SUCCESS)
      return std::nullopt;
    return parsed;
  }

  void private_message(ConnId id, Connection& connection, std::string_view message) {
    const std::string prefix = "ws#" + std::to_string(id) + " /v5/private ";
    simdjson::dom::element doc;
    if (const auto error = parser.parse(message.data(), message.size()).get(doc);
        error != simdjson::SUCCESS || !doc.is_object()) {
      const std::string reason =
          std::string("Failed to decode incoming data:") +
          (error != simdjson::SUCCESS ? simdjson::error_message(error) : "expect an object");
      send(id, private_reply(connection, false, reason, std::nullopt, ""));
      log(prefix + "undecodable message -> " + reason);
      return;
    }
    const std::string_view op = string_field(doc, "op").value_or("");
    const std::optional<std::string_view> req_id = string_field(doc, "req_id");

    if (op == "ping") {
      std::string text;
      JsonOut out(text);
      out.begin_object();
      if (req_id)
        out.field("req_id", *req_id);
      out.field("op", "pong");
      out.key("args").begin_array().number_string(context.now_ms()).end_array();
      out.field("conn_id", std::string_view(connection.conn_id));
      out.end_object();
      send(id, text);
      log(prefix + "ping -> pong");
      return;
    }
    if (op == "auth") {
      if (connection.authenticated) {
        send(id, private_reply(connection, false, "Repeat auth", req_id, "auth"));
        log(prefix + "auth -> refused: already authenticated as " + connection.key);
        return;
      }
      const std::optional<AuthArgs> args = auth_args(doc);
      if (!args) {
        send(id, private_reply(connection, false, "Params Error", req_id, "auth"));
        log(prefix + "auth -> Params Error (args must be [key, expires, signature])");
        return;
      }
      const auto verdict = verify_ws_auth(context, args->key, args->expires, args->signature);
      if (const auto* error = std::get_if<ApiError>(&verdict)) {
        // Bybit answers a failed private auth with a short text ("Params Error" as seen in
        // the wild); the detail goes to the log.
        const std::string_view text = error->ret_code == 10003 ? "Invalid apikey" : "Params Error";
        send(id, private_reply(connection, false, text, req_id, "auth"));
        log(prefix + "auth key=" + loggable(args->key, 64) + " -> " +
            std::to_string(error->ret_code) + " " + loggable(error->ret_msg));
        return;
      }
      const ApiAccount* account = std::get<const ApiAccount*>(verdict);
      connection.authenticated = true;
      connection.account = account->account;
      connection.key = account->key;
      send(id, private_reply(connection, true, "", req_id, "auth"));
      log(prefix + "auth key=" + account->key + " -> ok");
      return;
    }
    if (op != "subscribe" && op != "unsubscribe") {
      send(id, private_reply(connection, false, "error:invalid op", req_id, op));
      log(prefix + "op=" + loggable(op) + " -> error:invalid op");
      return;
    }
    const bool subscribe = op == "subscribe";
    std::vector<std::string_view> topics;
    std::string failure;
    simdjson::dom::array args;
    if (doc["args"].get_array().get(args) != simdjson::SUCCESS) {
      failure = "Params Error";
    } else {
      for (const simdjson::dom::element arg : args) {
        std::string_view topic;
        if (arg.get_string().get(topic) != simdjson::SUCCESS) {
          failure = "Params Error";
          break;
        }
        topics.push_back(topic);
      }
    }
    if (failure.empty() && !connection.authenticated)
      failure = "Request not authorized";
    bool all_in_one = false;
    bool per_category = false;
    for (const std::string_view topic : topics) {
      if (!failure.empty())
        break;
      const std::optional<ParsedPrivateTopic> parsed = parse_private_topic(topic);
      if (!parsed) {
        failure = "error:handler not found,topic:" + std::string(topic);
        break;
      }
      (parsed->per_category ? per_category : all_in_one) = true;
      if (subscribe && connection.private_topics.count(std::string(topic)) != 0) {
        failure = "error:already subscribed,topic:" + std::string(topic);
      }
    }
    if (failure.empty() && all_in_one && per_category) {
      // Bybit: an all-in-one topic and a per-category topic cannot share a request.
      failure = "error:all-in-one and categorised topics cannot be subscribed in one request";
    }
    if (failure.empty()) {
      for (const std::string_view topic : topics) {
        if (subscribe) {
          connection.private_topics.emplace(topic);
        } else {
          connection.private_topics.erase(std::string(topic));
        }
      }
    }
    send(id, private_reply(connection, failure.empty(), failure, req_id, op));
    std::string line = prefix + std::string(op) + " [";
    for (std::size_t i = 0; i < topics.size(); ++i) {
      if (i != 0)
        line.push_back(',');
      line.append(loggable(topics[i], 64));
    }
    line.append("] -> ").append(failure.empty() ? "ok" : failure);
    log(line);
  }

  /// Sends one private push to every authenticated /v5/private connection of `account`
  /// subscribed to `topic` (all-in-one or ".linear"): {"id","topic","creationTime","data":[..]}.
  template <typename WriteItem>
  void push_private(AccountId account, PrivateTopic topic, std::string_view symbol,
                    const WriteItem& write_item) {
    const std::string_view base = kPrivateTopicNames[static_cast<std::size_t>(topic)];
    const std::string linear_name = std::string(base) + ".linear";
    std::string item;  // built once, shared by every subscriber
    const std::int64_t now_ms = context.now_ms();
    std::vector<std::pair<ConnId, std::string_view>> targets;
    for (const auto& [id, connection] : connections) {
      if (connection.endpoint != Endpoint::private_stream || !connection.authenticated ||
          connection.account != account) {
        continue;
      }
      for (const std::string_view name : {base, std::string_view(linear_name)}) {
        if (connection.private_topics.count(std::string(name)) != 0)
          targets.emplace_back(id, name);
      }
    }
    for (const auto& [id, name] : targets) {
      if (item.empty()) {
        JsonOut item_out(item);
        write_item(item_out);
      }
      std::string text;
      text.reserve(item.size() + 128);
      JsonOut out(text);
      out.begin_object();
      out.field("id", std::to_string(account) + "_" + std::string(symbol) + "_" +
                          std::to_string(++private_message_seq));
      out.field("topic", name);
      out.field("creationTime", now_ms);
      out.key("data").begin_array().raw(item).end_array();
      out.end_object();
      send(id, text);
      ++stats.private_messages;
    }
  }

  // VenueListener: the venue calls these synchronously, in Bybit's order.
  void on_order(AccountId account, const exec::sim::OrderState& order) override {
    const ExchangeInstrument* instrument = find_instrument(context.instruments, order.symbol);
    if (instrument == nullptr)
      return;
    push_private(account, PrivateTopic::order, order.symbol,
                 [&](JsonOut& out) { write_order(out, order, *instrument); });
  }
  void on_execution(AccountId account, const exec::sim::Execution& execution) override {
    const ExchangeInstrument* instrument = find_instrument(context.instruments, execution.symbol);
    if (instrument == nullptr)
      return;
    push_private(account, PrivateTopic::execution, execution.symbol,
                 [&](JsonOut& out) { write_execution(out, execution, *instrument); });
  }
  void on_position(AccountId account, const exec::sim::PositionState& position) override {
    const ExchangeInstrument* instrument = find_instrument(context.instruments, position.symbol);
    if (instrument == nullptr)
      return;
    push_private(account, PrivateTopic::position, position.symbol,
                 [&](JsonOut& out) { write_position(out, position, *instrument, false); });
  }
  void on_wallet(AccountId account, const exec::sim::WalletState& wallet) override {
    push_private(account, PrivateTopic::wallet, "USDT",
                 [&](JsonOut& out) { write_wallet(out, wallet); });
  }

  // ---------------------------------------------------------------- trade stream
  struct TradeReply {
    std::optional<std::string> req_id;
    int ret_code = 0;
    std::string ret_msg = "OK";
    std::string op;
    std::string data = "{}";
    std::optional<RateDecision> limit;  ///< the X-Bapi-Limit* header, once the limiter ran
  };

  [[nodiscard]] std::string trade_reply_text(const Connection& connection,
                                             const TradeReply& reply) {
    const std::int64_t now_ms = context.now_ms();
    std::string text;
    JsonOut out(text);
    out.begin_object();
    if (reply.req_id)
      out.field("reqId", std::string_view(*reply.req_id));
    out.field("retCode", reply.ret_code);
    out.field("retMsg", std::string_view(reply.ret_msg));
    out.field("op", std::string_view(reply.op));
    out.key("data").raw(reply.data);
    out.key("retExtInfo").begin_object().end_object();
    out.key("header").begin_object();
    if (reply.limit) {
      out.key("X-Bapi-Limit").number_string(reply.limit->limit);
      out.key("X-Bapi-Limit-Status").number_string(reply.limit->remaining);
      out.key("X-Bapi-Limit-Reset-Timestamp").number_string(reply.limit->reset_ms);
    }
    out.field("Traceid", trace_id(++trace_seq));
    out.key("Timenow").number_string(now_ms);
    out.end_object();
    out.field("connId", std::string_view(connection.conn_id));
    out.end_object();
    return text;
  }

  /// Sends a trade reply now, or after the delay fault of its path (replies stay in order).
  void send_trade_reply(ConnId id, Connection& connection, std::string text,
                        std::string_view delay_path) {
    std::int64_t delay_ms = 0;
    if (!delay_path.empty()) {
      for (const Faults::Delay& delay : context.faults.delays) {
        if (delay.path == delay_path || delay.path == "*")
          delay_ms = std::max<std::int64_t>(delay_ms, delay.delay.count());
      }
    }
    if (delay_ms == 0 && connection.delayed.empty()) {
      send(id, text);
      return;
    }
    std::int64_t due = realtime_ns() + delay_ms * kNsPerMs;
    if (!connection.delayed.empty())
      due = std::max(due, connection.delayed.back().due_ns);
    connection.delayed.push_back({due, std::move(text)});
  }

  void trade_message(ConnId id, Connection& connection, std::string_view message) {
    const std::string prefix = "ws#" + std::to_string(id) + " /v5/trade ";
    TradeReply reply;
    simdjson::dom::element doc;
    if (const auto error = parser.parse(message.data(), message.size()).get(doc);
        error != simdjson::SUCCESS || !doc.is_object()) {
      reply.ret_code = 10001;
      reply.ret_msg =
          std::string("Failed to decode incoming data:") +
          (error != simdjson::SUCCESS ? simdjson::error_message(error) : "expect an object");
      send_trade_reply(id, connection, trade_reply_text(connection, reply), {});
      log(prefix + "undecodable message -> 10001");
      return;
    }
    reply.op = std::string(string_field(doc, "op").value_or(""));
    bool bad_req_id = false;
    {
      simdjson::dom::element req_id;
      if (doc["reqId"].get(req_id) == simdjson::SUCCESS) {
        std::string_view text;
        if (req_id.get_string().get(text) == simdjson::SUCCESS) {
          reply.req_id = std::string(text);
        } else {
          bad_req_id = true;
        }
      }
    }
    const std::string req_text = reply.req_id ? " reqId=" + loggable(*reply.req_id, 64) : "";

    if (reply.op == "ping") {
      std::string text;
      JsonOut out(text);
      out.begin_object();
      if (reply.req_id)
        out.field("reqId", std::string_view(*reply.req_id));
      out.field("retCode", 0);
      out.field("retMsg", "OK");
      out.field("op", "pong");
      out.key("data").begin_array().number_string(context.now_ms()).end_array();
      out.field("connId", std::string_view(connection.conn_id));
      out.end_object();
      send_trade_reply(id, connection, std::move(text), {});
      log(prefix + "ping" + req_text + " -> pong");
      return;
    }

    if (reply.op == "auth") {
      std::string text;
      JsonOut out(text);
      int ret_code = 0;
      std::string ret_msg = "OK";
      std::string detail;
      if (connection.authenticated) {
        ret_code = 20001;
        ret_msg = "Repeat auth";
      } else if (const std::optional<AuthArgs> args = auth_args(doc); !args) {
        ret_code = 10001;
        ret_msg = "Params Error";
      } else {
        const auto verdict = verify_ws_auth(context, args->key, args->expires, args->signature);
        detail = " key=" + loggable(args->key, 64);
        if (const auto* error = std::get_if<ApiError>(&verdict)) {
          ret_code = error->ret_code;
          ret_msg = error->ret_msg;
        } else {
          const ApiAccount* account = std::get<const ApiAccount*>(verdict);
          connection.authenticated = true;
          connection.account = account->account;
          connection.key = account->key;
        }
      }
      out.begin_object();
      if (reply.req_id)
        out.field("reqId", std::string_view(*reply.req_id));
      out.field("retCode", ret_code);
      out.field("retMsg", std::string_view(ret_msg));
      out.field("op", "auth");
      out.field("connId", std::string_view(connection.conn_id));
      out.end_object();
      send_trade_reply(id, connection, std::move(text), {});
      log(prefix + "auth" + detail + " -> " + std::to_string(ret_code) + " " + loggable(ret_msg));
      return;
    }

    std::optional<OrderOp> order_op;
    if (reply.op == "order.create")
      order_op = OrderOp::create;
    if (reply.op == "order.amend")
      order_op = OrderOp::amend;
    if (reply.op == "order.cancel")
      order_op = OrderOp::cancel;

    const auto finish = [&](std::string_view delay_path) {
      send_trade_reply(id, connection, trade_reply_text(connection, reply), delay_path);
      log(prefix + loggable(reply.op, 32) + req_text + " -> " + std::to_string(reply.ret_code) +
          " " + loggable(reply.ret_msg));
    };

    if (!order_op) {
      reply.ret_code = 10404;
      reply.ret_msg = "Invalid op: " + loggable(reply.op, 32);
      finish({});
      return;
    }
    const std::string_view path = rest_path(*order_op);
    if (!connection.authenticated) {
      reply.ret_code = 10001;
      reply.ret_msg = "Request not authorized";
      finish({});
      return;
    }
    if (bad_req_id || (reply.req_id && reply.req_id->size() > kMaxReqIdLength)) {
      reply.ret_code = 10001;
      reply.ret_msg = "Invalid reqId: a string of at most 36 characters";
      if (bad_req_id)
        reply.req_id.reset();
      finish({});
      return;
    }
    if (reply.req_id) {
      if (connection.req_ids.count(*reply.req_id) != 0) {
        reply.ret_code = 20006;
        reply.ret_msg = "Duplicate reqId";
        finish({});
        return;
      }
      connection.req_ids.insert(*reply.req_id);
      connection.req_id_order.push_back(*reply.req_id);
      if (connection.req_id_order.size() > kRememberedReqIds) {
        connection.req_ids.erase(connection.req_id_order.front());
        connection.req_id_order.pop_front();
      }
    }

    // The header: X-BAPI-TIMESTAMP required, X-BAPI-RECV-WINDOW optional (5000), both strings.
    std::optional<std::int64_t> timestamp;
    std::int64_t recv_window = 5000;
    bool bad_window = false;
    simdjson::dom::object header;
    if (doc["header"].get_object().get(header) == simdjson::SUCCESS) {
      for (const auto field : header) {
        if (iequals(field.key, "X-BAPI-TIMESTAMP"))
          timestamp = integer_value(field.value);
        if (iequals(field.key, "X-BAPI-RECV-WINDOW")) {
          const std::optional<std::int64_t> window = integer_value(field.value);
          if (window && *window > 0) {
            recv_window = *window;
          } else {
            bad_window = true;
          }
        }
      }
    }
    if (!timestamp || bad_window) {
      reply.ret_code = 10001;
      reply.ret_msg = !timestamp ? "params error: header X-BAPI-TIMESTAMP is required"
                                 : "params error: header X-BAPI-RECV-WINDOW is invalid";
      finish({});
      return;
    }
    const std::int64_t now_ms = context.now_ms();
    if (*timestamp < now_ms - recv_window || *timestamp >= now_ms + 1000) {
      reply.ret_code = 10002;
      reply.ret_msg =
          "invalid request, please check your server timestamp or recv_window param. "
          "req_timestamp[" +
          to_string(*timestamp) + "],server_timestamp[" + to_string(now_ms) + "],recv_window[" +
          to_string(recv_window) + "]";
      finish({});
      return;
    }

    simdjson::dom::array args;
    simdjson::dom::object item;
    if (doc["args"].get_array().get(args) != simdjson::SUCCESS || args.size() != 1 ||
        args.at(0).get_object().get(item) != simdjson::SUCCESS) {
      reply.ret_code = 10001;
      reply.ret_msg = "params error: args must hold one order";
      finish({});
      return;
    }
    reply.limit = context.limiter.take(connection.account, path, now_ms);
    if (!reply.limit->allowed) {
      reply.ret_code = 10006;
      reply.ret_msg = "Too many visits!";
      finish(path);
      return;
    }
    const std::string args_json = simdjson::minify(item);
    OrderOpResult result = run_order_op(context, connection.account, *order_op, args_json);
    reply.ret_code = result.ret_code;
    reply.ret_msg = std::move(result.ret_msg);
    reply.data = result.ret_code == 0 ? std::move(result.result_json) : std::string("{}");
    finish(path);
  }

  // ---------------------------------------------------------------- market pacing
  /// Makes `pending` hold the next step; false when the source has ended.
  bool prefetch() {
    if (pending)
      return true;
    if (stats.source_ended)
      return false;
    MarketStep step = source.next();
    if (step.kind == MarketStep::Kind::end) {
      stats.source_ended = true;
      log("market source ended after " + std::to_string(stats.steps) + " steps");
      return false;
    }
    pending = std::move(step);
    return true;
  }

  [[nodiscard]] std::int64_t due_ns(const MarketStep& step) const {
    const double source_elapsed = static_cast<double>(step.exch_ts_ns - anchor_source_ns);
    return anchor_wall_ns + static_cast<std::int64_t>(source_elapsed / pacing.speed);
  }

  /// `--speed max` steps only while some public connection subscribes to something (a replay
  /// would otherwise be over before the first client arrives) and none of them has more than
  /// `max_queued_bytes` waiting.
  [[nodiscard]] bool subscribers_full() {
    if (server == nullptr)
      return true;
    bool any = false;
    for (const auto& [id, connection] : connections) {
      if (!is_public(connection.endpoint) || connection.topics.empty())
        continue;
      any = true;
      if (server->queued_bytes(id) > pacing.max_queued_bytes)
        return true;
    }
    no_subscriber = !any;
    return !any;
  }

  void process(const MarketStep& step) {
    const std::int64_t now_ms = context.now_ms();
    linear_feed.on_step(step, now_ms, messages);
    fan_out(linear_subscribers);
    spot_feed.on_step(step, now_ms, messages);
    fan_out(spot_subscribers);

    const std::string& symbol = source.symbols()[step.symbol_index];
    int& listed = venue_symbol[step.symbol_index];
    if (listed < 0)
      listed = context.venue.instrument(symbol) != nullptr ? 1 : 0;
    if (listed == 1 && step.kind != MarketStep::Kind::end) {
      // A trade step changes the book too (the taker took the level it printed at), so the
      // venue sees the book after every step: an order sent right after a trade meets the
      // liquidity that is really left.
      if (step.kind == MarketStep::Kind::trade)
        context.venue.on_trade(symbol, step.price, step.qty, step.taker_side, now_ms);
      const feed::OrderBook& book = source.book(step.symbol_index);
      const auto bids = book.bids();
      const auto asks = book.asks();
      context.venue.on_book(symbol, bids.first(std::min(bids.size(), pacing.venue_book_levels)),
                            asks.first(std::min(asks.size(), pacing.venue_book_levels)), now_ms);
    }
    ++stats.steps;
  }

  void step_market(std::int64_t now_ns) {
    more_now = false;
    blocked = false;
    if (context.now_ms() < context.faults.pause_market_data_until_ms) {
      if (!paused) {
        log("market data paused until " + to_string(context.faults.pause_market_data_until_ms));
      }
      paused = true;
      return;
    }
    if (paused) {
      paused = false;
      anchored = false;  // the source's clock resumes where it stopped: no burst, no gap
      log("market data resumed");
    }
    for (std::size_t done = 0;;) {
      if (!prefetch())
        break;
      if (!anchored) {
        anchored = true;
        anchor_wall_ns = now_ns;
        anchor_source_ns = pending->exch_ts_ns;
      }
      if (pacing.as_fast_as_possible) {
        if (subscribers_full()) {
          blocked = true;
          break;
        }
      } else if (due_ns(*pending) > now_ns) {
        break;
      }
      if (done == pacing.max_steps_per_tick) {
        more_now = true;
        break;
      }
      const MarketStep step = std::move(*pending);
      pending.reset();
      process(step);
      ++done;
    }
    prefetch();  // so that next_tick_ns() knows when the next step is due
    if (now_ns >= next_timer_ns) {
      next_timer_ns = now_ns + kTimerPeriodNs;
      const std::int64_t now_ms = context.now_ms();
      linear_feed.on_timer(now_ms, messages);
      fan_out(linear_subscribers);
      spot_feed.on_timer(now_ms, messages);
      fan_out(spot_subscribers);
    }
  }

  void flush_delayed(std::int64_t now_ns) {
    std::vector<std::pair<ConnId, std::string>> due;
    for (auto& [id, connection] : connections) {
      while (!connection.delayed.empty() && connection.delayed.front().due_ns <= now_ns) {
        due.emplace_back(id, std::move(connection.delayed.front().text));
        connection.delayed.pop_front();
      }
    }
    for (const auto& [id, text] : due)
      send(id, text);
  }

  /// The "drop_connections" fault, called by apply_fault from POST /kinetic/fault: the
  /// server drops every connection at once but the one whose request is being answered.
  void drop_connections() {
    if (server == nullptr)
      return;  // start-up flag: nothing is connected yet
    log("fault drop_connections: dropping " + std::to_string(connections.size()) +
        " WebSocket connection(s) and every other HTTP connection");
    server->drop_all_connections();
  }

  [[nodiscard]] std::int64_t next_tick() const {
    const std::int64_t now_ns = realtime_ns();
    std::int64_t next = next_timer_ns;
    for (const auto& [id, connection] : connections) {
      if (!connection.delayed.empty())
        next = std::min(next, connection.delayed.front().due_ns);
    }
    const std::int64_t pause_until_ms = context.faults.pause_market_data_until_ms;
    if (pause_until_ms > 0 && context.now_ms() < pause_until_ms) {
      // The pause is in the server's clock (with the skew); the loop sleeps in real time.
      return std::min(next, (pause_until_ms - context.faults.clock_skew_ms) * kNsPerMs);
    }
    if (paused || more_now)
      return 0;  // resume (re-anchor) or finish the due steps at once
    if (pending) {
      if (pacing.as_fast_as_possible)
        // Full: poll soon (the server calls on_tick after each write too). Nobody subscribed:
        // the subscribe itself wakes the loop.
        return blocked ? (no_subscriber ? next : std::min(next, now_ns + kNsPerMs)) : 0;
      return std::min(next, anchored ? due_ns(*pending) : 0);
    }
    if (!stats.source_ended)
      return 0;
    return next;
  }
};

ExchangeApp::ExchangeApp(ExchangeContext& context, MarketSource& source, PublicFeed& linear_feed,
                         PublicFeed& spot_feed, const PacingOptions& pacing)
    : impl_(std::make_unique<Impl>(context, source, linear_feed, spot_feed, pacing)) {
  context.venue.set_listener(impl_.get());
  Impl* impl = impl_.get();
  context.drop_connections = [impl] { impl->drop_connections(); };
}

ExchangeApp::~ExchangeApp() {
  impl_->context.venue.set_listener(nullptr);
  impl_->context.drop_connections = nullptr;
}

void ExchangeApp::attach(Server& server) noexcept {
  impl_->server = &server;
}

HttpResponse ExchangeApp::on_http(ConnId connection, const HttpRequest& request) {
  HttpResponse response;
  try {
    response = handle_rest(impl_->context, request);
  } catch (const std::exception& error) {
    // Bad input must never take the loop down: answer as Bybit's internal error.
    impl_->log("http#" + std::to_string(connection) + " " + std::string(request.method) + " " +
               loggable(request.path) + " -> 10016 internal error: " + loggable(error.what()));
    response = HttpResponse{};
    response.status = 500;
    std::string body;
    JsonOut out(body);
    out.begin_object()
        .field("retCode", 10016)
        .field("retMsg", "Internal system error.")
        .key("result")
        .begin_object()
        .end_object()
        .key("retExtInfo")
        .begin_object()
        .end_object()
        .field("time", impl_->context.now_ms())
        .end_object();
    response.body = std::move(body);
  }
  return response;
}

bool ExchangeApp::on_ws_open(ConnId connection, std::string_view path, std::string_view query) {
  std::optional<Endpoint> endpoint;
  for (const Endpoint candidate : {Endpoint::public_linear, Endpoint::public_spot,
                                   Endpoint::private_stream, Endpoint::trade}) {
    if (path == endpoint_path(candidate))
      endpoint = candidate;
  }
  if (!endpoint) {
    impl_->log("ws#" + std::to_string(connection) + " upgrade " + loggable(path) +
               " -> refused (404)");
    return false;
  }
  Connection& state = impl_->connections[connection];
  state.endpoint = *endpoint;
  state.conn_id = make_conn_id(connection);
  impl_->log("ws#" + std::to_string(connection) + " open " + std::string(path) +
             (query.empty() ? "" : "?" + loggable(query, 64)) + " conn_id=" + state.conn_id);
  return true;
}

void ExchangeApp::on_ws_text(ConnId connection, std::string_view message) {
  const auto found = impl_->connections.find(connection);
  if (found == impl_->connections.end())
    return;
  Connection& state = found->second;
  try {
    switch (state.endpoint) {
      case Endpoint::public_linear:
      case Endpoint::public_spot:
        impl_->public_message(connection, state, message);
        break;
      case Endpoint::private_stream:
        impl_->private_message(connection, state, message);
        break;
      case Endpoint::trade:
        impl_->trade_message(connection, state, message);
        break;
    }
  } catch (const std::exception& error) {
    impl_->log("ws#" + std::to_string(connection) + " " +
               std::string(endpoint_path(state.endpoint)) +
               " message failed: " + loggable(error.what()));
  }
}

void ExchangeApp::on_ws_closed(ConnId connection) {
  const auto found = impl_->connections.find(connection);
  if (found == impl_->connections.end())
    return;
  Connection& state = found->second;
  if (is_public(state.endpoint))
    impl_->unsubscribe_all(connection, state);
  impl_->log("ws#" + std::to_string(connection) + " closed " +
             std::string(endpoint_path(state.endpoint)));
  impl_->connections.erase(found);
}

void ExchangeApp::on_tick(std::int64_t now_ns) {
  try {
    impl_->flush_delayed(now_ns);
    impl_->step_market(now_ns);
  } catch (const std::exception& error) {
    // A broken source must not flood the log: the first failures, then one in a thousand.
    const std::uint64_t failures = ++impl_->tick_failures;
    if (failures <= 10 || failures % 1000 == 0) {
      impl_->log("market step failed (" + std::to_string(failures) +
                 " so far): " + loggable(error.what()));
    }
  }
}

std::int64_t ExchangeApp::next_tick_ns() const {
  return impl_->next_tick();
}

const AppStats& ExchangeApp::stats() const noexcept {
  return impl_->stats;
}

}  // namespace kinetic::exchange
