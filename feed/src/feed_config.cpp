#include "kinetic/feed/feed_config.hpp"
