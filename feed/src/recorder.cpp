#include "kinetic/feed/recorder.hpp"

#include <chrono>
#include <cstring>

namespace kinetic::feed {

Recorder::Recorder(const std::string& path, RecorderOptions options)
    : ring_(options.ring_bytes), writer_(path, options.writer) {
  thread_ = std::thread([this] { drain_loop(); });
}

Recorder::~Recorder() {
  try {
    stop();
  } catch (...) {  // a destructor must not throw; stop() reports the error to callers
  }
}

bool Recorder::record(RecordKind kind, TimestampNs recv_ts, std::string_view payload,
                      std::uint16_t stream) noexcept {
  std::byte* const slot = ring_.reserve(sizeof(Header) + payload.size());
  if (slot == nullptr) {
    ++dropped_pending_;
    dropped_total_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const Header header{recv_ts, dropped_pending_, stream, kind, 0};
  std::memcpy(slot, &header, sizeof header);
  if (!payload.empty())
    std::memcpy(slot + sizeof header, payload.data(), payload.size());
  ring_.commit(sizeof(Header) + payload.size());
  dropped_pending_ = 0;
  queued_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool Recorder::drain_once() {
  const ByteRing::Record record = ring_.peek();
  if (!record.valid)
    return false;
  Header header{};
  std::memcpy(&header, record.bytes.data(), sizeof header);
  if (header.dropped_before > 0) {
    const std::string note = "recorder: " + std::to_string(header.dropped_before) +
                             " message(s) not recorded here (hand-off ring full)";
    writer_.append(RecordKind::note, header.recv_ts, note, header.stream);
    written_.fetch_add(1, std::memory_order_relaxed);
  }
  const std::string_view payload(reinterpret_cast<const char*>(record.bytes.data()) + sizeof header,
                                 record.bytes.size() - sizeof header);
  writer_.append(header.kind, header.recv_ts, payload, header.stream);
  ring_.release();
  written_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void Recorder::drain_loop() {
  try {
    for (;;) {
      // Read the flag before draining: once it is seen set, one more full drain empties
      // everything the producer committed before stop() set it.
      const bool stopping = stopping_.load(std::memory_order_acquire);
      bool any = false;
      while (drain_once())
        any = true;
      if (stopping)
        break;
      if (!any) {
        writer_.flush();  // idle: let what we have reach the file
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    writer_.close();
  } catch (...) {
    error_ = std::current_exception();
  }
}

void Recorder::stop() {
  if (stopped_)
    return;
  stopped_ = true;
  stopping_.store(true, std::memory_order_release);
  if (thread_.joinable())
    thread_.join();
  if (error_)
    std::rethrow_exception(error_);
}

}  // namespace kinetic::feed
