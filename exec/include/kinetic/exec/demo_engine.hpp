#pragma once
// DemoEngine: the end-to-end run. Each tick of a seeded synthetic market goes through the
// calculus engine (derivatives, Kalman filters, 6-case signals, coordinator, drift) into a
// simple trading rule and the paper venue, on one thread (the `fused` layout) or two (the
// `pipelined` one), and the processing time of every tick goes into a latency histogram.
//
// The trading rule: flat, propose a position on the side of the combined signal when
// |score| ≥ entry_score, its confidence ≥ min_confidence, and no significant drift opposes
// it; the risk manager sizes it (volatility stop, Kelly and the 2% risk limit, the Taylor
// forecast as the target, exchange rounding) or refuses it with a reason. In a position,
// close it at its stop or target, or when the combined score turns against it (< 0 for a
// long, > 0 for a short), or when the kill switch asks for it. Every tick also goes through
// the risk manager's data validation and kill switch (drawdown, daily loss, trade loss,
// stale data). The shape — construct everything up front, then step() without allocating —
// stays when the simulated exchange replaces the paper venue.

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "kinetic/core/latency_histogram.hpp"
#include "kinetic/core/risk/risk_manager.hpp"
#include "kinetic/core/spsc_ring.hpp"
#include "kinetic/core/strategy/calculus_engine.hpp"
#include "kinetic/core/thread.hpp"
#include "kinetic/exec/paper_venue.hpp"
#include "kinetic/feed/synthetic_market.hpp"

namespace kinetic {
struct Config;
}

namespace kinetic::exec {

struct DemoParams {
  feed::SyntheticMarketParams market{};
  std::uint64_t ticks = 200'000;
  std::uint64_t warmup_ticks = 2'000;  ///< ticks that only feed the engine, untimed
  strategy::CalculusParams calculus{};
  double entry_score = 0.75;    ///< |combined score| that opens a position
  double min_confidence = 0.2;  ///< combined confidence needed to open
  risk::RiskParams risk{};
  Amount initial_equity = Amount::from_units(10'000);  ///< the account the risk manager sizes for
  PaperVenueParams venue{};
};

/// The demo's parameters from the configuration: [demo] for the market and the trading rule,
/// [strategy] and [kalman] for the calculus engine, [risk] for the risk manager. Start-up only.
[[nodiscard]] DemoParams demo_params(const Config& config);

struct DemoSummary {
  std::uint64_t ticks = 0;
  std::uint64_t signals = 0;        ///< orders the trading rule decided to send
  std::uint64_t vetoed = 0;         ///< entries the drift filter refused
  std::uint64_t risk_rejected = 0;  ///< entries the risk manager refused
  std::uint64_t flagged_ticks = 0;  ///< ticks the data validation flagged
  std::uint64_t stops = 0;          ///< positions closed at their stop
  std::uint64_t targets = 0;        ///< positions closed at their target
  /// Refusals by risk::RejectReason (index = the enum's value).
  std::array<std::uint64_t, risk::kRejectReasonCount> rejections{};
  risk::TradingState trading_state = risk::TradingState::active;
  std::size_t kill_transitions = 0;
  std::uint64_t trades = 0;    ///< fills
  std::uint64_t rejected = 0;  ///< orders the venue refused
  Amount pnl{};                ///< equity at the last price, after fees
  Amount fees{};
  Qty final_position{};
  Price last_price{};
  std::array<std::uint64_t, feed::kRegimeCount> ticks_per_regime{};
};

/// Where the pipelined layout puts its two threads. -1 leaves a thread unpinned.
struct PipelineLayout {
  int feed_core = -1;
  int strategy_core = -1;
  WaitPolicy wait = WaitPolicy::busy_spin;
};

/// Owns the market, calculus engine, venue and histogram for one demo run. Construction does
/// every allocation; step() and run() allocate nothing. Use one run at a time, from one
/// thread; run_pipelined() starts and joins its own feed thread.
class DemoEngine {
 public:
  explicit DemoEngine(const DemoParams& params);

  /// Processes one tick. Returns false once `ticks` ticks (after warm-up) are done.
  bool step() noexcept;
  /// Runs warm-up and all remaining ticks on the calling thread (the `fused` layout).
  void run() noexcept;
  /// The `pipelined` layout: a feed thread generates and stamps the ticks and hands them
  /// through an SPSC ring to the calling thread, which runs strategy and venue. Latency is
  /// then measured from the feed's stamp, so it includes the hop between the threads.
  /// Gives the same trading as run() for the same parameters. Returns the pinning errors
  /// (if any) as a message for the caller to print; the run goes on unpinned.
  std::string run_pipelined(const PipelineLayout& layout);

  [[nodiscard]] DemoSummary summary() const noexcept;
  /// Per-tick processing time in nanoseconds, warm-up excluded.
  [[nodiscard]] const LatencyHistogram& latency() const noexcept { return *latency_; }
  [[nodiscard]] std::uint64_t ticks_done() const noexcept { return ticks_done_; }
  [[nodiscard]] const strategy::CalculusEngine& calculus() const noexcept { return engine_; }
  [[nodiscard]] const risk::RiskManager& risk_manager() const noexcept { return *risk_; }

 private:
  /// Warm-up or timed processing of one tick stamped at `start_ticks`.
  void consume(MarketEvent& event, std::uint64_t start_ticks) noexcept;
  void process(const MarketEvent& event) noexcept;
  /// Sends `order` to the venue and tells the risk manager what happened.
  void send(const OrderIntent& order, TimestampNs now) noexcept;
  [[nodiscard]] Amount account_equity() const noexcept;
  [[nodiscard]] std::uint64_t total_ticks() const noexcept {
    return params_.warmup_ticks + params_.ticks;
  }

  using TickRing = SpscRing<MarketEvent, 4096>;

  DemoParams params_;
  feed::SyntheticMarket market_;
  strategy::CalculusEngine engine_;
  PaperVenue venue_;
  std::unique_ptr<risk::RiskManager> risk_;  // large fixed state: on the heap, made once
  risk::InstrumentRules rules_{};
  Price stop_{};    // of the open position
  Price target_{};  // of the open position
  Amount equity_at_entry_{};
  std::unique_ptr<LatencyHistogram> latency_;  // tens of KB: on the heap, made once
  std::unique_ptr<TickRing> ring_;             // 256 KiB, for the pipelined layout
  std::uint64_t warmup_done_ = 0;
  std::uint64_t ticks_done_ = 0;
  std::uint64_t signals_ = 0;
  std::uint64_t rejected_ = 0;
  std::uint64_t vetoed_ = 0;
  std::uint64_t risk_rejected_ = 0;
  std::uint64_t flagged_ticks_ = 0;
  std::uint64_t stops_ = 0;
  std::uint64_t targets_ = 0;
  std::array<std::uint64_t, risk::kRejectReasonCount> rejections_{};
};

}  // namespace kinetic::exec
