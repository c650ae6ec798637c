#include "kinetic/feed/capture_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <utility>

namespace kinetic::feed {
namespace {

void put_u16(std::string& out, std::uint16_t value) {
  out.push_back(static_cast<char>(value & 0xFFU));
  out.push_back(static_cast<char>(value >> 8));
}
void put_u32(std::string& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8)
    out.push_back(static_cast<char>((value >> shift) & 0xFFU));
}
void put_u64(std::string& out, std::uint64_t value) {
  for (int shift = 0; shift < 64; shift += 8)
    out.push_back(static_cast<char>((value >> shift) & 0xFFU));
}
void set_u32(std::string& out, std::size_t at, std::uint32_t value) {
  for (std::size_t i = 0; i < 4; ++i)
    out[at + i] = static_cast<char>((value >> (8 * i)) & 0xFFU);
}

std::uint16_t get_u16(const char* p) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(p[0]) |
                                    (static_cast<unsigned>(static_cast<unsigned char>(p[1])) << 8));
}
std::uint32_t get_u32(const char* p) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i)
    value = (value << 8) | static_cast<unsigned char>(p[i]);
  return value;
}
std::uint64_t get_u64(const char* p) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i)
    value = (value << 8) | static_cast<unsigned char>(p[i]);
  return value;
}

std::uint32_t crc32_update(std::uint32_t crc, const char* data, std::size_t size) {
  uLong value = crc;
  // zlib takes uInt lengths: feed huge spans in pieces.
  while (size > 0) {
    const std::size_t piece = std::min<std::size_t>(size, 1U << 30);
    value = ::crc32(value, reinterpret_cast<const Bytef*>(data), static_cast<uInt>(piece));
    data += piece;
    size -= piece;
  }
  return static_cast<std::uint32_t>(value);
}

// CRC of a record laid out as the format says: its length field, then from byte 8 on.
std::uint32_t record_crc(const char* record, std::size_t payload_size) {
  std::uint32_t crc = crc32_update(0, record, 4);
  return crc32_update(crc, record + 8, kCaptureRecordHeaderBytes - 8 + payload_size);
}

std::int64_t realtime_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}
std::int64_t monotonic_ms() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
}

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

std::string_view record_kind_name(RecordKind kind) noexcept {
  switch (kind) {
    case RecordKind::text_message:
      return "text_message";
    case RecordKind::binary_message:
      return "binary_message";
    case RecordKind::connection_opened:
      return "connection_opened";
    case RecordKind::connection_closed:
      return "connection_closed";
    case RecordKind::note:
      return "note";
  }
  return "unknown";
}

void append_capture_header(std::string& out, const CaptureFileHeader& header) {
  if (header.source.size() > kMaxSourceBytes)
    throw CaptureFileError("capture source description of " + std::to_string(header.source.size()) +
                               " bytes is over the limit",
                           0);
  const std::size_t start = out.size();
  out.append(kCaptureMagic, sizeof kCaptureMagic);
  put_u16(out, header.version);
  put_u16(out, 0);
  put_u32(out, static_cast<std::uint32_t>(header.source.size()));
  put_u64(out, static_cast<std::uint64_t>(header.created_ns));
  std::uint32_t crc = crc32_update(0, out.data() + start, 24);
  crc = crc32_update(crc, header.source.data(), header.source.size());
  put_u32(out, crc);
  put_u32(out, 0);
  out.append(header.source);
}

void append_capture_record(std::string& out, RecordKind kind, std::int64_t recv_ts_ns,
                           std::string_view payload, std::uint16_t stream) {
  if (payload.size() > kMaxPayloadBytes)
    throw CaptureFileError(
        "capture record payload of " + std::to_string(payload.size()) + " bytes is over the limit",
        0);
  const std::size_t start = out.size();
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  put_u32(out, 0);  // the CRC, set below
  put_u64(out, static_cast<std::uint64_t>(recv_ts_ns));
  out.push_back(static_cast<char>(kind));
  out.push_back('\0');
  put_u16(out, stream);
  put_u32(out, 0);
  out.append(payload);
  set_u32(out, start + 4, record_crc(out.data() + start, payload.size()));
}

// --- Reader ---------------------------------------------------------------------------------

