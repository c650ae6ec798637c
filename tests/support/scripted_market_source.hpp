#pragma once
// A MarketSource for tests of the exchange simulator: it yields the steps it is given (one
// symbol, ETHUSDT, and an empty book), so candles and tickers can be computed by hand.

#include <string>
#include <utility>
#include <vector>

#include "market_source.hpp"

namespace kinetic::test {

class ScriptedSource final : public exchange::MarketSource {
 public:
  explicit ScriptedSource(std::vector<exchange::MarketStep> steps) : steps_(std::move(steps)) {}
  const std::vector<std::string>& symbols() const noexcept override { return names_; }
  exchange::MarketStep next() override {
    return position_ < steps_.size() ? steps_[position_++] : exchange::MarketStep{};
  }
  const feed::OrderBook& book(std::size_t) const noexcept override { return book_; }

 private:
  std::vector<std::string> names_{"ETHUSDT"};
  std::vector<exchange::MarketStep> steps_;
  std::size_t position_ = 0;
  feed::OrderBook book_{10};
};

}  // namespace kinetic::test
