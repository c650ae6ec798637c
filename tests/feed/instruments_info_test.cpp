// The instruments-info loader on Bybit's real responses (from the recorded capture) and on
// hand-written documents that exercise each error.

#include "kinetic/feed/instruments_info.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "kinetic/feed/ws_capture.hpp"

namespace {

using kinetic::Amount;
using kinetic::Price;
using kinetic::Qty;
using kinetic::feed::find;
using kinetic::feed::InstrumentsError;
using kinetic::feed::InstrumentsInfo;
using kinetic::feed::load_instruments_info_file;
using kinetic::feed::parse_instruments_info;
using kinetic::feed::UnrepresentablePolicy;
using kinetic::risk::InstrumentRules;

const std::string kCapturePath =
    KINETIC_SOURCE_DIR "/../shared/data/bybit-ws-v5-cryptofeed/BYBIT.jsonl.zst";

Price px(std::string_view text) {
  return Price::parse(text).value();
}
Qty qty(std::string_view text) {
  return Qty::parse(text).value();
}
Amount amount(std::string_view text) {
  return Amount::parse(text).value();
}

/// The `data` text of the capture's http record whose url contains `category=<category>`;
/// nullopt when the capture is not present.
std::optional<std::string> capture_response(std::string_view category) {
  if (!std::filesystem::exists(kCapturePath))
    return std::nullopt;
  auto source = kinetic::feed::CaptureLineSource::open_file(kCapturePath);
  simdjson::dom::parser parser;
  const std::string wanted = "category=" + std::string(category) + "&";
  std::string_view line;
  while (source.next(line)) {
    if (line.find("\"t\":\"http\"") == std::string_view::npos)
      continue;
    // Straight to an object: element::operator[] trips GCC 12's -Wnull-dereference at -O3.
    simdjson::dom::object record;
    if (parser.parse(std::string(line)).get_object().get(record))
      continue;
    std::string_view url;
    std::string_view data;
    if (record["url"].get_string().get(url) || record["data"].get_string().get(data))
      continue;
    if (url.find(wanted) != std::string_view::npos)
      return std::string(data);
  }
  return std::nullopt;
}

/// The message of the InstrumentsError that parsing `json` throws ("" when none).
std::string error_of(std::string_view json,
                     UnrepresentablePolicy policy = UnrepresentablePolicy::fail) {
  try {
    (void)parse_instruments_info(json, policy);
  } catch (const InstrumentsError& error) {
    return error.what();
  }
  return {};
}

/// A linear response with one entry, the BTCUSDT example from Bybit's documentation;
/// `patch` replaces the first occurrence of `from` with `to` to make a variant.
std::string linear_doc(std::string_view from = {}, std::string_view to = {}) {
  std::string json = R"({"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[
    {"symbol":"BTCUSDT","contractType":"LinearPerpetual","status":"Trading",
     "leverageFilter":{"minLeverage":"1","maxLeverage":"100.00","leverageStep":"0.01"},
     "priceFilter":{"minPrice":"0.10","maxPrice":"199999.80","tickSize":"0.10"},
     "lotSizeFilter":{"maxOrderQty":"1190.000","minOrderQty":"0.001","qtyStep":"0.001",
       "postOnlyMaxOrderQty":"1190.000","maxMktOrderQty":"500.000","minNotionalValue":"5"}}],
    "nextPageCursor":"next%3D1"},"retExtInfo":{},"time":1707186451514})";
  if (!from.empty()) {
    const auto at = json.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos)
      json.replace(at, from.size(), to);
  }
  return json;
}

void expect_contains(const std::string& message, std::string_view part) {
  EXPECT_NE(message.find(part), std::string::npos) << "'" << message << "' lacks '" << part << "'";
}

// ---- the real responses --------------------------------------------------------------------

