#pragma once
// CSV output of a text field, shared by the tools that write CSV.

#include <string>
#include <string_view>

namespace kinetic::tools {

/// Appends `field` to `line` as one CSV field: as it is, or enclosed in double quotes (with
/// inner quotes doubled) when it holds a separator, a quote or a line break.
inline void append_csv_field(std::string& line, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    line.append(field);
    return;
  }
  line.push_back('"');
  for (const char c : field) {
    if (c == '"')
      line.push_back('"');
    line.push_back(c);
  }
  line.push_back('"');
}

}  // namespace kinetic::tools
