// Configuration: defaults, the committed example, every kind of refusal with its message,
// environment overrides, and that each key reaches its own field.

#include "kinetic/core/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace kinetic {
namespace {
using strategy::SignalAction;

constexpr std::string_view kSource = "kinetic.toml";

::testing::AssertionResult Contains(const std::string& text, std::string_view part) {
  if (text.find(part) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "\"" << part << "\" is not in:\n" << text;
}

Environment environment_of(std::map<std::string, std::string, std::less<>> variables) {
  return [variables = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    if (found == variables.end()) {
      return std::nullopt;
    }
    return found->second;
  };
}

Config load(std::string_view toml, const Environment& env = empty_environment()) {
  return load_config_from_string(toml, kSource, env);
}

/// The ConfigError message loading `toml` produces; fails the test when it loads.
std::string error_of(std::string_view toml, const Environment& env = empty_environment()) {
  try {
    (void)load(toml, env);
  } catch (const ConfigError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << toml;
  return {};
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

/// A file in the temporary directory, removed when the test ends.
class TemporaryFile {
 public:
  TemporaryFile(std::string_view stem, std::string_view contents)
      : path_(std::filesystem::temp_directory_path() /
              (std::string(stem) + "-" + std::to_string(::getpid()) + ".toml")) {
    std::ofstream(path_, std::ios::binary) << contents;
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// ---- defaults and the example ----

TEST(ConfigDefaults, EmptyDocumentGivesTheBuiltInDefaults) {
  EXPECT_EQ(load(""), default_config());
  EXPECT_EQ(default_config(), Config{});
}

TEST(ConfigDefaults, GeneratedExampleLoadsBackToTheDefaults) {
  // Every default passes its own validation, and the example's text reads back exactly
  // (floats are written with round-trip precision).
  EXPECT_EQ(load(example_toml()), default_config());
}

TEST(ConfigDefaults, CommittedExampleFileEqualsTheGeneratedOne) {
  const std::filesystem::path path = std::string(KINETIC_SOURCE_DIR) + "/kinetic.example.toml";
  const std::string committed = read_file(path);
  const std::string generated = example_toml();
  if (committed != generated) {
    // Point at the first differing line so the fix is obvious.
    std::istringstream a(committed);
    std::istringstream b(generated);
    std::string line_a;
    std::string line_b;
    int line = 1;
    while (std::getline(a, line_a) && std::getline(b, line_b) && line_a == line_b) {
      ++line;
    }
    FAIL() << path << " differs from example_toml() at line " << line
           << ":\n  file:      " << line_a << "\n  generated: " << line_b
           << "\nRegenerate it from example_toml() (the example may never drift from the code).";
  }
  EXPECT_EQ(load_config(path, empty_environment()), default_config());
}

TEST(ConfigDefaults, ExampleDocumentsEveryKeyWithItsRange) {
  const std::string example = example_toml();
  for (const ConfigKeyInfo& key : config_schema()) {
    const std::string line = "\n" + std::string(key.key) + " = " + key.default_value +
                             (key.range.empty() ? "\n" : "  # " + key.range + "\n");
    EXPECT_TRUE(Contains(example, line)) << key.section << "." << key.key;
    EXPECT_TRUE(Contains(example, std::string(key.description)));
  }
  EXPECT_TRUE(Contains(example, "[risk]\n"));
  EXPECT_TRUE(Contains(
      example, "# kill switch: drawdown from the equity peak\nmax_drawdown = 0.15  # (0, 1)\n"));
  EXPECT_TRUE(Contains(example, "layout = \"fused\""));
  EXPECT_TRUE(Contains(example, "symbols = [\"BTCUSDT\"]"));
}

TEST(ConfigSchema, DescribesEveryKey) {
  const auto schema = config_schema();
  ASSERT_EQ(schema.size(), 95U);
  std::set<std::string> variables;
  for (const ConfigKeyInfo& key : schema) {
    EXPECT_FALSE(key.description.empty()) << key.key;
    EXPECT_FALSE(key.type.empty()) << key.key;
    EXPECT_TRUE(variables.insert(key.env_var).second) << "duplicate " << key.env_var;
  }
  const auto found = std::find_if(schema.begin(), schema.end(), [](const ConfigKeyInfo& key) {
    return key.section == "risk" && key.key == "max_drawdown";
  });
  ASSERT_NE(found, schema.end());
  EXPECT_EQ(found->env_var, "KINETIC_RISK_MAX_DRAWDOWN");
  EXPECT_EQ(found->type, "float");
  EXPECT_EQ(found->default_value, "0.15");
  EXPECT_EQ(found->range, "(0, 1)");
}

TEST(ConfigToToml, NonDefaultConfigRoundTrips) {
  Config config;
  config.strategy.ema_lambda = 0.3;
  config.kalman.adaptive = true;
  config.risk.max_drawdown = 0.123456789;
  config.exchange.symbols = {"ETHUSDT", "SOLUSDT"};
  config.exchange.ca_file = "/etc/ssl/a \"quoted\" path\\x.pem";
  config.exchange.category = ExchangeConfig::Category::spot;
  config.threads.layout = ThreadsConfig::Layout::pipelined;
  config.threads.wait = WaitPolicy::spin_then_yield;
  config.threads.feed_core = 1;
  config.log.level = LogConfig::Level::off;
  config.demo.seed = 9'000'000'000'000'000'000ULL;
  EXPECT_EQ(load(to_toml(config)), config);
}

// ---- what is accepted ----

TEST(ConfigFile, ValuesAreApplied) {
  const Config config = load(R"(
[strategy]
ema_lambda = 0.25
[kalman]
adaptive = true
[exchange]
symbols = ["BTCUSDT", "ETHUSDT"]
category = "spot"
[threads]
layout = "pipelined"
exec_core = 1
[log]
level = "debug"
)");
  Config expected;
  expected.strategy.ema_lambda = 0.25;
  expected.kalman.adaptive = true;
  expected.exchange.symbols = {"BTCUSDT", "ETHUSDT"};
  expected.exchange.category = ExchangeConfig::Category::spot;
  expected.threads.layout = ThreadsConfig::Layout::pipelined;
  expected.threads.exec_core = 1;
  expected.log.level = LogConfig::Level::debug;
  EXPECT_EQ(config, expected);
}

TEST(ConfigFile, IntegerAcceptedWhereAFloatIsExpected) {
  const Config config = load("[risk]\nmax_leverage = 20\nmin_reward_risk = 2\n");
  EXPECT_EQ(config.risk.max_leverage, 20.0);
  EXPECT_EQ(config.risk.min_reward_risk, 2.0);
}

TEST(ConfigFile, DottedKeysAreTheSameAsSections) {
  EXPECT_EQ(load("risk.max_drawdown = 0.2\n").risk.max_drawdown, 0.2);
}

TEST(ConfigFile, LoadsAFileAndNamesItInErrors) {
  const TemporaryFile good("kinetic-config-good", "[demo]\nticks = 77\n");
  EXPECT_EQ(load_config(good.path(), empty_environment()).demo.ticks, 77);

  const TemporaryFile bad("kinetic-config-bad", "[demo]\n\nticks = 0\n");
  try {
    (void)load_config(bad.path(), empty_environment());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_TRUE(
        Contains(error.what(), bad.path().string() + ":3: demo.ticks = 0 is out of range [1, "));
  }
}

TEST(ConfigFile, MissingFileIsRefusedNamingIt) {
  const std::filesystem::path missing = "/nonexistent/kinetic-config-missing.toml";
  try {
    (void)load_config(missing, empty_environment());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_TRUE(Contains(error.what(), missing.string()));
    EXPECT_TRUE(Contains(error.what(), "No such file"));
  }
}

// ---- what is refused, and how it is reported ----

TEST(ConfigErrors, UnknownKeyNamesFileKeyLineAndSuggestsTheClosest) {
  const std::string message = error_of("[risk]\nmax_drawdwn = 0.1\n");
  EXPECT_TRUE(Contains(message, "kinetic.toml:2:"));
  EXPECT_TRUE(Contains(message, "unknown key risk.max_drawdwn"));
  EXPECT_TRUE(Contains(message, "did you mean risk.max_drawdown?"));
}

TEST(ConfigErrors, UnknownSection) {
  const std::string message = error_of("[strategy]\nema_lambda = 0.2\n\n[riks]\nx = 1\n");
  EXPECT_TRUE(Contains(message, "kinetic.toml:4: unknown section [riks]"));
  EXPECT_TRUE(Contains(message, "did you mean risk?"));
}

TEST(ConfigErrors, UnknownTopLevelKey) {
  EXPECT_TRUE(Contains(error_of("verbose = true\n"), "kinetic.toml:1: unknown key verbose"));
}

TEST(ConfigErrors, SectionThatIsNotATable) {
  EXPECT_TRUE(Contains(error_of("risk = 1\n"),
                       "kinetic.toml:1: risk: expected a table ([risk]), found an integer"));
}

TEST(ConfigErrors, WrongTypeNamesTheKeyAndBothTypes) {
  EXPECT_TRUE(Contains(error_of("[risk]\nmax_drawdown = \"0.1\"\n"),
                       "kinetic.toml:2: risk.max_drawdown: expected a number, found a string"));
  EXPECT_TRUE(Contains(error_of("[kalman]\nadaptive = 1\n"),
                       "kalman.adaptive: expected a boolean, found an integer"));
  EXPECT_TRUE(Contains(error_of("[exchange]\nsymbols = \"BTCUSDT\"\n"),
                       "exchange.symbols: expected an array of strings, found a string"));
  EXPECT_TRUE(Contains(error_of("[exchange]\nsymbols = [\"BTCUSDT\", 1]\n"),
                       "found an array containing an integer"));
}

TEST(ConfigErrors, FloatWhereAnIntegerIsExpected) {
  EXPECT_TRUE(Contains(error_of("[demo]\nticks = 1000.0\n"),
                       "demo.ticks: expected an integer, found a float"));
}

TEST(ConfigErrors, OutOfRangeNamesTheKeyValueAndRange) {
  EXPECT_TRUE(Contains(error_of("[risk]\n\nmax_drawdown = 1.5\n"),
                       "kinetic.toml:3: risk.max_drawdown = 1.5 is out of range (0, 1)"));
  // The 2% rule: the range is open at 0 and closed at 0.02.
  EXPECT_TRUE(Contains(error_of("[risk]\nmax_risk_per_trade = 0.03\n"), "(0, 0.02]"));
  EXPECT_TRUE(Contains(error_of("[risk]\nmax_risk_per_trade = 0\n"),
                       "risk.max_risk_per_trade = 0 is out of range (0, 0.02]"));
  EXPECT_EQ(load("[risk]\nmax_risk_per_trade = 0.02\n").risk.max_risk_per_trade, 0.02);
  EXPECT_TRUE(Contains(error_of("[exchange]\nrecv_window_ms = 60001\n"),
                       "exchange.recv_window_ms = 60001 is out of range [1, 60000]"));
}

TEST(ConfigErrors, NegativeWhereTheFieldIsUnsigned) {
  EXPECT_TRUE(Contains(error_of("[demo]\nseed = -1\n"),
                       "demo.seed = -1 is out of range [0, 9223372036854775807]"));
}

TEST(ConfigErrors, IntegerBeyondSixtyFourBitsIsASyntaxError) {
  EXPECT_TRUE(Contains(error_of("[demo]\nseed = 99999999999999999999\n"), "kinetic.toml:2:"));
}

TEST(ConfigErrors, NonFiniteFloatIsRefused) {
  EXPECT_TRUE(Contains(error_of("[strategy]\nsnr_threshold = inf\n"),
                       "strategy.snr_threshold = inf is not a finite number"));
  EXPECT_TRUE(Contains(error_of("[strategy]\nsnr_threshold = nan\n"), "is not a finite number"));
}

TEST(ConfigErrors, PowerOfTwo) {
  EXPECT_TRUE(Contains(error_of("[log]\nring_capacity = 1000\n"),
                       "log.ring_capacity = 1000 is not a power of two"));
  EXPECT_EQ(load("[log]\nring_capacity = 1024\n").log.ring_capacity, 1024U);
}

TEST(ConfigErrors, ChoiceNotInTheAllowedSetListsTheAllowedValues) {
  EXPECT_TRUE(Contains(error_of("[log]\nlevel = \"verbose\"\n"),
                       "log.level = \"verbose\" is not one of \"trace\", \"debug\", \"info\", "
                       "\"warn\", \"error\", \"off\""));
  EXPECT_TRUE(Contains(error_of("[threads]\nlayout = \"Fused\"\n"),
                       "is not one of \"fused\", \"pipelined\""));
  EXPECT_TRUE(Contains(error_of("[exchange]\nname = \"binance\"\n"), "is not one of \"bybit\""));
}

TEST(ConfigErrors, UrlsMustHaveAKnownScheme) {
  EXPECT_TRUE(Contains(error_of("[exchange]\nws_public_url = \"https://stream.bybit.com\"\n"),
                       "does not start with wss:// or ws://"));
  EXPECT_EQ(load("[exchange]\nrest_url = \"http://127.0.0.1:8080\"\n").exchange.rest_url,
            "http://127.0.0.1:8080");
}

TEST(ConfigErrors, SymbolsAreCheckedOneByOne) {
  EXPECT_TRUE(Contains(error_of("[exchange]\nsymbols = []\n"), "exchange.symbols = [] is empty"));
  EXPECT_TRUE(Contains(error_of("[exchange]\nsymbols = [\"btcusdt\"]\n"),
                       "has \"btcusdt\", which is not a symbol"));
  EXPECT_TRUE(Contains(error_of("[exchange]\nsymbols = [\"BTCUSDT\", \"ETHUSDT\", \"BTCUSDT\"]\n"),
                       "has \"BTCUSDT\" twice"));
}

TEST(ConfigErrors, ControlCharactersInTextAreRefused) {
  EXPECT_TRUE(Contains(error_of("[log]\nfile = \"a\\u0000b\"\n"),
                       "log.file = \"a\\u0000b\" contains a control character"));
}

TEST(ConfigErrors, SyntaxErrorReportsLineColumnAndTheParsersReason) {
  const std::string message = error_of("[risk]\nmax_drawdown = 0.1\nmax_leverage = = 3\n");
  EXPECT_TRUE(Contains(message, "kinetic.toml:3:"));
  // toml++'s description follows the position.
  EXPECT_GT(message.size(), std::string("kinetic.toml:3:16: ").size());
}

TEST(ConfigErrors, EveryProblemIsReportedInLineOrder) {
  const std::string message =
      error_of("[threads]\nwait = \"sleep\"\n[risk]\nkelly_fraction = 2\nmax_leverage = 0\n");
  const auto wait = message.find("kinetic.toml:2: threads.wait");
  const auto kelly = message.find("kinetic.toml:4: risk.kelly_fraction");
  const auto leverage = message.find("kinetic.toml:5: risk.max_leverage");
  ASSERT_NE(wait, std::string::npos) << message;
  ASSERT_NE(kelly, std::string::npos) << message;
  ASSERT_NE(leverage, std::string::npos) << message;
  EXPECT_LT(wait, kelly);
  EXPECT_LT(kelly, leverage);
}

// ---- [feed] ----

TEST(ConfigFeed, DefaultsAreTheDocumentedOnes) {
  const FeedConfig feed = load("").feed;
  EXPECT_EQ(feed.topics, (std::vector<std::string>{"trade", "book.50", "ticker"}));
  EXPECT_EQ(feed.io_backend, FeedConfig::IoBackend::automatic);
  EXPECT_EQ(feed.busy_poll_us, 0);
  EXPECT_FALSE(feed.sqpoll);
  EXPECT_EQ(feed.sqpoll_idle_ms, 100);
  EXPECT_TRUE(feed.multishot_recv);
  EXPECT_EQ(feed.connect_timeout_ms, 10000);
  EXPECT_EQ(feed.handshake_timeout_ms, 5000);
  EXPECT_EQ(feed.ping_interval_ms, 20000);
  EXPECT_EQ(feed.pong_timeout_ms, 10000);
  EXPECT_EQ(feed.reconnect_initial_ms, 1000);
  EXPECT_EQ(feed.reconnect_max_ms, 32000);
  EXPECT_EQ(feed.reconnect_jitter, 0.2);
  EXPECT_EQ(feed.max_message_bytes, 1048576U);
  EXPECT_EQ(feed.book_levels, 1000U);

  const std::string example = example_toml();
  EXPECT_TRUE(Contains(example, "[feed]\n"));
  EXPECT_TRUE(Contains(example, "topics = [\"trade\", \"book.50\", \"ticker\"]  # non-empty"));
  EXPECT_TRUE(Contains(example, "io_backend = \"auto\"  # \"auto\" | \"io_uring\" | \"plain\"\n"));
  EXPECT_TRUE(Contains(example, "reconnect_jitter = 0.2  # [0, 1)\n"));
  EXPECT_TRUE(Contains(example, "busy_poll_us = 0  # [0, 1000000]\n"));
  EXPECT_TRUE(Contains(example, "book_levels = 1000  # [1, 100000]\n"));
}

TEST(ConfigFeed, FileSettingEveryKey) {
  const Config config = load(R"(
[feed]
topics = ["book.1", "kline.D", "trade", "kline.15", "book.1000", "ticker"]
io_backend = "io_uring"
busy_poll_us = 1000000
sqpoll = true
sqpoll_idle_ms = 2
multishot_recv = false
connect_timeout_ms = 1500
handshake_timeout_ms = 2500
ping_interval_ms = 5000
pong_timeout_ms = 3000
reconnect_initial_ms = 250
reconnect_max_ms = 250
reconnect_jitter = 0.5
max_message_bytes = 4096
book_levels = 100000
)");
  Config expected;
  expected.feed.topics = {"book.1", "kline.D", "trade", "kline.15", "book.1000", "ticker"};
  expected.feed.io_backend = FeedConfig::IoBackend::io_uring;
  expected.feed.busy_poll_us = 1'000'000;
  expected.feed.sqpoll = true;
  expected.feed.sqpoll_idle_ms = 2;
  expected.feed.multishot_recv = false;
  expected.feed.connect_timeout_ms = 1500;
  expected.feed.handshake_timeout_ms = 2500;
  expected.feed.ping_interval_ms = 5000;
  expected.feed.pong_timeout_ms = 3000;
  expected.feed.reconnect_initial_ms = 250;
  expected.feed.reconnect_max_ms = 250;  // equal to the initial delay is allowed
  expected.feed.reconnect_jitter = 0.5;
  expected.feed.max_message_bytes = 4096;
  expected.feed.book_levels = 100'000;
  EXPECT_EQ(config, expected);
  EXPECT_EQ(load(to_toml(expected)), expected);
}

TEST(ConfigFeed, EveryTopicShapeIsAccepted) {
  for (const char* topic :
       {"trade",     "ticker",    "book.1",    "book.50",  "book.200", "book.500", "book.1000",
        "kline.1",   "kline.3",   "kline.5",   "kline.15", "kline.30", "kline.60", "kline.120",
        "kline.240", "kline.360", "kline.720", "kline.D",  "kline.W",  "kline.M"}) {
    const std::string toml = std::string("[feed]\ntopics = [\"") + topic + "\"]\n";
    EXPECT_EQ(load(toml).feed.topics, std::vector<std::string>{topic}) << topic;
  }
}

TEST(ConfigFeed, TopicsOfAnotherShapeAreRefusedNamingTheKey) {
  EXPECT_TRUE(Contains(error_of("[feed]\n\ntopics = [\"trade\", \"book.25\"]\n"),
                       "kinetic.toml:3: feed.topics = [\"trade\", \"book.25\"] has \"book.25\", "
                       "which is not trade, ticker, book.N"));
  for (const char* bad : {"book.", "book.100", "book.50x", "kline.2", "kline.d", "kline.", "Trade",
                          "trades", "tickers", "orderbook.50", " trade", ""}) {
    const std::string toml = std::string("[feed]\ntopics = [\"") + bad + "\"]\n";
    EXPECT_TRUE(Contains(error_of(toml), "feed.topics = ")) << bad;
  }
  EXPECT_TRUE(Contains(error_of("[feed]\ntopics = []\n"), "feed.topics = [] is empty"));
  EXPECT_TRUE(Contains(error_of("[feed]\ntopics = [\"ticker\", \"trade\", \"ticker\"]\n"),
                       "has \"ticker\" twice"));
  EXPECT_TRUE(Contains(error_of("[feed]\ntopics = \"trade\"\n"),
                       "feed.topics: expected an array of strings, found a string"));
  EXPECT_TRUE(Contains(error_of("", environment_of({{"KINETIC_FEED_TOPICS", "trade,book.7"}})),
                       "environment KINETIC_FEED_TOPICS=\"trade,book.7\" has \"book.7\""));
}

TEST(ConfigFeed, OutOfRangeValuesAreRefusedNamingTheKey) {
  EXPECT_TRUE(Contains(error_of("[feed]\nbusy_poll_us = 1000001\n"),
                       "feed.busy_poll_us = 1000001 is out of range [0, 1000000]"));
  EXPECT_TRUE(Contains(error_of("[feed]\nbusy_poll_us = -1\n"),
                       "feed.busy_poll_us = -1 is out of range [0, 1000000]"));
  EXPECT_TRUE(Contains(error_of("[feed]\nreconnect_jitter = 1.0\n"),
                       "feed.reconnect_jitter = 1.0 is out of range [0, 1)"));
  EXPECT_TRUE(Contains(error_of("[feed]\nreconnect_jitter = -0.1\n"),
                       "feed.reconnect_jitter = -0.1 is out of range [0, 1)"));
  EXPECT_EQ(load("[feed]\nreconnect_jitter = 0\n").feed.reconnect_jitter, 0.0);
  EXPECT_TRUE(Contains(error_of("[feed]\nbook_levels = 0\n"),
                       "feed.book_levels = 0 is out of range [1, 100000]"));
  EXPECT_TRUE(Contains(error_of("[feed]\nbook_levels = 100001\n"),
                       "feed.book_levels = 100001 is out of range [1, 100000]"));
  EXPECT_TRUE(Contains(error_of("[feed]\nio_backend = \"epoll\"\n"),
                       "feed.io_backend = \"epoll\" is not one of \"auto\", \"io_uring\", "
                       "\"plain\""));
  EXPECT_TRUE(Contains(error_of("[feed]\nping_interval_ms = 0\n"), "feed.ping_interval_ms = 0"));
  EXPECT_TRUE(Contains(error_of("[feed]\npong_timeout_ms = 0\n"), "feed.pong_timeout_ms = 0"));
  EXPECT_TRUE(
      Contains(error_of("[feed]\nconnect_timeout_ms = 0\n"), "feed.connect_timeout_ms = 0"));
  EXPECT_TRUE(
      Contains(error_of("[feed]\nhandshake_timeout_ms = 0\n"), "feed.handshake_timeout_ms = 0"));
  EXPECT_TRUE(Contains(error_of("[feed]\nsqpoll_idle_ms = 0\n"), "feed.sqpoll_idle_ms = 0"));
  EXPECT_TRUE(
      Contains(error_of("[feed]\nmax_message_bytes = 100\n"), "feed.max_message_bytes = 100"));
  EXPECT_TRUE(
      Contains(error_of("[feed]\nreconnect_initial_ms = 0\n"), "feed.reconnect_initial_ms = 0"));
  EXPECT_TRUE(Contains(error_of("[feed]\nsqpoll = 1\n"),
                       "feed.sqpoll: expected a boolean, found an integer"));
  EXPECT_TRUE(Contains(error_of("", environment_of({{"KINETIC_FEED_BOOK_LEVELS", "0"}})),
                       "environment KINETIC_FEED_BOOK_LEVELS=\"0\" is out of range [1, 100000]"));
}

TEST(ConfigFeed, ReconnectMaxBelowInitialIsRefusedNamingBothKeys) {
  const std::string message =
      error_of("[feed]\nreconnect_initial_ms = 5000\nreconnect_max_ms = 4999\n");
  EXPECT_TRUE(Contains(message,
                       "kinetic.toml: [feed] reconnect_max_ms = 4999 is less than "
                       "reconnect_initial_ms = 5000"));
  // Against the other key's default, and when the environment makes it so.
  EXPECT_TRUE(Contains(error_of("[feed]\nreconnect_initial_ms = 40000\n"),
                       "reconnect_max_ms = 32000 is less than reconnect_initial_ms = 40000"));
  EXPECT_TRUE(Contains(error_of("", environment_of({{"KINETIC_FEED_RECONNECT_MAX_MS", "999"}})),
                       "reconnect_max_ms = 999 is less than reconnect_initial_ms = 1000"));
  // The environment can also repair what the file alone would not allow.
  EXPECT_EQ(load("[feed]\nreconnect_initial_ms = 40000\n",
                 environment_of({{"KINETIC_FEED_RECONNECT_MAX_MS", "40000"}}))
                .feed.reconnect_max_ms,
            40000);
}

// ---- the environment ----

TEST(ConfigEnvironment, OverrideIsAppliedAndWinsOverTheFile) {
  const Environment env = environment_of({{"KINETIC_RISK_MAX_DRAWDOWN", "0.1"}});
  EXPECT_EQ(load("", env).risk.max_drawdown, 0.1);
  EXPECT_EQ(load("[risk]\nmax_drawdown = 0.3\n", env).risk.max_drawdown, 0.1);
  // Variables of other names are not looked at as keys.
  EXPECT_EQ(load("", environment_of({{"KINETIC_RISK_MAXDRAWDOWN", "x"}})), default_config());
}

TEST(ConfigEnvironment, InvalidFileValueIsRefusedEvenWhenOverridden) {
  // The file is checked on its own first: an invalid file value is refused even when the
  // environment would replace it, so a broken file never goes unnoticed.
  const Environment env = environment_of({{"KINETIC_RISK_MAX_DRAWDOWN", "0.1"}});
  EXPECT_TRUE(Contains(error_of("[risk]\nmax_drawdown = 3\n", env), "risk.max_drawdown = 3"));
}

TEST(ConfigEnvironment, UnparsableValueNamesTheVariable) {
  EXPECT_TRUE(Contains(error_of("", environment_of({{"KINETIC_RISK_MAX_DRAWDOWN", "abc"}})),
                       "environment KINETIC_RISK_MAX_DRAWDOWN=\"abc\": expected a number"));
  EXPECT_TRUE(Contains(error_of("", environment_of({{"KINETIC_DEMO_TICKS", "12x"}})),
                       "environment KINETIC_DEMO_TICKS=\"12x\": expected an integer"));
  EXPECT_TRUE(
      Contains(error_of("", environment_of({{"KINETIC_KALMAN_ADAPTIVE", "yes"}})),
               "environment KINETIC_KALMAN_ADAPTIVE=\"yes\": expected true, false, 1 or 0"));
  EXPECT_TRUE(Contains(error_of("", environment_of({{"KINETIC_RISK_MAX_DRAWDOWN", ""}})),
                       "expected a number"));
}

TEST(ConfigEnvironment, OutOfRangeValueNamesTheVariableAndRange) {
  EXPECT_TRUE(Contains(error_of("", environment_of({{"KINETIC_RISK_MAX_DRAWDOWN", "1.5"}})),
                       "environment KINETIC_RISK_MAX_DRAWDOWN=\"1.5\" is out of range (0, 1)"));
  EXPECT_TRUE(
      Contains(error_of("", environment_of({{"KINETIC_DEMO_SEED", "99999999999999999999"}})),
               "KINETIC_DEMO_SEED=\"99999999999999999999\" is out of range [0, "));
  EXPECT_TRUE(Contains(error_of("", environment_of({{"KINETIC_STRATEGY_SNR_THRESHOLD", "nan"}})),
                       "is not a finite number"));
  EXPECT_TRUE(Contains(error_of("", environment_of({{"KINETIC_LOG_LEVEL", "loud"}})),
                       "KINETIC_LOG_LEVEL=\"loud\" is not one of"));
}

TEST(ConfigEnvironment, BooleanForms) {
  for (const auto& [text, expected] : std::vector<std::pair<std::string, bool>>{
           {"true", true}, {"1", true}, {" false ", false}, {"0", false}}) {
    EXPECT_EQ(load("", environment_of({{"KINETIC_KALMAN_ADAPTIVE", text}})).kalman.adaptive,
              expected)
        << text;
  }
}

TEST(ConfigEnvironment, ArraysAreCommaSeparated) {
  EXPECT_EQ(
      load("", environment_of({{"KINETIC_EXCHANGE_SYMBOLS", "ETHUSDT, SOLUSDT"}})).exchange.symbols,
      (std::vector<std::string>{"ETHUSDT", "SOLUSDT"}));
  EXPECT_TRUE(Contains(error_of("", environment_of({{"KINETIC_EXCHANGE_SYMBOLS", "ETHUSDT,"}})),
                       "has \"\", which is not a symbol"));
  EXPECT_TRUE(Contains(error_of("", environment_of({{"KINETIC_EXCHANGE_SYMBOLS", ""}})),
                       "KINETIC_EXCHANGE_SYMBOLS=\"\" is empty"));
}

TEST(ConfigEnvironment, ProcessEnvironmentReadsRealVariables) {
  ASSERT_EQ(::setenv("KINETIC_TEST_CONFIG_PROBE", "42", 1), 0);
  EXPECT_EQ(process_environment()("KINETIC_TEST_CONFIG_PROBE"), std::optional<std::string>("42"));
  ASSERT_EQ(::unsetenv("KINETIC_TEST_CONFIG_PROBE"), 0);
  EXPECT_EQ(process_environment()("KINETIC_TEST_CONFIG_PROBE"), std::nullopt);
}

// Each key's variable sets the field it names and no other: catches a schema entry whose name
// and field disagree, and exercises the environment reader of every type.
TEST(ConfigEnvironment, EveryKeyReachesItsOwnField) {
  struct Case {
    std::string variable;
    std::string value;
    std::function<bool(const Config&)> is_set;
    bool differs_from_default = true;  // false where the default is the only allowed value
  };
  const std::vector<Case> cases{
      {"KINETIC_STRATEGY_EMA_LAMBDA", "0.5",
       [](const Config& c) { return c.strategy.ema_lambda == 0.5; }},
      {"KINETIC_STRATEGY_HALF_LIFE_MS", "250",
       [](const Config& c) { return c.strategy.half_life_ms == 250; }},
      {"KINETIC_STRATEGY_SNR_THRESHOLD", "3",
       [](const Config& c) { return c.strategy.snr_threshold == 3; }},
      {"KINETIC_STRATEGY_DEAD_BAND_SIGMA", "0.5",
       [](const Config& c) { return c.strategy.dead_band_sigma == 0.5; }},
      {"KINETIC_STRATEGY_FORECAST_HORIZON_MS", "500",
       [](const Config& c) { return c.strategy.forecast_horizon_ms == 500; }},
      {"KINETIC_STRATEGY_DERIVATIVE_NOISE_ALPHA", "0.05",
       [](const Config& c) { return c.strategy.derivative_noise_alpha == 0.05; }},
      {"KINETIC_STRATEGY_ACTION_STRONG_UPTREND", "buy",
       [](const Config& c) { return c.strategy.action_strong_uptrend == SignalAction::buy; }},
      {"KINETIC_STRATEGY_ACTION_DECELERATING_UPTREND", "sell",
       [](const Config& c) {
         return c.strategy.action_decelerating_uptrend == SignalAction::sell;
       }},
      {"KINETIC_STRATEGY_ACTION_DECELERATING_DOWNTREND", "none",
       [](const Config& c) {
         return c.strategy.action_decelerating_downtrend == SignalAction::none;
       }},
      {"KINETIC_STRATEGY_ACTION_STRONG_DOWNTREND", "sell",
       [](const Config& c) { return c.strategy.action_strong_downtrend == SignalAction::sell; }},
      {"KINETIC_STRATEGY_ACTION_BOTTOMING_OUT", "hold",
       [](const Config& c) { return c.strategy.action_bottoming_out == SignalAction::hold; }},
      {"KINETIC_STRATEGY_ACTION_TOPPING_OUT", "strong_sell",
       [](const Config& c) { return c.strategy.action_topping_out == SignalAction::strong_sell; }},
      {"KINETIC_STRATEGY_WEIGHT_TICK_DERIVATIVES", "0",
       [](const Config& c) { return c.strategy.weight_tick_derivatives == 0; }},
      {"KINETIC_STRATEGY_WEIGHT_TICK_KALMAN", "2",
       [](const Config& c) { return c.strategy.weight_tick_kalman == 2; }},
      {"KINETIC_STRATEGY_WEIGHT_KALMAN_1S", "0.5",
       [](const Config& c) { return c.strategy.weight_kalman_1s == 0.5; }},
      {"KINETIC_STRATEGY_WEIGHT_KALMAN_1M", "3",
       [](const Config& c) { return c.strategy.weight_kalman_1m == 3; }},
      {"KINETIC_STRATEGY_DRIFT_SHORT_HORIZON_S", "600",
       [](const Config& c) { return c.strategy.drift_short_horizon_s == 600; }},
      {"KINETIC_STRATEGY_DRIFT_LONG_HORIZON_S", "7200",
       [](const Config& c) { return c.strategy.drift_long_horizon_s == 7200; }},
      {"KINETIC_STRATEGY_DRIFT_T_THRESHOLD", "3",
       [](const Config& c) { return c.strategy.drift_t_threshold == 3; }},
      {"KINETIC_KALMAN_PROCESS_NOISE_Q", "2.5",
       [](const Config& c) { return c.kalman.process_noise_q == 2.5; }},
      {"KINETIC_KALMAN_MEASUREMENT_NOISE_R", "0.5",
       [](const Config& c) { return c.kalman.measurement_noise_r == 0.5; }},
      {"KINETIC_KALMAN_SIGMA_V0", "3", [](const Config& c) { return c.kalman.sigma_v0 == 3; }},
      {"KINETIC_KALMAN_SIGMA_A0", "4", [](const Config& c) { return c.kalman.sigma_a0 == 4; }},
      {"KINETIC_KALMAN_ADAPTIVE", "true", [](const Config& c) { return c.kalman.adaptive; }},
      {"KINETIC_KALMAN_ADAPTIVE_ALPHA", "0.1",
       [](const Config& c) { return c.kalman.adaptive_alpha == 0.1; }},
      {"KINETIC_RISK_MAX_RISK_PER_TRADE", "0.01",
       [](const Config& c) { return c.risk.max_risk_per_trade == 0.01; }},
      {"KINETIC_RISK_MIN_REWARD_RISK", "2",
       [](const Config& c) { return c.risk.min_reward_risk == 2; }},
      {"KINETIC_RISK_KELLY_FRACTION", "0.25",
       [](const Config& c) { return c.risk.kelly_fraction == 0.25; }},
      {"KINETIC_RISK_KELLY_CAP", "0.5", [](const Config& c) { return c.risk.kelly_cap == 0.5; }},
      {"KINETIC_RISK_MAX_DRAWDOWN", "0.2",
       [](const Config& c) { return c.risk.max_drawdown == 0.2; }},
      {"KINETIC_RISK_MAX_DAILY_LOSS", "0.04",
       [](const Config& c) { return c.risk.max_daily_loss == 0.04; }},
      {"KINETIC_RISK_MAX_TRADE_LOSS", "0.03",
       [](const Config& c) { return c.risk.max_trade_loss == 0.03; }},
      {"KINETIC_RISK_MAX_ERROR_RATE", "0.2",
       [](const Config& c) { return c.risk.max_error_rate == 0.2; }},
      {"KINETIC_RISK_ERROR_RATE_WINDOW_S", "30",
       [](const Config& c) { return c.risk.error_rate_window_s == 30; }},
      {"KINETIC_RISK_CONNECTIVITY_TIMEOUT_S", "20",
       [](const Config& c) { return c.risk.connectivity_timeout_s == 20; }},
      {"KINETIC_RISK_MAX_LEVERAGE", "5", [](const Config& c) { return c.risk.max_leverage == 5; }},
      {"KINETIC_RISK_MAX_OPEN_POSITIONS", "7",
       [](const Config& c) { return c.risk.max_open_positions == 7; }},
      {"KINETIC_RISK_ERROR_RATE_MIN_ORDERS", "5",
       [](const Config& c) { return c.risk.error_rate_min_orders == 5; }},
      {"KINETIC_RISK_STOP_SIGMA_K", "3", [](const Config& c) { return c.risk.stop_sigma_k == 3; }},
      {"KINETIC_RISK_VOLATILITY_WINDOW", "100",
       [](const Config& c) { return c.risk.volatility_window == 100; }},
      {"KINETIC_RISK_MAX_SYMBOL_EXPOSURE", "2",
       [](const Config& c) { return c.risk.max_symbol_exposure == 2; }},
      {"KINETIC_RISK_MAX_TOTAL_EXPOSURE", "4",
       [](const Config& c) { return c.risk.max_total_exposure == 4; }},
      {"KINETIC_RISK_MAX_CORRELATION", "0.5",
       [](const Config& c) { return c.risk.max_correlation == 0.5; }},
      {"KINETIC_RISK_PRICE_BAND", "0.01",
       [](const Config& c) { return c.risk.price_band == 0.01; }},
      {"KINETIC_RISK_MAX_ORDER_NOTIONAL", "5000",
       [](const Config& c) { return c.risk.max_order_notional == 5000; }},
      {"KINETIC_RISK_MAX_ORDERS_PER_SECOND", "3",
       [](const Config& c) { return c.risk.max_orders_per_second == 3; }},
      {"KINETIC_RISK_DUPLICATE_WINDOW_MS", "100",
       [](const Config& c) { return c.risk.duplicate_window_ms == 100; }},
      {"KINETIC_RISK_OUTLIER_SIGMA", "4",
       [](const Config& c) { return c.risk.outlier_sigma == 4; }},
      {"KINETIC_RISK_VOLUME_SPIKE", "5", [](const Config& c) { return c.risk.volume_spike == 5; }},
      {"KINETIC_RISK_OUTLIER_MIN_SIGMA_BPS", "2",
       [](const Config& c) { return c.risk.outlier_min_sigma_bps == 2; }},
      {"KINETIC_RISK_VALIDATION_WINDOW", "32",
       [](const Config& c) { return c.risk.validation_window == 32; }},
      {"KINETIC_RISK_CORRELATION_INTERVAL_MS", "5000",
       [](const Config& c) { return c.risk.correlation_interval_ms == 5000; }},
      {"KINETIC_RISK_CORRELATION_ALPHA", "0.05",
       [](const Config& c) { return c.risk.correlation_alpha == 0.05; }},
      {"KINETIC_RISK_FLAGGED_TICKS", "pass",
       [](const Config& c) { return c.risk.flagged_ticks == RiskConfig::FlaggedTicks::pass; }},
      {"KINETIC_RISK_PRIOR_WIN_PROBABILITY", "0.6",
       [](const Config& c) { return c.risk.prior_win_probability == 0.6; }},
      {"KINETIC_RISK_PRIOR_TRADES", "5", [](const Config& c) { return c.risk.prior_trades == 5; }},
      {"KINETIC_EXCHANGE_NAME", "bybit", [](const Config& c) { return c.exchange.name == "bybit"; },
       false},
      {"KINETIC_EXCHANGE_REST_URL", "http://127.0.0.1:1",
       [](const Config& c) { return c.exchange.rest_url == "http://127.0.0.1:1"; }},
      {"KINETIC_EXCHANGE_WS_PUBLIC_URL", "ws://127.0.0.1:2",
       [](const Config& c) { return c.exchange.ws_public_url == "ws://127.0.0.1:2"; }},
      {"KINETIC_EXCHANGE_WS_PRIVATE_URL", "ws://127.0.0.1:3",
       [](const Config& c) { return c.exchange.ws_private_url == "ws://127.0.0.1:3"; }},
      {"KINETIC_EXCHANGE_WS_TRADE_URL", "ws://127.0.0.1:4",
       [](const Config& c) { return c.exchange.ws_trade_url == "ws://127.0.0.1:4"; }},
      {"KINETIC_EXCHANGE_RECV_WINDOW_MS", "10000",
       [](const Config& c) { return c.exchange.recv_window_ms == 10000; }},
      {"KINETIC_EXCHANGE_CA_FILE", "/tmp/ca.pem",
       [](const Config& c) { return c.exchange.ca_file == "/tmp/ca.pem"; }},
      {"KINETIC_EXCHANGE_SYMBOLS", "ETHUSDT",
       [](const Config& c) { return c.exchange.symbols == std::vector<std::string>{"ETHUSDT"}; }},
      {"KINETIC_EXCHANGE_CATEGORY", "spot",
       [](const Config& c) { return c.exchange.category == ExchangeConfig::Category::spot; }},
      {"KINETIC_FEED_TOPICS", "trade, kline.1",
       [](const Config& c) {
         return c.feed.topics == std::vector<std::string>{"trade", "kline.1"};
       }},
      {"KINETIC_FEED_IO_BACKEND", "plain",
       [](const Config& c) { return c.feed.io_backend == FeedConfig::IoBackend::plain; }},
      {"KINETIC_FEED_BUSY_POLL_US", "50",
       [](const Config& c) { return c.feed.busy_poll_us == 50; }},
      {"KINETIC_FEED_SQPOLL", "1", [](const Config& c) { return c.feed.sqpoll; }},
      {"KINETIC_FEED_SQPOLL_IDLE_MS", "7",
       [](const Config& c) { return c.feed.sqpoll_idle_ms == 7; }},
      {"KINETIC_FEED_MULTISHOT_RECV", "false",
       [](const Config& c) { return !c.feed.multishot_recv; }},
      {"KINETIC_FEED_CONNECT_TIMEOUT_MS", "2500",
       [](const Config& c) { return c.feed.connect_timeout_ms == 2500; }},
      {"KINETIC_FEED_HANDSHAKE_TIMEOUT_MS", "3500",
       [](const Config& c) { return c.feed.handshake_timeout_ms == 3500; }},
      {"KINETIC_FEED_PING_INTERVAL_MS", "15000",
       [](const Config& c) { return c.feed.ping_interval_ms == 15000; }},
      {"KINETIC_FEED_PONG_TIMEOUT_MS", "4000",
       [](const Config& c) { return c.feed.pong_timeout_ms == 4000; }},
      {"KINETIC_FEED_RECONNECT_INITIAL_MS", "500",
       [](const Config& c) { return c.feed.reconnect_initial_ms == 500; }},
      {"KINETIC_FEED_RECONNECT_MAX_MS", "60000",
       [](const Config& c) { return c.feed.reconnect_max_ms == 60000; }},
      {"KINETIC_FEED_RECONNECT_JITTER", "0",
       [](const Config& c) { return c.feed.reconnect_jitter == 0.0; }},
      {"KINETIC_FEED_MAX_MESSAGE_BYTES", "65536",
       [](const Config& c) { return c.feed.max_message_bytes == 65536U; }},
      {"KINETIC_FEED_BOOK_LEVELS", "200",
       [](const Config& c) { return c.feed.book_levels == 200U; }},
      {"KINETIC_THREADS_LAYOUT", "pipelined",
       [](const Config& c) { return c.threads.layout == ThreadsConfig::Layout::pipelined; }},
      {"KINETIC_THREADS_FEED_CORE", "1", [](const Config& c) { return c.threads.feed_core == 1; }},
      {"KINETIC_THREADS_STRATEGY_CORE", "2",
       [](const Config& c) { return c.threads.strategy_core == 2; }},
      {"KINETIC_THREADS_EXEC_CORE", "3", [](const Config& c) { return c.threads.exec_core == 3; }},
      {"KINETIC_THREADS_CONTROL_CORE", "0",
       [](const Config& c) { return c.threads.control_core == 0; }},
      {"KINETIC_THREADS_WAIT", "spin_then_yield",
       [](const Config& c) { return c.threads.wait == WaitPolicy::spin_then_yield; }},
      {"KINETIC_LOG_LEVEL", "warn",
       [](const Config& c) { return c.log.level == LogConfig::Level::warn; }},
      {"KINETIC_LOG_FILE", "/tmp/kinetic.log",
       [](const Config& c) { return c.log.file == "/tmp/kinetic.log"; }},
      {"KINETIC_LOG_RING_CAPACITY", "65536",
       [](const Config& c) { return c.log.ring_capacity == 65536; }},
      {"KINETIC_DEMO_SEED", "7", [](const Config& c) { return c.demo.seed == 7; }},
      {"KINETIC_DEMO_TICKS", "1000", [](const Config& c) { return c.demo.ticks == 1000; }},
      {"KINETIC_DEMO_WARMUP_TICKS", "10",
       [](const Config& c) { return c.demo.warmup_ticks == 10; }},
      {"KINETIC_DEMO_ENTRY_SCORE", "0.5",
       [](const Config& c) { return c.demo.entry_score == 0.5; }},
      {"KINETIC_DEMO_MIN_CONFIDENCE", "0",
       [](const Config& c) { return c.demo.min_confidence == 0; }},
      {"KINETIC_DEMO_TAKER_FEE_PPM", "200",
       [](const Config& c) { return c.demo.taker_fee_ppm == 200; }},
  };

  std::set<std::string> covered;
  for (const Case& test : cases) {
    covered.insert(test.variable);
  }
  std::set<std::string> in_schema;
  for (const ConfigKeyInfo& key : config_schema()) {
    in_schema.insert(key.env_var);
  }
  EXPECT_EQ(covered, in_schema) << "every key of the schema needs a case here";

  const Config defaults = default_config();
  for (const Case& test : cases) {
    const Config config = load("", environment_of({{test.variable, test.value}}));
    EXPECT_TRUE(test.is_set(config)) << test.variable << " did not set its field";
    if (!test.differs_from_default) {
      EXPECT_EQ(config, defaults) << test.variable;
      continue;
    }
    EXPECT_FALSE(test.is_set(defaults))
        << test.variable << ": pick a value that is not the default";
    // No other field moved: the documents differ in exactly one line.
    std::istringstream changed(to_toml(config));
    std::istringstream original(to_toml(defaults));
    std::string changed_line;
    std::string original_line;
    int differing_lines = 0;
    while (std::getline(changed, changed_line) && std::getline(original, original_line)) {
      differing_lines += changed_line != original_line ? 1 : 0;
    }
    EXPECT_EQ(differing_lines, 1) << test.variable;
  }
}

}  // namespace
}  // namespace kinetic
