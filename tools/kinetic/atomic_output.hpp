#pragma once
// AtomicOutputFile: an output file that appears complete or not at all.
//
// Output goes to "<path>.tmp" in the same directory; commit() flushes it, checks for write
// errors and renames it over <path> (atomic on POSIX file systems). If commit() is never
// reached — an exception, bad input half-way — the destructor removes the temporary file, so
// a failed run never leaves a truncated result under the real name. Tool code: throws
// std::runtime_error naming the file on failure.

#include <fstream>
#include <string>

namespace kinetic::tools {

/// Owns the temporary file until commit(). Not copyable; one thread.
class AtomicOutputFile {
 public:
  /// Creates (truncates) "<path>.tmp". Throws when it cannot be opened.
  explicit AtomicOutputFile(std::string path);
  ~AtomicOutputFile();
  AtomicOutputFile(const AtomicOutputFile&) = delete;
  AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;

  [[nodiscard]] std::ostream& stream() noexcept { return stream_; }

  /// Flushes, closes and renames the temporary file to the final path. Throws on a write or
  /// rename error (the temporary file is then removed).
  void commit();

  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  std::string temporary_path_;
  std::ofstream stream_;
  bool committed_ = false;
};

}  // namespace kinetic::tools