TEST(InstrumentsInfoCapture, LinearResponse) {
  const auto json = capture_response("linear");
  if (!json)
    GTEST_SKIP() << "capture not present: " << kCapturePath;

  // 15 symbols are longer than InstrumentRules can hold ("1000000BABYDOGEUSDT", dated
  // futures such as "DOGEUSDT-14AUG26"): strict parsing refuses the response...
  const std::string strict_error = error_of(*json);
  expect_contains(strict_error, "1000000BABYDOGEUSDT: symbol: longer than 15 characters");

  // ...and skipping keeps the other 785.
  const InstrumentsInfo info = parse_instruments_info(*json, UnrepresentablePolicy::skip);
  EXPECT_EQ(info.category, "linear");
  EXPECT_EQ(info.next_page_cursor, "");
  EXPECT_EQ(info.rules.size(), 785U);
  ASSERT_EQ(info.skipped.size(), 15U);
  EXPECT_EQ(info.skipped[0].symbol, "1000000BABYDOGEUSDT");
  EXPECT_EQ(info.skipped[0].reason, "symbol: longer than 15 characters");
  for (const auto& rules : info.rules)
    EXPECT_TRUE(kinetic::risk::valid(rules)) << rules.symbol;

  const InstrumentRules* btc = find(info.rules, "BTCUSDT");
  ASSERT_NE(btc, nullptr);
  // As in the file: tickSize "0.10", minPrice "0.10", maxPrice "1999999.80", qtyStep "0.001",
  // minOrderQty "0.001", maxOrderQty "1500.000", maxMktOrderQty "150.000",
  // minNotionalValue "5", leverage "1".."100.00" step "0.01".
  EXPECT_STREQ(btc->symbol, "BTCUSDT");
  EXPECT_EQ(btc->tick_size, px("0.1"));
  EXPECT_EQ(btc->min_price, px("0.1"));
  EXPECT_EQ(btc->max_price, px("1999999.8"));
  EXPECT_EQ(btc->qty_step, qty("0.001"));
  EXPECT_EQ(btc->min_order_qty, qty("0.001"));
  EXPECT_EQ(btc->max_order_qty, qty("1500"));
  EXPECT_EQ(btc->max_market_order_qty, qty("150"));
  EXPECT_EQ(btc->min_notional, amount("5"));
  EXPECT_EQ(btc->min_leverage, amount("1"));
  EXPECT_EQ(btc->max_leverage, amount("100"));
  EXPECT_EQ(btc->leverage_step, amount("0.01"));

  const InstrumentRules* doge = find(info.rules, "DOGEUSDT");
  ASSERT_NE(doge, nullptr);
  EXPECT_EQ(doge->tick_size, px("0.00001"));
  EXPECT_EQ(doge->qty_step, qty("1"));
  EXPECT_EQ(doge->max_order_qty, qty("43678900"));
  EXPECT_EQ(doge->max_market_order_qty, qty("5991100"));
  EXPECT_EQ(doge->max_leverage, amount("75"));

  EXPECT_EQ(find(info.rules, "NOSUCHUSDT"), nullptr);
  EXPECT_EQ(find(info.rules, "BTCUSD"), nullptr);  // a prefix is not a match
}

TEST(InstrumentsInfoCapture, SpotResponse) {
  const auto json = capture_response("spot");
  if (!json)
    GTEST_SKIP() << "capture not present: " << kCapturePath;

  // 17 spot pairs have a tick or step finer than 1e-8 (PEPEUSDT: tickSize "0.000000001") or
  // a maximum beyond the fixed-point range (counted independently with Python's Decimal).
  expect_contains(error_of(*json), "priceFilter.tickSize: too_many_fraction_digits");
  const InstrumentsInfo info = parse_instruments_info(*json, UnrepresentablePolicy::skip);
  EXPECT_EQ(info.category, "spot");
  EXPECT_EQ(info.rules.size(), 540U);
  EXPECT_EQ(info.skipped.size(), 17U);
  for (const auto& rules : info.rules)
    EXPECT_TRUE(kinetic::risk::valid(rules)) << rules.symbol;
  EXPECT_EQ(find(info.rules, "PEPEUSDT"), nullptr);
  EXPECT_EQ(info.skipped[0].symbol, "SHIBUSDT");

  const InstrumentRules* btc = find(info.rules, "BTCUSDT");
  ASSERT_NE(btc, nullptr);
  // basePrecision "0.000001", minOrderQty "0.000001", maxLimitOrderQty "230",
  // maxMarketOrderQty "120", minOrderAmt "5", tickSize "0.1"; no price band; leverage 1.
  EXPECT_EQ(btc->tick_size, px("0.1"));
  EXPECT_EQ(btc->min_price, Price{});
  EXPECT_EQ(btc->max_price, Price{});
  EXPECT_EQ(btc->qty_step, qty("0.000001"));
  EXPECT_EQ(btc->min_order_qty, qty("0.000001"));
  EXPECT_EQ(btc->max_order_qty, qty("230"));
  EXPECT_EQ(btc->max_market_order_qty, qty("120"));
  EXPECT_EQ(btc->min_notional, amount("5"));
  EXPECT_EQ(btc->min_leverage, amount("1"));
  EXPECT_EQ(btc->max_leverage, amount("1"));
  EXPECT_EQ(btc->leverage_step, amount("1"));

  // ETHBTC's maxLimitOrderQty is printed as "1542.6000000000001": kept, cut at 8 digits.
  const InstrumentRules* eth_btc = find(info.rules, "ETHBTC");
  ASSERT_NE(eth_btc, nullptr);
  EXPECT_EQ(eth_btc->max_order_qty, qty("1542.6"));
}

