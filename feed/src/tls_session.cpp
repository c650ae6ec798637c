#include "kinetic/feed/tls_session.hpp"