struct CaptureReader::Impl {
  std::string name;
  int fd = -1;
  bool eof = false;  // the source has nothing more to give
  std::unique_ptr<char[]> buffer;
  std::size_t capacity = 0;       // usable bytes (kCapturePayloadPadding more are allocated)
  std::size_t begin = 0;          // first unconsumed byte in buffer
  std::size_t end = 0;            // one past the last filled byte
  std::uint64_t buffer_base = 0;  // file offset of buffer[0]
  CaptureFileHeader header;
  std::uint64_t records = 0;
  std::uint64_t good_end = 0;
  bool torn = false;
  bool done = false;
  std::uint64_t torn_offset = 0;
  std::uint64_t torn_bytes = 0;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (fd >= 0)
      ::close(fd);
  }

  [[nodiscard]] std::uint64_t offset() const { return buffer_base + begin; }
  [[nodiscard]] std::size_t available() const { return end - begin; }

  void allocate(std::size_t size) {
    std::unique_ptr<char[]> fresh(new char[size + kCapturePayloadPadding]);
    if (available() > 0)
      std::memcpy(fresh.get(), buffer.get() + begin, available());
    std::memset(fresh.get() + size, 0, kCapturePayloadPadding);
    buffer = std::move(fresh);
    capacity = size;
    buffer_base += begin;
    end -= begin;
    begin = 0;
  }

  // Makes at least `wanted` bytes available from `begin`; false when the source ends first
  // (then everything left is available).
  bool ensure(std::size_t wanted) {
    if (available() >= wanted)
      return true;
    if (eof)
      return false;
    if (capacity - begin < wanted) {
      if (capacity >= wanted) {  // room once the consumed bytes are dropped
        std::memmove(buffer.get(), buffer.get() + begin, available());
        buffer_base += begin;
        end -= begin;
        begin = 0;
      } else {
        allocate(std::max(wanted, capacity * 2));
      }
    }
    while (available() < wanted && !eof) {
      const ssize_t got = ::read(fd, buffer.get() + end, capacity - end);
      if (got < 0) {
        if (errno == EINTR)
          continue;
        throw CaptureFileError(name + ": read error: " + errno_text(), buffer_base + end);
      }
      if (got == 0)
        eof = true;
      end += static_cast<std::size_t>(got);
    }
    // Padding after the data must be readable, and stays zero where not yet filled.
    return available() >= wanted;
  }

  // True when every byte from `begin` to the end of the source is zero; counts them.
  bool rest_is_zero(std::uint64_t& bytes) {
    bytes = 0;
    for (;;) {
      const char* data = buffer.get() + begin;
      const std::size_t size = available();
      if (std::any_of(data, data + size, [](char c) { return c != '\0'; }))
        return false;
      bytes += size;
      begin = end;
      if (!ensure(1))
        return true;
    }
  }

  void read_header() {
    if (!ensure(kCaptureFileHeaderBytes)) {
      if (available() >= sizeof kCaptureMagic &&
          std::memcmp(buffer.get() + begin, kCaptureMagic, sizeof kCaptureMagic) != 0)
        throw CaptureFileError(name + ": not a kinetic capture file (wrong magic)", 0);
      throw CaptureFileError(name + ": truncated capture file header (" +
                                 std::to_string(available()) + " of " +
                                 std::to_string(kCaptureFileHeaderBytes) + " bytes)",
                             0);
    }
    const char* h = buffer.get() + begin;
    if (std::memcmp(h, kCaptureMagic, sizeof kCaptureMagic) != 0)
      throw CaptureFileError(name + ": not a kinetic capture file (wrong magic)", 0);
    header.version = get_u16(h + 8);
    if (header.version != kCaptureVersion)
      throw CaptureFileError(name + ": unsupported capture format version " +
                                 std::to_string(header.version) + " (this reader knows " +
                                 std::to_string(kCaptureVersion) + ")",
                             8);
    if (get_u16(h + 10) != 0)
      throw CaptureFileError(name + ": unknown capture header flags", 10);
    const std::uint32_t source_size = get_u32(h + 12);
    if (source_size > kMaxSourceBytes)
      throw CaptureFileError(name + ": capture header description length " +
                                 std::to_string(source_size) + " over the limit",
                             12);
    if (!ensure(kCaptureFileHeaderBytes + source_size))
      throw CaptureFileError(name + ": truncated capture file header (description cut short)",
                             kCaptureFileHeaderBytes);
    h = buffer.get() + begin;
    std::uint32_t crc = crc32_update(0, h, 24);
    crc = crc32_update(crc, h + kCaptureFileHeaderBytes, source_size);
    if (crc != get_u32(h + 24))
      throw CaptureFileError(name + ": capture file header CRC mismatch", 24);
    header.created_ns = static_cast<std::int64_t>(get_u64(h + 16));
    header.source.assign(h + kCaptureFileHeaderBytes, source_size);
    begin += kCaptureFileHeaderBytes + source_size;
    good_end = offset();
  }

  void mark_torn() {
    torn = true;
    torn_offset = offset();
    torn_bytes = available();  // ensure() failed: everything left is in the buffer
    begin = end;
  }

  bool next(CaptureRecord& record) {
    if (torn || done)
      return false;
    if (!ensure(kCaptureRecordHeaderBytes)) {
      if (available() == 0) {
        done = true;
        return false;
      }
      mark_torn();
      return false;
    }
    const std::uint64_t record_offset = offset();
    const std::uint32_t payload_size = get_u32(buffer.get() + begin);
    if (payload_size > kMaxPayloadBytes)
      throw CaptureFileError(name + ": damaged capture record at offset " +
                                 std::to_string(record_offset) + ": length " +
                                 std::to_string(payload_size) + " over the limit",
                             record_offset);
    const std::size_t record_size = kCaptureRecordHeaderBytes + payload_size;
    if (!ensure(record_size)) {
      mark_torn();
      return false;
    }
    const char* r = buffer.get() + begin;
    if (record_crc(r, payload_size) != get_u32(r + 4)) {
      // The last record, or a crash's zero fill from here on: a torn tail. Else damage.
      const bool last = !ensure(record_size + 1);
      std::uint64_t zero_bytes = 0;
      if (last) {
        mark_torn();
        return false;
      }
      if (rest_is_zero(zero_bytes)) {
        torn = true;
        torn_offset = record_offset;
        torn_bytes = zero_bytes;
        return false;
      }
      throw CaptureFileError(name + ": damaged capture record at offset " +
                                 std::to_string(record_offset) + ": CRC mismatch",
                             record_offset);
    }
    record.kind = static_cast<RecordKind>(static_cast<unsigned char>(r[16]));
    record.stream = get_u16(r + 18);
    record.recv_ts_ns = static_cast<std::int64_t>(get_u64(r + 8));
    record.payload = std::string_view(r + kCaptureRecordHeaderBytes, payload_size);
    record.offset = record_offset;
    begin += record_size;
    good_end = offset();
    ++records;
    return true;
  }
};

