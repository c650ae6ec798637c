// Fuzz target: kinetic's capture file reader over arbitrary bytes (in memory). It must
// either throw CaptureFileError or yield records that lie inside the input, with a torn tail
// that accounts exactly for the bytes after the last good record.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "kinetic/feed/capture_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kinetic::feed;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    CaptureReader reader = CaptureReader::from_memory(bytes, "fuzz");
    CaptureRecord record;
    std::uint64_t previous_end = kCaptureFileHeaderBytes + reader.header().source.size();
    while (reader.next(record)) {
      if (record.offset != previous_end)
        __builtin_trap();  // records are back to back
      const std::uint64_t payload_at = record.offset + kCaptureRecordHeaderBytes;
      if (payload_at + record.payload.size() > size ||
          std::memcmp(record.payload.data(), data + payload_at, record.payload.size()) != 0)
        __builtin_trap();  // the payload is the file's bytes
      // The padding after a payload is readable (ASan checks the reads).
      volatile char sink = 0;
      for (std::size_t i = 0; i < kCapturePayloadPadding; ++i)
        sink = static_cast<char>(sink ^ record.payload.data()[record.payload.size() + i]);
      previous_end = payload_at + record.payload.size();
    }
    if (reader.good_end_offset() != previous_end)
      __builtin_trap();
    if (reader.torn() ? reader.torn_offset() != previous_end ||
                            reader.torn_offset() + reader.torn_bytes() != size
                      : previous_end != size)
      __builtin_trap();  // every byte is a record, or the torn tail
  } catch (const CaptureFileError&) {
  }
  return 0;
}
