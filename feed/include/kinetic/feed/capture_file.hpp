#pragma once
// kinetic's own capture file: what the recorder receives, kept for replay.
//
// FORMAT, version 1. Every integer is little-endian and fixed-width; there is no padding.
//
// File header (32 bytes + the source description), written once when the file is created:
//   offset  size  field
//        0     8  magic: 89 4B 43 41 50 0D 0A 1A  ("\x89KCAP\r\n\x1a", after PNG: the high
//                 byte catches 7-bit transfers, CR LF catches line-ending conversion, 1A stops
//                 a `type` on Windows)
//        8     2  format version (u16) = 1
//       10     2  header flags (u16) = 0; a reader refuses any other value
//       12     4  source description length D (u32), at most kMaxSourceBytes
//       16     8  creation time (i64), Unix ns, UTC
//       24     4  header CRC-32 (u32) over bytes [0, 24) followed by the D description bytes
//       28     4  reserved (u32) = 0
//       32     D  source description: free UTF-8 text (URL, topics, "imported from ...")
// Records follow at offset 32 + D, back to back, until the end of the file. Each record:
//   offset  size  field
//        0     4  payload length N (u32), at most kMaxPayloadBytes
//        4     4  record CRC-32 (u32) over bytes [0, 4) followed by bytes [8, 24 + N), i.e.
//                 everything in the record except the CRC itself (the length included)
//        8     8  local receive time (i64), Unix ns (CLOCK_REALTIME when recorded live)
//       16     1  kind (u8): RecordKind below
//       17     1  record flags (u8) = 0, reserved
//       18     2  stream (u16): which connection, numbered by the writer (0 when only one)
//       20     4  reserved (u32) = 0
//       24     N  payload bytes
// A record is therefore 24 + N bytes. The payload of each kind:
//   text_message       the WebSocket text frame's bytes as received (a Bybit JSON message)
//   binary_message     the binary frame's bytes
//   connection_opened  the URL connected to, e.g. "wss://stream.bybit.com/v5/public/linear"
//   connection_closed  the reason, free text (close code and reason, or the local error)
//   note               free text: a gap ("reconnecting: 3 s without data"), a marker
// Readers yield records of unknown kinds as they are (their kind value is kept), so a newer
// writer's kinds do not break an older reader; a new header layout bumps the version.
//
// CRC: CRC-32 (ISO-HDLC, zlib's crc32, polynomial 0x04C11DB7 reflected) rather than CRC-32C,
// because it is the CRC of zip, gzip and PNG: any tool can verify a record (Python's
// zlib.crc32), the implementation is zlib's tested one that kinetic already links for the
// history zips, and at GB/s it costs nothing next to the disk on the recorder's control
// thread. Both detect every burst error up to 32 bits; CRC-32C's better Hamming distance for
// long messages matters little for a check meant to catch torn and damaged writes.
//
// Crash safety: the writer only appends. A crash can leave a torn last record: its header or
// payload cut short, or the file extended with zeros the data never reached. The reader
// reports such a tail (offset and byte count) and ignores it; every record before it reads
// back intact. Damage anywhere else is an error naming the byte offset, never skipped.
// Appending to a file with a torn tail first truncates the tail, so it never becomes damage
// in the middle.
//
// This is tool / control-thread code (recorder, import, replay): it allocates and throws
// CaptureFileError. It is not for the hot path.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kinetic::feed {

inline constexpr char kCaptureMagic[8] = {'\x89', 'K', 'C', 'A', 'P', '\r', '\n', '\x1a'};
inline constexpr std::uint16_t kCaptureVersion = 1;
inline constexpr std::size_t kCaptureFileHeaderBytes = 32;  ///< without the description
inline constexpr std::size_t kCaptureRecordHeaderBytes = 24;
inline constexpr std::uint32_t kMaxPayloadBytes = 1U << 30;  ///< 1 GiB: larger is damage
inline constexpr std::uint32_t kMaxSourceBytes = 1U << 20;   ///< 1 MiB of description
/// Readable bytes after every payload the reader yields (== simdjson::SIMDJSON_PADDING, which
/// a test checks), so a decoder can parse a payload in place.
inline constexpr std::size_t kCapturePayloadPadding = 64;

