#include "kinetic/feed/order_book.hpp"
