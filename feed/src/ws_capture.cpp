#include "kinetic/feed/ws_capture.hpp"
