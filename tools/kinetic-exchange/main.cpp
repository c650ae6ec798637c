// kinetic-exchange: a Bybit v5 compatible exchange on loopback (REST, public, private and
// trade WebSockets, accounts and matching, faults and control endpoints).
//
// main() parses the flags, builds the pieces (instruments, venue, market source, public feeds,
// API context, app, server), prints `listening HOST:PORT` on stdout when ready, serves until
// SIGTERM/SIGINT, then writes the final state (--state-out) atomically.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "api.hpp"
#include "exchange_app.hpp"
#include "instruments.hpp"
#include "kinetic/exec/sim_venue.hpp"
#include "market_source.hpp"
#include "server.hpp"

namespace {

using namespace kinetic;
using namespace kinetic::exchange;

constexpr const char* kDescription =
    "kinetic-exchange: a Bybit v5 compatible exchange on loopback, for demos, paper trading and "
    "tests. One port serves REST and WebSocket upgrades (plain, or TLS with --tls-cert and "
    "--tls-key). When ready it prints one line on stdout, `listening HOST:PORT`; the log (one "
    "line per request or WebSocket op and its outcome, never a secret) goes to stderr or --log.";

constexpr const char* kFooter = R"(
REST (Bybit v5 paths, HTTP/1.1 keep-alive):
  public   GET  /v5/market/time, /v5/market/instruments-info, /v5/market/kline,
                /v5/market/orderbook
  signed   POST /v5/order/create, /v5/order/amend, /v5/order/cancel, /v5/order/cancel-all,
                /v5/position/set-leverage
           GET  /v5/order/realtime, /v5/position/list, /v5/account/wallet-balance,
                /v5/execution/list
  Signed requests carry X-BAPI-API-KEY, X-BAPI-TIMESTAMP, X-BAPI-SIGN and X-BAPI-RECV-WINDOW
  (default 5000); X-BAPI-SIGN = hex HMAC-SHA256(secret, timestamp + key + recvWindow +
  (query string for GET | body for POST)). Errors use Bybit's retCodes: 10001 parameters,
  10002 timestamp outside [now - recvWindow, now + 1000), 10003 unknown key, 10004 bad
  signature, 10006 rate limited (X-Bapi-Limit, -Status, -Reset-Timestamp headers on every
  signed reply), 110007 insufficient balance, 110072 duplicate orderLinkId, ...

WebSocket:
  /v5/public/linear, /v5/public/spot
      {"op":"subscribe"|"unsubscribe","req_id":"..","args":[topics]}, {"op":"ping"}.
      Topics: orderbook.{1,50,200}.SYMBOL (snapshot, then deltas with u + 1 each),
      publicTrade.SYMBOL, tickers.SYMBOL, kline.1.SYMBOL. Unknown topics fail with
      "error:handler not found,topic:..", repeated ones with "error:already subscribed,..".
  /v5/private
      {"op":"auth","args":[key, expires_ms, hex HMAC-SHA256(secret, "GET/realtime" + expires)]}
      then subscribe to order, execution, position, wallet (or order.linear, ...; an
      all-in-one and a per-category topic cannot share one request).
  /v5/trade
      auth as above, then {"reqId":"..","header":{"X-BAPI-TIMESTAMP":"..",
      "X-BAPI-RECV-WINDOW":".."},"op":"order.create"|"order.amend"|"order.cancel",
      "args":[{...same parameters as REST...}]}; {"op":"ping"}. reqId at most 36 characters
      and unique per connection (20006), header timestamp checked like REST (10002), rate
      limits shared with REST (10006), unknown op 10404.
  Idle connections are closed after --idle-timeout seconds without traffic.

Control endpoints (not Bybit's):
  GET  /kinetic/state   the whole exchange state as JSON (accounts, wallets, positions,
                        orders, executions, faults; no secrets)
  POST /kinetic/fault   inject a fault, body as for --fault

Faults (POST /kinetic/fault or --fault at start-up, JSON):
  {"fault":"drop_connections"}                  close every connection at once, without a
                                                WebSocket close frame
  {"fault":"pause_market_data","seconds":70}    no public data for that long; the market
                                                then resumes where it stopped (no gaps in u)
  {"fault":"reject","path":"/v5/order/create","retCode":10006,"count":2}
                                                the next `count` requests on that path (REST or
                                                the trade WS op mapped to it) fail with retCode
  {"fault":"delay","path":"/v5/order/create","ms":300}
                                                replies on that path are sent `ms` late
  {"fault":"clock_skew","ms":5000}              the server's clock runs `ms` ahead (negative:
                                                behind): timestamp windows, time fields, pushes
  {"fault":"malformed_frames","count":3}        the next `count` public pushes are broken JSON
  {"fault":"clear"}                             remove every fault
  A "path" of "*" matches every path.

Signals: SIGTERM or SIGINT stop the server; the final state is then written to --state-out
(FILE.tmp, then renamed to FILE).

Examples:
  kinetic-exchange --listen 127.0.0.1:8666
  kinetic-exchange --market replay --replay capture.kcap --speed max --loop
  kinetic-exchange --account KEY:SECRET:50000 --fault '{"fault":"clock_skew","ms":2000}')";

