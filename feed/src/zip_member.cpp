#include "kinetic/feed/zip_member.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace kinetic::feed {
namespace {

constexpr std::uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr std::uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr std::uint32_t kEndSignature = 0x06054b50;
constexpr std::uint32_t kZip64EndSignature = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr std::size_t kEndRecordBytes = 22;
constexpr std::size_t kChunkBytes = std::size_t{1} << 20;

std::uint16_t u16(const unsigned char* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t u32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
std::uint64_t u64(const unsigned char* p) {
  return static_cast<std::uint64_t>(u32(p)) | (static_cast<std::uint64_t>(u32(p + 4)) << 32);
}

struct FileCloser {
  void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File open_file(const std::string& path) {
  File file(std::fopen(path.c_str(), "rb"));
  if (!file)
    throw ZipError(path + ": cannot open: " + std::strerror(errno));
  return file;
}

std::uint64_t file_size(std::FILE* file, const std::string& path) {
  if (::fseeko(file, 0, SEEK_END) != 0)
    throw ZipError(path + ": cannot seek: " + std::strerror(errno));
  const off_t size = ::ftello(file);
  if (size < 0)
    throw ZipError(path + ": cannot tell size: " + std::strerror(errno));
  return static_cast<std::uint64_t>(size);
}

// Reads exactly `size` bytes at `offset`.
std::vector<unsigned char> read_at(std::FILE* file, const std::string& path, std::uint64_t offset,
                                   std::size_t size) {
  std::vector<unsigned char> bytes(size);
  if (::fseeko(file, static_cast<off_t>(offset), SEEK_SET) != 0 ||
      std::fread(bytes.data(), 1, size, file) != size)
    throw ZipError(path + ": truncated zip (cannot read " + std::to_string(size) +
                   " bytes at offset " + std::to_string(offset) + ")");
  return bytes;
}

std::vector<ZipEntry> read_central_directory(std::FILE* file, const std::string& path) {
  const std::uint64_t size = file_size(file, path);
  if (size < kEndRecordBytes)
    throw ZipError(path + ": not a zip file (too short)");
  const std::size_t tail_size =
      static_cast<std::size_t>(std::min<std::uint64_t>(size, kEndRecordBytes + 0xFFFF));
  const std::uint64_t tail_offset = size - tail_size;
  const std::vector<unsigned char> tail = read_at(file, path, tail_offset, tail_size);
  // The end record is the last signature that leaves room for the record itself.
  std::size_t end_at = tail_size - kEndRecordBytes + 1;
  bool found = false;
  while (end_at-- > 0) {
    if (u32(&tail[end_at]) == kEndSignature) {
      found = true;
      break;
    }
  }
  if (!found)
    throw ZipError(path + ": not a zip file (no end of central directory)");
  const unsigned char* end = &tail[end_at];
  std::uint64_t entries = u16(end + 10);
  std::uint64_t directory_size = u32(end + 12);
  std::uint64_t directory_offset = u32(end + 16);
  if (u16(end + 4) != 0 || u16(end + 6) != 0)
    throw ZipError(path + ": multi-disk zip archives are not supported");
  if (entries == 0xFFFF || directory_size == 0xFFFFFFFF || directory_offset == 0xFFFFFFFF) {
    const std::uint64_t end_offset = tail_offset + end_at;
    if (end_offset < 20)
      throw ZipError(path + ": Zip64 locator missing");
    const std::vector<unsigned char> locator = read_at(file, path, end_offset - 20, 20);
    if (u32(locator.data()) != kZip64LocatorSignature)
      throw ZipError(path + ": Zip64 locator missing");
    const std::vector<unsigned char> end64 = read_at(file, path, u64(&locator[8]), 56);
    if (u32(end64.data()) != kZip64EndSignature)
      throw ZipError(path + ": Zip64 end of central directory missing");
    entries = u64(&end64[32]);
    directory_size = u64(&end64[40]);
    directory_offset = u64(&end64[48]);
  }
  if (directory_offset > size || directory_size > size - directory_offset)
    throw ZipError(path + ": central directory outside the file");
  const std::vector<unsigned char> directory =
      read_at(file, path, directory_offset, static_cast<std::size_t>(directory_size));
  std::vector<ZipEntry> result;
  std::size_t at = 0;
  for (std::uint64_t i = 0; i < entries; ++i) {
    if (directory.size() - at < 46 || u32(&directory[at]) != kCentralHeaderSignature)
      throw ZipError(path + ": damaged central directory at entry " + std::to_string(i));
    const unsigned char* h = &directory[at];
    ZipEntry entry;
    entry.flags = u16(h + 8);
    entry.method = u16(h + 10);
    entry.crc32 = u32(h + 16);
    entry.compressed_size = u32(h + 20);
    entry.uncompressed_size = u32(h + 24);
    const std::size_t name_size = u16(h + 28);
    const std::size_t extra_size = u16(h + 30);
    const std::size_t comment_size = u16(h + 32);
    entry.local_header_offset = u32(h + 42);
    if (directory.size() - at - 46 < name_size + extra_size + comment_size)
      throw ZipError(path + ": damaged central directory at entry " + std::to_string(i));
    entry.name.assign(reinterpret_cast<const char*>(h + 46), name_size);
    // Zip64 extended information: the 64-bit values of the fields saturated above, in order.
    const unsigned char* extra = h + 46 + name_size;
    std::size_t extra_at = 0;
    while (extra_size - extra_at >= 4) {
      const std::uint16_t id = u16(extra + extra_at);
      const std::size_t field_size = u16(extra + extra_at + 2);
      if (extra_size - extra_at - 4 < field_size)
        break;
      if (id == 0x0001) {
        const unsigned char* value = extra + extra_at + 4;
        std::size_t left = field_size;
        for (std::uint64_t* field :
             {&entry.uncompressed_size, &entry.compressed_size, &entry.local_header_offset}) {
          if (*field != 0xFFFFFFFF)
            continue;
          if (left < 8)
            throw ZipError(path + ": damaged Zip64 field of " + entry.name);
          *field = u64(value);
          value += 8;
          left -= 8;
        }
      }
      extra_at += 4 + field_size;
    }
    result.push_back(std::move(entry));
    at += 46 + name_size + extra_size + comment_size;
  }
  return result;
}

bool starts_with(const std::string& path, std::string_view magic) {
  File file(std::fopen(path.c_str(), "rb"));
  if (!file)
    return false;
  char head[4] = {};
  const std::size_t got = std::fread(head, 1, magic.size(), file.get());
  return got == magic.size() && std::string_view(head, got) == magic;
}

}  // namespace

std::vector<ZipEntry> list_zip(const std::string& path) {
  const File file = open_file(path);
  return read_central_directory(file.get(), path);
}

bool looks_like_zip(const std::string& path) {
  return starts_with(path, std::string_view("PK\3\4", 4));
}
bool looks_like_gzip(const std::string& path) {
  return starts_with(path, "\x1f\x8b");
}

struct ZipMember::Impl {
  std::string path;
  File file;
  ZipEntry entry;
  bool gzip = false;
  z_stream inflater{};
  bool inflater_ready = false;
  bool finished = false;
  std::uint64_t compressed_left = 0;  // zip: bytes of the member not yet read from the file
  std::uint64_t compressed_read = 0;
  std::uint64_t produced = 0;
  uLong crc = 0;
  std::vector<unsigned char> input;  // compressed chunk; inflater.next_in points into it
  bool input_eof = false;
  // Lines.
  std::string lines;
  std::size_t line_begin = 0;
  std::size_t line_number = 0;
  bool lines_done = false;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (inflater_ready)
      inflateEnd(&inflater);
  }

  [[nodiscard]] std::string label() const { return gzip ? path : path + ": member " + entry.name; }

  // Refills `input` from the file; false at the end of the compressed data.
  bool refill() {
    std::size_t wanted = kChunkBytes;
    if (!gzip)
      wanted = static_cast<std::size_t>(std::min<std::uint64_t>(wanted, compressed_left));
    if (wanted == 0 || input_eof)
      return false;
    input.resize(kChunkBytes);
    const std::size_t got = std::fread(input.data(), 1, wanted, file.get());
    if (got < wanted && std::ferror(file.get()))
      throw ZipError(label() + ": read error: " + std::strerror(errno));
    if (got == 0) {
      input_eof = true;
      if (!gzip)
        throw ZipError(label() + ": truncated (the file ends inside the member)");
      return false;
    }
    if (!gzip)
      compressed_left -= got;
    compressed_read += got;
    inflater.next_in = input.data();
    inflater.avail_in = static_cast<uInt>(got);
    return true;
  }

  void finish_member() {
    finished = true;
    if (gzip)
      return;  // gzip checks its own CRC and size in its trailer
    if (produced != entry.uncompressed_size)
      throw ZipError(label() + ": size mismatch (" + std::to_string(produced) + " bytes, " +
                     "directory says " + std::to_string(entry.uncompressed_size) + ")");
    if (crc != entry.crc32)
      throw ZipError(label() + ": CRC-32 mismatch");
  }

  std::size_t read(char* out, std::size_t size) {
    if (finished || size == 0)
      return 0;
    size = std::min<std::size_t>(size, 1U << 30);
    std::size_t got = 0;
    if (!gzip && entry.method == 0) {  // stored
      while (got == 0) {
        if (inflater.avail_in == 0 && !refill()) {
          finish_member();
          return 0;
        }
        got = std::min<std::size_t>(size, inflater.avail_in);
        std::memcpy(out, inflater.next_in, got);
        inflater.next_in += got;
        inflater.avail_in -= static_cast<uInt>(got);
      }
    } else {
      inflater.next_out = reinterpret_cast<Bytef*>(out);
      inflater.avail_out = static_cast<uInt>(size);
      while (inflater.avail_out == size) {
        if (inflater.avail_in == 0 && !refill()) {
          if (gzip && produced > 0 && !inflater_mid_stream) {
            finished = true;
            return 0;
          }
          throw ZipError(label() + ": truncated compressed data");
        }
        const int status = inflate(&inflater, Z_NO_FLUSH);
        if (status == Z_STREAM_END) {
          got = size - inflater.avail_out;
          account(out, got);
          if (gzip) {
            // Another gzip member may follow (concatenated files).
            inflater_mid_stream = false;
            if (inflateReset(&inflater) != Z_OK)
              throw ZipError(label() + ": inflateReset failed");
            if (got == 0)
              continue;
            return got;
          }
          finish_member();
          return got;
        }
        if (status != Z_OK && status != Z_BUF_ERROR)
          throw ZipError(label() + ": corrupt compressed data (" +
                         (inflater.msg != nullptr ? inflater.msg : "zlib error") + ")");
        inflater_mid_stream = true;
      }
      got = size - inflater.avail_out;
      account(out, got);
      return got;
    }
    account(out, got);
    return got;
  }
  bool inflater_mid_stream = false;

  void account(const char* out, std::size_t size) {
    if (size == 0)
      return;
    produced += size;
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(out), static_cast<uInt>(size));
  }

