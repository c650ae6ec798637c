#pragma once
// The machine a figure was measured on: CPU model, kernel and compiler, printed beside
// every result so numbers are never read without their context.
#include <sys/utsname.h>

#include <fstream>
#include <string>
#include <thread>

namespace kinetic::bench {

struct MachineInfo {
  std::string cpu;
  std::string kernel;
  std::string compiler;
  unsigned hardware_threads = 0;
};

inline MachineInfo machine_info() {
  MachineInfo info;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      info.cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  utsname name{};
  if (uname(&name) == 0)
    info.kernel = std::string(name.sysname) + " " + name.release + " " + name.machine;
#if defined(__clang__)
  info.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  info.compiler = "g++ " __VERSION__;
#endif
  info.hardware_threads = std::thread::hardware_concurrency();
  return info;
}

}  // namespace kinetic::bench
