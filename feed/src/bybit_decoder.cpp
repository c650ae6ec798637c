#include "kinetic/feed/bybit_decoder.hpp"