CaptureReader::CaptureReader(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
CaptureReader::CaptureReader(CaptureReader&&) noexcept = default;
CaptureReader& CaptureReader::operator=(CaptureReader&&) noexcept = default;
CaptureReader::~CaptureReader() = default;

CaptureReader CaptureReader::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->name = path;
  impl->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (impl->fd < 0)
    throw CaptureFileError(path + ": cannot open: " + errno_text(), 0);
  impl->allocate(std::size_t{4} << 20);
  impl->read_header();
  return CaptureReader(std::move(impl));
}

CaptureReader CaptureReader::from_memory(std::string_view bytes, std::string name) {
  auto impl = std::make_unique<Impl>();
  impl->name = std::move(name);
  impl->allocate(bytes.size());
  if (!bytes.empty())
    std::memcpy(impl->buffer.get(), bytes.data(), bytes.size());
  impl->end = bytes.size();
  impl->eof = true;
  impl->read_header();
  return CaptureReader(std::move(impl));
}

const CaptureFileHeader& CaptureReader::header() const noexcept {
  return impl_->header;
}
const std::string& CaptureReader::name() const noexcept {
  return impl_->name;
}
bool CaptureReader::next(CaptureRecord& record) {
  return impl_->next(record);
}
std::uint64_t CaptureReader::records() const noexcept {
  return impl_->records;
}
std::uint64_t CaptureReader::good_end_offset() const noexcept {
  return impl_->good_end;
}
bool CaptureReader::torn() const noexcept {
  return impl_->torn;
}
std::uint64_t CaptureReader::torn_offset() const noexcept {
  return impl_->torn_offset;
}
std::uint64_t CaptureReader::torn_bytes() const noexcept {
  return impl_->torn_bytes;
}

// --- Writer ---------------------------------------------------------------------------------