// ---- hand-written documents ----------------------------------------------------------------

TEST(InstrumentsInfoParse, DocumentationExample) {
  const auto info = parse_instruments_info(linear_doc(), UnrepresentablePolicy::fail);
  EXPECT_EQ(info.next_page_cursor, "next%3D1");
  ASSERT_EQ(info.rules.size(), 1U);
  const InstrumentRules& btc = info.rules[0];
  EXPECT_STREQ(btc.symbol, "BTCUSDT");
  EXPECT_EQ(btc.tick_size, px("0.1"));
  EXPECT_EQ(btc.max_price, px("199999.8"));
  EXPECT_EQ(btc.max_order_qty, qty("1190"));
  EXPECT_EQ(btc.max_market_order_qty, qty("500"));
  EXPECT_EQ(btc.min_notional, amount("5"));
  EXPECT_EQ(btc.leverage_step, amount("0.01"));
  EXPECT_EQ(parse_instruments_info(linear_doc()).size(), 1U);
}

TEST(InstrumentsInfoParse, OptionalFieldsMayBeAbsentOrEmpty) {
  // Inverse contracts publish no minNotionalValue; an empty string means absent too.
  auto json = linear_doc(R"(,"minNotionalValue":"5")", "");
  json = json.replace(json.find(R"("maxMktOrderQty":"500.000")"), 26, R"("maxMktOrderQty":"")");
  const auto rules = parse_instruments_info(json);
  ASSERT_EQ(rules.size(), 1U);
  EXPECT_EQ(rules[0].min_notional, Amount{});
  EXPECT_EQ(rules[0].max_market_order_qty, Qty{});
}

TEST(InstrumentsInfoParse, EmptyListIsNoRules) {
  const auto info = parse_instruments_info(
      R"({"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[]}})",
      UnrepresentablePolicy::fail);
  EXPECT_TRUE(info.rules.empty());
  EXPECT_TRUE(info.skipped.empty());
}

TEST(InstrumentsInfoErrors, RetCodeCarriesCodeAndMessage) {
  const std::string message =
      error_of(R"({"retCode":10001,"retMsg":"params error: category","result":{}})");
  expect_contains(message, "retCode 10001");
  expect_contains(message, "params error: category");
}

TEST(InstrumentsInfoErrors, MalformedDocuments) {
  expect_contains(error_of(""), "invalid JSON");
  expect_contains(error_of("{\"retCode\":0,"), "invalid JSON");
  expect_contains(error_of("[1,2]"), "not a JSON object");
  expect_contains(error_of(R"({"retMsg":"OK"})"), "retCode: missing");
  expect_contains(error_of(R"({"retCode":"0"})"), "retCode: not an integer");
  expect_contains(error_of(R"({"retCode":0,"retMsg":"OK"})"), "result: missing");
  expect_contains(error_of(R"({"retCode":0,"result":{"list":[]}})"), "result.category");
  expect_contains(error_of(R"({"retCode":0,"result":{"category":"option","list":[]}})"),
                  "unsupported \"option\"");
  expect_contains(error_of(R"({"retCode":0,"result":{"category":"linear"}})"),
                  "result.list: missing");
  expect_contains(error_of(R"({"retCode":0,"result":{"category":"linear","list":{}}})"),
                  "result.list: not an array");
  expect_contains(error_of(R"({"retCode":0,"result":{"category":"linear","list":[7]}})"),
                  "list[0]: not an object");
}

