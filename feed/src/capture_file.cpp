#include "kinetic/feed/capture_file.hpp"