/// The running server, for the signal handler (request_stop is async-signal-safe).
std::atomic<Server*> g_server{nullptr};

extern "C" void on_stop_signal(int /*signal*/) {
  if (Server* server = g_server.load(std::memory_order_acquire))
    server->request_stop();
}

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, nullptr);
}

/// "127.0.0.1:8666" → host, port. Throws std::invalid_argument.
std::pair<std::string, std::uint16_t> parse_listen(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    throw std::invalid_argument("--listen must be HOST:PORT, got '" + text + "'");
  }
  const std::string port_text = text.substr(colon + 1);
  unsigned long port = 0;
  std::size_t used = 0;
  try {
    port = std::stoul(port_text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != port_text.size() || port > 65535) {
    throw std::invalid_argument("--listen: bad port '" + port_text + "'");
  }
  return {text.substr(0, colon), static_cast<std::uint16_t>(port)};
}

/// A fee rate as Bybit writes it ("0.00055") → parts per million (550). Throws.
std::int64_t parse_fee_ppm(const std::string& text, const char* flag) {
  const auto parsed = Amount::parse(text);
  if (!parsed)
    throw std::invalid_argument(std::string(flag) + ": not a decimal: '" + text + "'");
  const std::int64_t raw = parsed.value().raw();  // 1e-8 units
  if (raw % 100 != 0) {
    throw std::invalid_argument(std::string(flag) + ": at most 6 decimals (1 ppm): '" + text + "'");
  }
  if (raw <= -100'000'000 || raw >= 100'000'000) {
    throw std::invalid_argument(std::string(flag) + ": a rate such as 0.00055, got '" + text + "'");
  }
  return raw / 100;
}

PacingOptions parse_speed(const std::string& text) {
  PacingOptions pacing;
  if (text == "max") {
    pacing.as_fast_as_possible = true;
    return pacing;
  }
  double speed = 0;
  std::size_t used = 0;
  try {
    speed = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(speed > 0) || !std::isfinite(speed)) {
    throw std::invalid_argument("--speed must be 1, a positive factor N, or max; got '" + text +
                                "'");
  }
  pacing.speed = speed;
  return pacing;
}

/// A double for the log: "600", "2.5".
std::string shortest(double value) {
  char text[32];
  const int length = std::snprintf(text, sizeof text, "%g", value);
  return std::string(text, static_cast<std::size_t>(std::max(length, 0)));
}

/// Writes `text` to `path` atomically: `path`.tmp, flushed and synced, then renamed.
void write_atomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  if (file == nullptr) {
    throw std::runtime_error("cannot write " + temporary + ": " + std::strerror(errno));
  }
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size() &&
                       std::fputc('\n', file) != EOF && std::fflush(file) == 0;
  const bool closed = std::fclose(file) == 0;
  if (!written || !closed) {
    std::remove(temporary.c_str());
    throw std::runtime_error("cannot write " + temporary);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot rename " + temporary + " to " + path + ": " +
                             std::strerror(errno));
  }
}

struct Flags {
  std::string listen = "127.0.0.1:8666";
  std::string tls_certificate;
  std::string tls_private_key;
  std::string market = "synthetic";
  std::uint64_t seed = 42;
  std::string replay;
  std::string speed = "1";
  bool loop = false;
  std::string instruments;
  std::vector<std::string> accounts;
  std::string maker_fee = "0.0002";
  std::string taker_fee = "0.00055";
  std::vector<std::string> faults;
  std::string state_out;
  std::string log;
  double idle_timeout_s = 600;
};

