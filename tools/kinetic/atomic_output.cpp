#include "atomic_output.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace kinetic::tools {

AtomicOutputFile::AtomicOutputFile(std::string path)
    : path_(std::move(path)), temporary_path_(path_ + ".tmp") {
  stream_.open(temporary_path_, std::ios::binary | std::ios::trunc);
  if (!stream_)
    throw std::runtime_error(path_ + ": cannot create " + temporary_path_ + ": " +
                             std::strerror(errno));
}

AtomicOutputFile::~AtomicOutputFile() {
  if (committed_)
    return;
  stream_.close();
  (void)std::remove(temporary_path_.c_str());
}

void AtomicOutputFile::commit() {
  stream_.flush();
  const bool written = static_cast<bool>(stream_);
  stream_.close();
  if (!written || stream_.fail())
    throw std::runtime_error(path_ + ": write error on " + temporary_path_);
  if (std::rename(temporary_path_.c_str(), path_.c_str()) != 0)
    throw std::runtime_error(path_ + ": cannot rename " + temporary_path_ + ": " +
                             std::strerror(errno));
  committed_ = true;
}

}  // namespace kinetic::tools
