#include "kinetic/feed/websocket.hpp"
