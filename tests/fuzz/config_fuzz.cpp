// libFuzzer target: arbitrary bytes as a configuration file. Refusing the input with a
// ConfigError is the expected failure; a crash, a sanitizer report or any other exception
// (including toml::parse_error escaping) is a bug.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kinetic/core/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);  // NOLINT: bytes as text
  static const kinetic::Environment no_variables = kinetic::empty_environment();
  try {
    const kinetic::Config config =
        kinetic::load_config_from_string(text, "fuzz.toml", no_variables);
    // Whatever was accepted must write back as a document that loads to the same config.
    const std::string written = kinetic::to_toml(config);
    if (!(kinetic::load_config_from_string(written, "written.toml", no_variables) == config)) {
      __builtin_trap();
    }
  } catch (const kinetic::ConfigError& error) {
    // Every refusal names its source.
    if (std::string_view(error.what()).find("fuzz.toml") == std::string_view::npos &&
        std::string_view(error.what()).find("environment") == std::string_view::npos) {
      __builtin_trap();
    }
  }
  return 0;
}