struct CaptureWriter::Impl {
  std::string path;
  CaptureWriterOptions options;
  int fd = -1;
  std::string buffer;
  std::uint64_t file_size = 0;  // bytes known to be in the file (whole records only)
  std::uint64_t records = 0;
  std::uint64_t existing_records = 0;
  std::uint64_t truncated_tail = 0;
  std::int64_t last_sync_ms = 0;
  bool failed = false;
  bool closed = false;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (fd >= 0)
      ::close(fd);
  }

  [[noreturn]] void fail(const std::string& what) {
    const std::string message = path + ": " + what + ": " + errno_text();
    failed = true;
    // Cut a partial record off so that the file stays readable to its last whole record.
    (void)::ftruncate(fd, static_cast<off_t>(file_size));
    throw CaptureFileError(message, file_size);
  }

  void write_buffer() {
    std::size_t done = 0;
    while (done < buffer.size()) {
      const ssize_t wrote = ::write(fd, buffer.data() + done, buffer.size() - done);
      if (wrote < 0) {
        if (errno == EINTR)
          continue;
        fail("write error");
      }
      done += static_cast<std::size_t>(wrote);
    }
    file_size += buffer.size();
    buffer.clear();
  }

  void check_usable() const {
    if (closed)
      throw CaptureFileError(path + ": capture writer is closed", file_size);
    if (failed)
      throw CaptureFileError(path + ": capture writer failed earlier", file_size);
  }

  void sync() {
    write_buffer();
    if (::fdatasync(fd) != 0)
      fail("fdatasync");
    last_sync_ms = monotonic_ms();
  }

  void create(bool exclusive) {
    fd = ::open(path.c_str(),
                O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC), 0644);
    if (fd < 0)
      throw CaptureFileError(path + ": cannot create: " + errno_text(), 0);
    write_header();
  }

  void write_header() {
    CaptureFileHeader header;
    header.created_ns = options.created_ns != 0 ? options.created_ns : realtime_ns();
    header.source = options.source;
    append_capture_header(buffer, header);
    write_buffer();
  }

  void open_for_append() {
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) {
        create(true);
        return;
      }
      throw CaptureFileError(path + ": cannot open for appending: " + errno_text(), 0);
    }
    struct stat info {};
    if (::fstat(fd, &info) != 0)
      throw CaptureFileError(path + ": cannot stat: " + errno_text(), 0);
    if (info.st_size == 0) {  // created but never written: give it its header
      write_header();
      return;
    }
    std::uint64_t good_end = 0;
    try {
      CaptureReader reader = CaptureReader::open(path);
      CaptureRecord record;
      while (reader.next(record)) {
      }
      existing_records = reader.records();
      good_end = reader.good_end_offset();
      if (reader.torn())
        truncated_tail = reader.torn_bytes();
    } catch (const CaptureFileError& error) {
      throw CaptureFileError(std::string("cannot append: ") + error.what(), error.offset());
    }
    if (truncated_tail != 0 && ::ftruncate(fd, static_cast<off_t>(good_end)) != 0)
      throw CaptureFileError(path + ": cannot cut the torn tail: " + errno_text(), good_end);
    file_size = good_end;
  }
};

CaptureWriter::CaptureWriter(const std::string& path, CaptureWriterOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->options = std::move(options);
  impl_->buffer.reserve(impl_->options.buffer_bytes + 4096);
  switch (impl_->options.mode) {
    case CaptureWriterOptions::Mode::create:
      impl_->create(true);
      break;
    case CaptureWriterOptions::Mode::truncate:
      impl_->create(false);
      break;
    case CaptureWriterOptions::Mode::append_or_create:
      impl_->open_for_append();
      break;
  }
  impl_->last_sync_ms = monotonic_ms();
}

CaptureWriter::CaptureWriter(CaptureWriter&&) noexcept = default;
CaptureWriter& CaptureWriter::operator=(CaptureWriter&& other) noexcept {
  if (this != &other) {
    if (impl_) {
      try {
        close();
      } catch (const CaptureFileError&) {  // NOLINT(bugprone-empty-catch): as the destructor
      }
    }
    impl_ = std::move(other.impl_);
  }
  return *this;
}
CaptureWriter::~CaptureWriter() {
  if (!impl_)
    return;
  try {
    close();
  } catch (const CaptureFileError&) {  // NOLINT(bugprone-empty-catch): documented
  }
}

void CaptureWriter::append(RecordKind kind, std::int64_t recv_ts_ns, std::string_view payload,
                           std::uint16_t stream) {
  Impl& w = *impl_;
  w.check_usable();
  append_capture_record(w.buffer, kind, recv_ts_ns, payload, stream);
  ++w.records;
  if (w.buffer.size() >= w.options.buffer_bytes)
    w.write_buffer();
  if (w.options.sync_interval_ms >= 0 &&
      monotonic_ms() - w.last_sync_ms >= w.options.sync_interval_ms)
    w.sync();
}

void CaptureWriter::flush() {
  impl_->check_usable();
  impl_->write_buffer();
}

void CaptureWriter::sync() {
  impl_->check_usable();
  impl_->sync();
}

void CaptureWriter::close() {
  Impl& w = *impl_;
  if (w.closed)
    return;
  if (w.failed) {
    w.closed = true;
    return;
  }
  w.write_buffer();
  if (w.options.sync_on_close && ::fdatasync(w.fd) != 0)
    w.fail("fdatasync");
  w.closed = true;
  const int fd = std::exchange(w.fd, -1);
  if (::close(fd) != 0)
    throw CaptureFileError(w.path + ": close error: " + errno_text(), w.file_size);
}

const std::string& CaptureWriter::path() const noexcept {
  return impl_->path;
}
std::uint64_t CaptureWriter::records() const noexcept {
  return impl_->records;
}
std::uint64_t CaptureWriter::size() const noexcept {
  return impl_->file_size + impl_->buffer.size();
}
std::uint64_t CaptureWriter::existing_records() const noexcept {
  return impl_->existing_records;
}
std::uint64_t CaptureWriter::truncated_tail_bytes() const noexcept {
  return impl_->truncated_tail;
}

}  // namespace kinetic::feed