int run(const Flags& flags) {
  std::FILE* log_file = stderr;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> owned_log(nullptr, &std::fclose);
  if (!flags.log.empty()) {
    owned_log.reset(std::fopen(flags.log.c_str(), "a"));
    if (!owned_log) {
      throw std::runtime_error("cannot open --log " + flags.log + ": " + std::strerror(errno));
    }
    log_file = owned_log.get();
  }

  const auto [host, port] = parse_listen(flags.listen);
  if (flags.tls_certificate.empty() != flags.tls_private_key.empty()) {
    throw std::invalid_argument("--tls-cert and --tls-key go together");
  }
  PacingOptions pacing = parse_speed(flags.speed);
  exec::sim::VenueOptions venue_options;
  venue_options.maker_fee_ppm = parse_fee_ppm(flags.maker_fee, "--maker-fee");
  venue_options.taker_fee_ppm = parse_fee_ppm(flags.taker_fee, "--taker-fee");
  venue_options.seed = flags.seed;

  // Accounts: parsed before anything is built, so that a bad flag fails fast.
  std::vector<AccountSpec> specs;
  for (const std::string& text : flags.accounts)
    specs.push_back(parse_account_spec(text));
  const bool demo = specs.empty();
  if (demo)
    specs.push_back(parse_account_spec("kinetic-demo-key:kinetic-demo-secret:10000"));
  {
    std::set<std::string> keys;
    for (const AccountSpec& spec : specs) {
      if (!keys.insert(spec.key).second) {
        throw std::invalid_argument("--account: key '" + spec.key + "' given twice");
      }
    }
  }

  const std::vector<ExchangeInstrument> instruments =
      flags.instruments.empty() ? builtin_instruments() : load_instruments(flags.instruments);
  if (instruments.empty())
    throw std::runtime_error("no instruments");

  std::unique_ptr<MarketSource> source;
  if (flags.market == "synthetic") {
    SyntheticSourceOptions options;
    options.seed = flags.seed;
    options.instruments = instruments;
    std::vector<std::pair<std::string, double>> symbols;
    for (const auto& symbol : options.symbols) {
      if (find_instrument(instruments, symbol.first) != nullptr)
        symbols.push_back(symbol);
    }
    if (symbols.empty()) {
      throw std::runtime_error(
          "--market synthetic needs at least one of BTCUSDT, ETHUSDT, SOLUSDT among the "
          "instruments");
    }
    options.symbols = std::move(symbols);
    source = make_synthetic_source(options);
  } else {
    if (flags.replay.empty())
      throw std::invalid_argument("--market replay needs --replay FILE");
    ReplaySourceOptions options;
    options.path = flags.replay;
    options.loop = flags.loop;
    source = make_replay_source(options);
  }

  std::vector<risk::InstrumentRules> rules;
  rules.reserve(instruments.size());
  for (const ExchangeInstrument& instrument : instruments)
    rules.push_back(instrument.rules);
  exec::sim::SimVenue venue(std::move(rules), venue_options);

  std::vector<ApiAccount> accounts;
  for (const AccountSpec& spec : specs) {
    accounts.push_back(ApiAccount{spec.key, spec.secret, venue.add_account(spec.balance)});
  }

  PublicFeed linear_feed(*source, instruments, PublicCategory::linear);
  PublicFeed spot_feed(*source, instruments, PublicCategory::spot);

  ExchangeContext context{.venue = venue,
                          .instruments = instruments,
                          .market = *source,
                          .linear_feed = linear_feed,
                          .accounts = std::move(accounts),
                          .faults = {},
                          .limiter = {},
                          .log = RequestLog(log_file),
                          .drop_connections = {}};

  ExchangeApp app(context, *source, linear_feed, spot_feed, pacing);

  for (const std::string& fault : flags.faults) {
    if (const auto error =
            apply_fault(context.faults, fault, context.now_ms(), context.drop_connections)) {
      throw std::invalid_argument("--fault " + fault + ": " + *error);
    }
  }

  ServerOptions server_options;
  server_options.host = host;
  server_options.port = port;
  server_options.tls_certificate = flags.tls_certificate;
  server_options.tls_private_key = flags.tls_private_key;
  server_options.idle_timeout = std::chrono::milliseconds(
      static_cast<std::int64_t>(std::llround(flags.idle_timeout_s * 1000.0)));
  Server server(server_options, app);
  app.attach(server);

  // The start-up record: what runs, never a secret.
  {
    std::string line = "kinetic-exchange ready on " + host + ":" + std::to_string(server.port()) +
                       (flags.tls_certificate.empty() ? " (plain)" : " (TLS)") +
                       " market=" + flags.market;
    if (flags.market == "synthetic") {
      line += " seed=" + std::to_string(flags.seed);
    } else {
      line += " replay=" + flags.replay + (flags.loop ? " loop" : "");
    }
    line += " speed=" + flags.speed + " symbols=";
    for (std::size_t i = 0; i < source->symbols().size(); ++i) {
      line += (i == 0 ? "" : ",") + source->symbols()[i];
    }
    line += " instruments=" + std::to_string(instruments.size()) + " maker_fee=" + flags.maker_fee +
            " taker_fee=" + flags.taker_fee + " idle_timeout_s=" + shortest(flags.idle_timeout_s);
    context.log.write(line);
    for (const ApiAccount& account : context.accounts) {
      context.log.write("account key=" + account.key + (demo ? " (demo account)" : "") +
                        " uid=" + std::to_string(account.account));
    }
    for (const std::string& fault : flags.faults)
      context.log.write("start-up fault " + fault);
  }

  g_server.store(&server, std::memory_order_release);
  install_signal_handlers();
  std::printf("listening %s:%u\n", host.c_str(), static_cast<unsigned>(server.port()));
  std::fflush(stdout);

  server.run();
  g_server.store(nullptr, std::memory_order_release);

  const ServerStats& stats = server.stats();
  context.log.write("stopping: connections=" + std::to_string(stats.connections_accepted) +
                    " http_requests=" + std::to_string(stats.http_requests) +
                    " ws_in=" + std::to_string(stats.ws_messages_in) +
                    " ws_out=" + std::to_string(stats.ws_messages_out) +
                    " market_steps=" + std::to_string(app.stats().steps));
  if (!flags.state_out.empty()) {
    write_atomically(flags.state_out, state_json(context));
    context.log.write("state written to " + flags.state_out);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{kDescription, "kinetic-exchange"};
  cli.footer(kFooter);
  Flags flags;
  cli.add_option("--listen", flags.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  cli.add_option("--tls-cert", flags.tls_certificate,
                 "PEM certificate: serve HTTPS/WSS only (with --tls-key)");
  cli.add_option("--tls-key", flags.tls_private_key, "PEM private key of --tls-cert");
  cli.add_option("--market", flags.market, "Market data source")
      ->check(CLI::IsMember({"synthetic", "replay"}))
      ->capture_default_str();
  cli.add_option("--seed", flags.seed,
                 "Seed of the synthetic market and of the venue's ids (deterministic runs)")
      ->capture_default_str();
  cli.add_option("--replay", flags.replay,
                 "With --market replay: a kinetic capture (.kcap) or a raw Bybit WebSocket "
                 "JSON-lines capture")
      ->check(CLI::ExistingFile);
  cli.add_option("--speed", flags.speed,
                 "Pacing: 1 follows the source's timestamps in real time, N runs N times "
                 "faster, max as fast as the slowest public subscriber reads (from the first "
                 "subscribe on)")
      ->capture_default_str();
  cli.add_flag("--loop", flags.loop, "Replay: start again at the end (time keeps increasing)");
  cli.add_option("--instruments", flags.instruments,
                 "A Bybit instruments-info JSON (linear) to list instead of the built-in "
                 "BTCUSDT, ETHUSDT, SOLUSDT")
      ->check(CLI::ExistingFile);
  cli.add_option("--account", flags.accounts,
                 "KEY:SECRET[:BALANCE_USDT] (repeatable; balance 10000 by default). None "
                 "given: one demo account kinetic-demo-key:kinetic-demo-secret:10000");
  cli.add_option("--maker-fee", flags.maker_fee, "Maker fee rate (negative: rebate)")
      ->capture_default_str();
  cli.add_option("--taker-fee", flags.taker_fee, "Taker fee rate")->capture_default_str();
  cli.add_option("--fault", flags.faults,
                 "A fault applied at start-up, JSON as for POST /kinetic/fault (repeatable; "
                 "see below)");
  cli.add_option("--state-out", flags.state_out,
                 "On SIGTERM/SIGINT write the final state JSON here (atomically)");
  cli.add_option("--log", flags.log, "Append the log to FILE instead of stderr");
  cli.add_option("--idle-timeout", flags.idle_timeout_s,
                 "Close connections idle (nothing sent or received) for this many seconds "
                 "(Bybit: 600)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  try {
    return run(flags);
  } catch (const std::invalid_argument& error) {
    std::fprintf(stderr, "kinetic-exchange: %s\n", error.what());
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "kinetic-exchange: %s\n", error.what());
    return 1;
  }
}
