#pragma once
// DemoEngine: the end-to-end run. Each tick of a seeded synthetic market goes through the
// calculus engine (derivatives, Kalman filters, 6-case signals, coordinator, drift) into a
// simple trading rule and the paper venue, on one thread (the `fused` layout) or two (the
// `pipelined` one), and the processing time of every tick goes into a latency histogram.
//
// The trading rule: flat, open a position on the side of the combined signal when
// |score| ≥ entry_score, its confidence ≥ min_confidence, and no significant drift opposes
// it; in a position, close it when the combined score turns against it (< 0 for a long,
// > 0 for a short). Later work puts the risk manager and the simulated exchange in
// place of the fixed size and the paper venue; the shape — construct everything up front,
// then step() without allocating — stays.

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "kinetic/core/latency_histogram.hpp"
#include "kinetic/core/spsc_ring.hpp"
#include "kinetic/core/strategy/calculus_engine.hpp"
#include "kinetic/core/thread.hpp"
#include "kinetic/exec/paper_venue.hpp"
#include "kinetic/feed/synthetic_market.hpp"

namespace kinetic::exec {

struct DemoParams {
  feed::SyntheticMarketParams market{};
  std::uint64_t ticks = 200'000;
  std::uint64_t warmup_ticks = 2'000;  ///< ticks that only feed the engine, untimed
  strategy::CalculusParams calculus{};
  double entry_score = 0.75;                 ///< |combined score| that opens a position
  double min_confidence = 0.2;               ///< combined confidence needed to open
  Qty order_qty = Qty::from_raw(1'000'000);  ///< 0.01
  PaperVenueParams venue{};
};

struct DemoSummary {
  std::uint64_t ticks = 0;
  std::uint64_t signals = 0;   ///< orders the trading rule decided to send
  std::uint64_t vetoed = 0;    ///< entries the drift filter refused
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

 private:
  /// Warm-up or timed processing of one tick stamped at `start_ticks`.
  void consume(MarketEvent& event, std::uint64_t start_ticks) noexcept;
  void process(const MarketEvent& event) noexcept;
  [[nodiscard]] std::uint64_t total_ticks() const noexcept {
    return params_.warmup_ticks + params_.ticks;
  }

  using TickRing = SpscRing<MarketEvent, 4096>;

  DemoParams params_;
  feed::SyntheticMarket market_;
  strategy::CalculusEngine engine_;
  PaperVenue venue_;
  std::unique_ptr<LatencyHistogram> latency_;  // tens of KB: on the heap, made once
  std::unique_ptr<TickRing> ring_;             // 256 KiB, for the pipelined layout
  std::uint64_t warmup_done_ = 0;
  std::uint64_t ticks_done_ = 0;
  std::uint64_t signals_ = 0;
  std::uint64_t rejected_ = 0;
  std::uint64_t vetoed_ = 0;
  std::uint64_t next_order_id_ = 1;
};

}  // namespace kinetic::exec