/// What a record holds. The values are the on-disk byte and never change.
enum class RecordKind : std::uint8_t {
  text_message = 1,
  binary_message = 2,
  connection_opened = 3,
  connection_closed = 4,
  note = 5,
};

/// "text_message", ... or "unknown".
[[nodiscard]] std::string_view record_kind_name(RecordKind kind) noexcept;

/// A format, I/O or damage error. what() starts with the file name; offset() is the byte
/// offset of the damaged record or field (0 when not about a place in the file).
class CaptureFileError : public std::runtime_error {
 public:
  CaptureFileError(const std::string& message, std::uint64_t offset)
      : std::runtime_error(message), offset_(offset) {}
  [[nodiscard]] std::uint64_t offset() const noexcept { return offset_; }

 private:
  std::uint64_t offset_;
};

/// The file header's contents. Plain value type.
struct CaptureFileHeader {
  std::uint16_t version = kCaptureVersion;
  std::int64_t created_ns = 0;  ///< Unix ns
  std::string source;           ///< free-text description
};

/// One record. Plain value type; `payload` views the reader's buffer and stays valid (with
/// kCapturePayloadPadding readable bytes after it) until the reader's next call.
struct CaptureRecord {
  RecordKind kind = RecordKind::note;  ///< may hold a value outside the enum (a newer kind)
  std::uint16_t stream = 0;
  std::int64_t recv_ts_ns = 0;
  std::string_view payload;
  std::uint64_t offset = 0;  ///< byte offset of the record in the file
};

// --- Encoding: the format's bytes, without I/O (the writer, the importer and tests) ------

/// Appends the file header (32 bytes + description) to `out`. Throws CaptureFileError when
/// the description is longer than kMaxSourceBytes.
void append_capture_header(std::string& out, const CaptureFileHeader& header);

/// Appends one record (24 bytes + payload) to `out`. Throws CaptureFileError when the payload
/// is longer than kMaxPayloadBytes.
void append_capture_record(std::string& out, RecordKind kind, std::int64_t recv_ts_ns,
                           std::string_view payload, std::uint16_t stream = 0);

// --- Writer --------------------------------------------------------------------------------

/// How a CaptureWriter opens its file and when it makes data durable.
struct CaptureWriterOptions {
  enum class Mode : std::uint8_t {
    create,            ///< a new file; fails if it exists
    truncate,          ///< a new file, replacing any
    append_or_create,  ///< append to an existing capture (validated), else create
  };
  Mode mode = Mode::create;
  std::string source;           ///< the header's description (ignored when appending)
  std::int64_t created_ns = 0;  ///< the header's creation time; 0: now
  /// Records are gathered in memory and written with one write(2) when this much is
  /// pending (a larger record is written at once). 0 writes every record immediately.
  std::size_t buffer_bytes = 1U << 20;
  /// >= 0: append() flushes and fdatasync()s once this many ms (CLOCK_MONOTONIC) have passed
  /// since the last sync; 0 syncs on every append. < 0: no timed sync.
  std::int64_t sync_interval_ms = -1;
  bool sync_on_close = true;  ///< close() (and the destructor) fdatasync()s
};

/// Appends records to a capture file. The file is opened with O_APPEND (created 0644, less
/// the umask). A crash loses at most what was not yet flushed and leaves at worst a torn last
/// record, which readers ignore and a later append truncates. After a failed write the
/// writer cuts the file back to its last whole record and refuses further appends.
///
/// Ownership: owns the file descriptor and the buffer. Not thread-safe (one control thread).
/// Movable, not copyable. The destructor closes (flushing; errors swallowed): call close() to
/// see them.
class CaptureWriter {
 public:
  /// Opens `path`. Throws CaptureFileError when it cannot be opened or created, when
  /// creating over an existing file in Mode::create, or when appending to a file that is not
  /// a valid capture (wrong magic or version, damage in the middle). A torn tail is cut off
  /// first (see truncated_tail_bytes()).
  CaptureWriter(const std::string& path, CaptureWriterOptions options);
  CaptureWriter(CaptureWriter&&) noexcept;
  CaptureWriter& operator=(CaptureWriter&&) noexcept;
  CaptureWriter(const CaptureWriter&) = delete;
  CaptureWriter& operator=(const CaptureWriter&) = delete;
  ~CaptureWriter();

