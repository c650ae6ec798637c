#pragma once
// Recorder: every message the feed receives, with its local receive time, into a capture
// file (capture_file.hpp) — without the feed thread ever making a system call for it.
//
// The feed thread copies each message into a ByteRing (one memcpy, no allocation, no lock);
// the recorder's own thread drains the ring into a CaptureWriter, which batches the writes
// and syncs on its own schedule. When the ring is full the message is not recorded (the feed
// must never wait on a disk): the drop is counted, and the next record that gets through is
// preceded in the file by a note saying how many were lost there, so a capture never hides
// a gap.
//
// Ownership: owns its ring, its writer and its thread. Lifetime: start() after construction,
// stop() (or the destructor) drains what is queued, closes the file and joins the thread.
// Thread-safety: record() from one producer thread; stop() and the counters from any one
// other thread.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "kinetic/core/byte_ring.hpp"
#include "kinetic/core/types.hpp"
#include "kinetic/feed/capture_file.hpp"

namespace kinetic::feed {

struct RecorderOptions {
  std::size_t ring_bytes = 64U << 20;  ///< hand-off ring between the feed and the writer
  CaptureWriterOptions writer;         ///< how the file is opened and synced
};

class Recorder {
 public:
  /// Opens the capture (throws CaptureFileError like CaptureWriter) and starts the writer
  /// thread.
  Recorder(const std::string& path, RecorderOptions options);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  /// Feed thread: queues one record. False when the ring is full (the record is dropped and
  /// counted) or the payload is larger than the ring can ever hold.
  bool record(RecordKind kind, TimestampNs recv_ts, std::string_view payload,
              std::uint16_t stream = 0) noexcept;

  /// Drains what is queued, closes the file (sync per the options) and joins the thread.
  /// Rethrows a write error the writer thread met. Idempotent.
  void stop();

  /// Records queued by record() so far, and those dropped.
  [[nodiscard]] std::uint64_t queued() const noexcept {
    return queued_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t dropped() const noexcept {
    return dropped_total_.load(std::memory_order_relaxed);
  }
  /// Records the writer thread has appended to the file (notes included).
  [[nodiscard]] std::uint64_t written() const noexcept {
    return written_.load(std::memory_order_relaxed);
  }

 private:
  // The ring record: this header, then the payload.
  struct Header {
    std::int64_t recv_ts;
    std::uint32_t dropped_before;  // messages lost just before this one (ring full)
    std::uint16_t stream;
    RecordKind kind;
    std::uint8_t reserved;
  };
  static_assert(sizeof(Header) == 16);

  void drain_loop();
  bool drain_once();

  ByteRing ring_;
  CaptureWriter writer_;
  std::uint32_t dropped_pending_ = 0;  // feed thread only
  std::atomic<std::uint64_t> queued_{0};
  std::atomic<std::uint64_t> dropped_total_{0};
  std::atomic<std::uint64_t> written_{0};
  std::atomic<bool> stopping_{false};
  std::exception_ptr error_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace kinetic::feed
