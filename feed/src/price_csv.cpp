#include "kinetic/feed/price_csv.hpp"
