#include "kinetic/feed/tcp_socket.hpp"