  /// Adds one record. Throws CaptureFileError on a write error (or after one, or after
  /// close()), or when the payload is longer than kMaxPayloadBytes.
  void append(RecordKind kind, std::int64_t recv_ts_ns, std::string_view payload,
              std::uint16_t stream = 0);
  /// Writes the buffered records to the file (no fdatasync). Throws on a write error.
  void flush();
  /// flush() and fdatasync(): what was appended so far survives a power cut.
  void sync();
  /// flush(), sync if sync_on_close, close. Idempotent. Throws on an error.
  void close();

  [[nodiscard]] const std::string& path() const noexcept;
  /// Records appended through this writer.
  [[nodiscard]] std::uint64_t records() const noexcept;
  /// Bytes of the file written so far plus those buffered.
  [[nodiscard]] std::uint64_t size() const noexcept;
  /// Records already in the file when it was opened for appending.
  [[nodiscard]] std::uint64_t existing_records() const noexcept;
  /// Bytes of a torn tail cut off when opening for appending (0 if none).
  [[nodiscard]] std::uint64_t truncated_tail_bytes() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// --- Reader --------------------------------------------------------------------------------

/// Iterates the records of a capture, in file order. A file is read with read(2) in large
/// chunks into one padded buffer, so a payload is a view into it (no copy per record); a
/// record larger than the buffer grows it.
///
/// next() stops at the end, or at a torn tail (torn() then tells where). It throws
/// CaptureFileError on damage before the tail: a CRC mismatch in a record that other bytes
/// follow (unless everything after it is zeros: a crash's zero fill), or a length over
/// kMaxPayloadBytes.
///
/// Ownership: owns its file descriptor and buffer; from_memory copies the bytes. Not
/// thread-safe; movable, not copyable.
class CaptureReader {
 public:
  /// Opens `path` and reads the header. Throws CaptureFileError ("PATH: ...") when it cannot
  /// be opened, when the magic is not kCaptureMagic ("not a kinetic capture file"), when the
  /// version is not one this reader knows ("unsupported capture format version N"), when the
  /// header is cut short or its CRC does not match.
  [[nodiscard]] static CaptureReader open(const std::string& path);
  /// The same over bytes in memory (copied); `name` prefixes error messages. For tests and
  /// the fuzzer.
  [[nodiscard]] static CaptureReader from_memory(std::string_view bytes,
                                                 std::string name = "<memory>");

  CaptureReader(CaptureReader&&) noexcept;
  CaptureReader& operator=(CaptureReader&&) noexcept;
  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;
  ~CaptureReader();

  [[nodiscard]] const CaptureFileHeader& header() const noexcept;
  [[nodiscard]] const std::string& name() const noexcept;

  /// The next record in `record`; false at the end of the file or at a torn tail.
  bool next(CaptureRecord& record);

  /// Records yielded so far.
  [[nodiscard]] std::uint64_t records() const noexcept;
  /// Offset just past the last good record yielded (the header's end before any).
  [[nodiscard]] std::uint64_t good_end_offset() const noexcept;
  /// True once next() has met a torn last record (cut short, zero-filled, or a final record
  /// whose CRC does not match).
  [[nodiscard]] bool torn() const noexcept;
  /// Where the torn tail starts (== good_end_offset() then) and how long it is.
  [[nodiscard]] std::uint64_t torn_offset() const noexcept;
  [[nodiscard]] std::uint64_t torn_bytes() const noexcept;

 private:
  struct Impl;
  explicit CaptureReader(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kinetic::feed
