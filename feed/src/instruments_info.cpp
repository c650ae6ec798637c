#include "kinetic/feed/instruments_info.hpp"
