#pragma once
// Streaming reads of one member of a .zip file, and of gzip files, for Bybit's history
// archives (`<date>_<SYMBOL>_ob500.data.zip`, `<SYMBOL><date>.csv.gz`), which are hundreds of
// MB: nothing is read whole into memory.
//
// Zip support: the central directory (found through the end-of-central-directory record,
// Zip64 included) gives each member's method, sizes, CRC and local header offset, so a local
// header that defers its sizes to a data descriptor (flag bit 3) reads the same. Methods:
// stored (0) and deflate (8, zlib raw inflate). Encrypted members, other methods and
// multi-disk archives are refused. The member's CRC-32 and size are checked at its end.
//
// Tool code: allocates, throws ZipError whose message starts with the file name.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kinetic::feed {

/// A zip or gzip format, I/O or integrity error; what() starts with the file name.
class ZipError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One entry of a zip's central directory. Plain value type.
struct ZipEntry {
  std::string name;
  std::uint16_t method = 0;  ///< 0 stored, 8 deflate
  std::uint16_t flags = 0;   ///< general purpose bit flags (bit 0: encrypted, bit 3: descriptor)
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint64_t local_header_offset = 0;
};

/// The central directory of `path`, in order. Throws ZipError when it is not a zip file.
[[nodiscard]] std::vector<ZipEntry> list_zip(const std::string& path);

/// Streams the uncompressed bytes of one zip member (or of a whole gzip file).
///
/// Ownership: owns its FILE and zlib stream. Not thread-safe; movable, not copyable.
class ZipMember {
 public:
  /// Opens member `member` of zip `path`; an empty `member` picks the only member (an error
  /// when there are several). Throws ZipError ("PATH: no member NAME", "PATH: N members:
  /// name one", "PATH: member NAME: unsupported method 12", ...).
  [[nodiscard]] static ZipMember open(const std::string& path, std::string_view member = {});
  /// Opens a gzip file (RFC 1952, concatenated members allowed) as one stream.
  [[nodiscard]] static ZipMember open_gzip(const std::string& path);

  ZipMember(ZipMember&&) noexcept;
  ZipMember& operator=(ZipMember&&) noexcept;
  ZipMember(const ZipMember&) = delete;
  ZipMember& operator=(const ZipMember&) = delete;
  ~ZipMember();

  /// Up to `size` uncompressed bytes into `out`; 0 only at the end. At the end of a zip
  /// member checks its CRC-32 and size. Throws ZipError on corrupt or truncated data.
  std::size_t read(char* out, std::size_t size);

  /// The next line, without '\n' (and without a '\r' before it), in `line`: valid until the
  /// next call. A last line without '\n' is still a line. False at the end.
  bool next_line(std::string_view& line);
  /// 1-based number of the line last returned by next_line(); 0 before the first.
  [[nodiscard]] std::size_t line_number() const noexcept;

  /// The member's directory entry (for gzip: the name is the file's, sizes unknown = 0).
  [[nodiscard]] const ZipEntry& entry() const noexcept;
  /// Compressed bytes consumed so far, for progress reports.
  [[nodiscard]] std::uint64_t compressed_read() const noexcept;
  [[nodiscard]] const std::string& path() const noexcept;

 private:
  struct Impl;
  explicit ZipMember(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

/// True when the file starts with a zip local header ("PK\3\4") or, for gzip, 1F 8B.
[[nodiscard]] bool looks_like_zip(const std::string& path);
[[nodiscard]] bool looks_like_gzip(const std::string& path);

}  // namespace kinetic::feed
