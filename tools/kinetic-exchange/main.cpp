// kinetic-exchange: a Bybit v5 compatible exchange for loopback use.
//
// This first version is its market-data source only: it writes the seeded synthetic market
// as Bybit v5 `publicTrade` messages, one JSON object per line, exactly in the shape the
// public WebSocket sends (prices and sizes as exact decimal strings). The loopback server —
// REST, public/private/trade WebSockets, accounts and matching — is built on top of it.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <limits>
#include <string>

#include "kinetic/feed/synthetic_market.hpp"

namespace {

void write_public_trade(std::FILE* out, const std::string& symbol, const kinetic::MarketEvent& e,
                        kinetic::Price previous_price) {
  char price[kinetic::Price::kMaxFormattedLength];
  char qty[kinetic::Qty::kMaxFormattedLength];
  const std::size_t price_len = e.trade.price.format_fixed(price, 1);
  const std::size_t qty_len = e.trade.qty.format_fixed(qty, 3);
  const long long ms = e.exch_ts / 1'000'000;
  const char* tick = e.trade.price > previous_price   ? "PlusTick"
                     : e.trade.price < previous_price ? "MinusTick"
                                                      : "ZeroPlusTick";
  std::fprintf(
      out,
      "{\"topic\":\"publicTrade.%s\",\"type\":\"snapshot\",\"ts\":%lld,\"data\":[{\"T\":%lld,"
      "\"s\":\"%s\",\"S\":\"%s\",\"v\":\"%.*s\",\"p\":\"%.*s\",\"L\":\"%s\",\"i\":\"%llu\","
      "\"BT\":false,\"seq\":%llu}]}\n",
      symbol.c_str(), ms, ms, symbol.c_str(), e.side == kinetic::Side::buy ? "Buy" : "Sell",
      static_cast<int>(qty_len), qty, static_cast<int>(price_len), price, tick,
      static_cast<unsigned long long>(e.trade.trade_id),
      static_cast<unsigned long long>(e.trade.sequence));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kinetic-exchange: a Bybit v5 compatible exchange for loopback use.\n"
      "This version provides the market source only: it writes the seeded synthetic BTCUSDT "
      "market as Bybit v5 publicTrade messages (one JSON object per line) to standard output. "
      "The REST and WebSocket server is not part of this version."};
  std::uint64_t seed = 42;
  std::uint64_t trades = 10;
  std::string symbol = "BTCUSDT";
  app.add_option("--seed", seed, "Seed of the synthetic market");
  app.add_option("--trades", trades, "Number of trades to write")
      ->check(CLI::Range(std::uint64_t{1}, std::numeric_limits<std::uint64_t>::max()));
  app.add_option("--symbol", symbol, "Symbol name written in the messages");
  CLI11_PARSE(app, argc, argv);

  kinetic::feed::SyntheticMarketParams params;
  params.seed = seed;
  kinetic::feed::SyntheticMarket market(params);
  kinetic::Price previous{};
  for (std::uint64_t i = 0; i < trades; ++i) {
    const kinetic::MarketEvent event = market.next();
    write_public_trade(stdout, symbol, event, previous);
    previous = event.trade.price;
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}