  bool next_line(std::string_view& line) {
    for (;;) {
      const std::size_t newline = lines.find('\n', scan_from);
      if (newline != std::string::npos) {
        std::size_t stop = newline;
        if (stop > line_begin && lines[stop - 1] == '\r')
          --stop;
        line = std::string_view(lines).substr(line_begin, stop - line_begin);
        line_begin = newline + 1;
        scan_from = line_begin;
        ++line_number;
        return true;
      }
      if (lines_done) {
        if (line_begin == lines.size())
          return false;
        std::size_t stop = lines.size();
        if (lines[stop - 1] == '\r')
          --stop;
        line = std::string_view(lines).substr(line_begin, stop - line_begin);
        line_begin = lines.size();
        scan_from = line_begin;
        ++line_number;
        return true;
      }
      lines.erase(0, line_begin);  // keep only the unfinished line
      scan_from = lines.size();
      line_begin = 0;
      const std::size_t old_size = lines.size();
      lines.resize(old_size + kChunkBytes);
      const std::size_t got = read(lines.data() + old_size, kChunkBytes);
      lines.resize(old_size + got);
      if (got == 0)
        lines_done = true;
    }
  }
  std::size_t scan_from = 0;
};

ZipMember::ZipMember(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
ZipMember::ZipMember(ZipMember&&) noexcept = default;
ZipMember& ZipMember::operator=(ZipMember&&) noexcept = default;
ZipMember::~ZipMember() = default;

ZipMember ZipMember::open(const std::string& path, std::string_view member) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->file = open_file(path);
  const std::vector<ZipEntry> entries = read_central_directory(impl->file.get(), path);
  if (member.empty()) {
    if (entries.size() != 1)
      throw ZipError(path + ": " + std::to_string(entries.size()) + " members: name one");
    impl->entry = entries.front();
  } else {
    const auto found = std::find_if(entries.begin(), entries.end(),
                                    [&](const ZipEntry& e) { return e.name == member; });
    if (found == entries.end())
      throw ZipError(path + ": no member " + std::string(member));
    impl->entry = *found;
  }
  const ZipEntry& entry = impl->entry;
  if ((entry.flags & 1U) != 0)
    throw ZipError(impl->label() + ": encrypted members are not supported");
  if (entry.method != 0 && entry.method != 8)
    throw ZipError(impl->label() + ": unsupported method " + std::to_string(entry.method));
  const std::vector<unsigned char> local =
      read_at(impl->file.get(), path, entry.local_header_offset, 30);
  if (u32(local.data()) != kLocalHeaderSignature)
    throw ZipError(impl->label() + ": no local file header at offset " +
                   std::to_string(entry.local_header_offset));
  const std::uint64_t data_offset =
      entry.local_header_offset + 30 + u16(&local[26]) + u16(&local[28]);
  if (::fseeko(impl->file.get(), static_cast<off_t>(data_offset), SEEK_SET) != 0)
    throw ZipError(impl->label() + ": cannot seek to the data");
  impl->compressed_left = entry.compressed_size;
  if (entry.method == 8) {
    if (inflateInit2(&impl->inflater, -MAX_WBITS) != Z_OK)
      throw ZipError(impl->label() + ": inflateInit2 failed");
    impl->inflater_ready = true;
  }
  return ZipMember(std::move(impl));
}

ZipMember ZipMember::open_gzip(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->gzip = true;
  impl->file = open_file(path);
  impl->entry.name = path;
  impl->entry.method = 8;
  if (inflateInit2(&impl->inflater, MAX_WBITS + 16) != Z_OK)
    throw ZipError(path + ": inflateInit2 failed");
  impl->inflater_ready = true;
  return ZipMember(std::move(impl));
}

std::size_t ZipMember::read(char* out, std::size_t size) {
  return impl_->read(out, size);
}
bool ZipMember::next_line(std::string_view& line) {
  return impl_->next_line(line);
}
std::size_t ZipMember::line_number() const noexcept {
  return impl_->line_number;
}
const ZipEntry& ZipMember::entry() const noexcept {
  return impl_->entry;
}
std::uint64_t ZipMember::compressed_read() const noexcept {
  return impl_->compressed_read;
}
const std::string& ZipMember::path() const noexcept {
  return impl_->path;
}

}  // namespace kinetic::feed
