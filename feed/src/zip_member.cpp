#include "kinetic/feed/zip_member.hpp"
