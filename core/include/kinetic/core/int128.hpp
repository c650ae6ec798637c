#pragma once
// 128-bit integers for exact intermediate products of 64-bit fixed-point values.
// GCC and Clang provide them as an extension; __extension__ keeps -Wpedantic quiet.

namespace kinetic {
__extension__ typedef __int128 int128;
__extension__ typedef unsigned __int128 uint128;
}  // namespace kinetic