TEST(InstrumentsInfoErrors, BadFieldIsNamedWithTheSymbol) {
  expect_contains(error_of(linear_doc(R"("symbol":"BTCUSDT",)", "")), "list[0]: symbol: missing");
  expect_contains(error_of(linear_doc(R"("symbol":"BTCUSDT")", R"("symbol":"")")),
                  "list[0]: symbol: empty");
  expect_contains(error_of(linear_doc(R"("qtyStep":"0.001",)", "")),
                  "BTCUSDT: lotSizeFilter.qtyStep: missing");
  expect_contains(error_of(linear_doc(R"("qtyStep":"0.001")", R"("qtyStep":0.001)")),
                  "BTCUSDT: lotSizeFilter.qtyStep: not a string");
  expect_contains(error_of(linear_doc(R"("tickSize":"0.10")", R"("tickSize":"0.1x")")),
                  "BTCUSDT: priceFilter.tickSize: not a decimal: invalid_character");
  expect_contains(error_of(linear_doc(R"("maxLeverage":"100.00")", R"("maxLeverage":"")")),
                  "BTCUSDT: leverageFilter.maxLeverage: missing");
  expect_contains(error_of(linear_doc(R"("leverageFilter")", R"("leverageFilterX")")),
                  "BTCUSDT: leverageFilter: missing");
  expect_contains(error_of(linear_doc(R"("priceFilter":{)", R"("priceFilter":[],"x":{)")),
                  "BTCUSDT: priceFilter: not an object");
}

TEST(InstrumentsInfoErrors, UnrepresentableEntriesFailOrAreSkipped) {
  struct Case {
    std::string_view from;
    std::string_view to;
    std::string_view reason;
  };
  const Case cases[] = {
      {R"("symbol":"BTCUSDT")", R"("symbol":"BTCUSDT-14AUG26X")",
       "symbol: longer than 15 characters"},
      {R"("tickSize":"0.10")", R"("tickSize":"0.000000001")",
       "priceFilter.tickSize: too_many_fraction_digits (\"0.000000001\")"},
      {R"("minNotionalValue":"5")", R"("minNotionalValue":"100000000000")",
       "lotSizeFilter.minNotionalValue: overflow"},
      {R"("minOrderQty":"0.001")", R"("minOrderQty":"2000")", "rules not valid"},
      {R"("qtyStep":"0.001")", R"("qtyStep":"0")", "rules not valid"},
  };
  for (const auto& c : cases) {
    const std::string json = linear_doc(c.from, c.to);
    expect_contains(error_of(json), c.reason);
    const auto info = parse_instruments_info(json, UnrepresentablePolicy::skip);
    EXPECT_TRUE(info.rules.empty()) << c.to;
    ASSERT_EQ(info.skipped.size(), 1U) << c.to;
    expect_contains(info.skipped[0].reason, c.reason);
  }
  // A 15-character symbol still fits.
  const auto fits =
      parse_instruments_info(linear_doc(R"("symbol":"BTCUSDT")", R"("symbol":"BTCUSDT-14AUG26")"));
  ASSERT_EQ(fits.size(), 1U);
  EXPECT_STREQ(fits[0].symbol, "BTCUSDT-14AUG26");
}

TEST(InstrumentsInfoErrors, OverPreciseMaximumIsCutTowardZero) {
  const auto rules = parse_instruments_info(
      linear_doc(R"("maxOrderQty":"1190.000")", R"("maxOrderQty":"1190.0000000000001")"));
  ASSERT_EQ(rules.size(), 1U);
  EXPECT_EQ(rules[0].max_order_qty, qty("1190"));
  // Only maxima: an over-precise minimum is still refused.
  expect_contains(
      error_of(linear_doc(R"("minOrderQty":"0.001")", R"("minOrderQty":"0.0010000000001")")),
      "lotSizeFilter.minOrderQty: too_many_fraction_digits");
}

TEST(InstrumentsInfoFile, LoadsAFileAndNamesAMissingOne) {
  const std::string path = testing::TempDir() + "instruments_info_test.json";
  {
    std::ofstream out(path, std::ios::binary);
    out << linear_doc();
  }
  const auto info = load_instruments_info_file(path);
  ASSERT_EQ(info.rules.size(), 1U);
  EXPECT_STREQ(info.rules[0].symbol, "BTCUSDT");
  std::remove(path.c_str());

  const std::string missing = testing::TempDir() + "no_such_instruments_file.json";
  try {
    (void)load_instruments_info_file(missing);
    ADD_FAILURE() << "no error for a missing file";
  } catch (const InstrumentsError& error) {
    EXPECT_EQ(std::string(error.what()).rfind(missing + ": cannot open", 0), 0U) << error.what();
  }
}

}  // namespace
