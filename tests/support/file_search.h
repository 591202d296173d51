// Searching a file's bytes for given byte strings: how the secrets-at-rest tests look for known
// key bytes in copies of a store and its WAL.
#pragma once

#include <filesystem>
#include <vector>

#include "util/bytes.h"

namespace bc::test {

// False for a file that does not exist (an absent WAL holds nothing).
bool file_contains(const std::filesystem::path& path, util::ByteView needle);

// The indexes of the needles (each at least 8 bytes) found in the file, in one pass over it
// whatever their number.
std::vector<std::size_t> needles_in_file(const std::filesystem::path& path, const std::vector<util::Bytes>& needles);

}  // namespace bc::test
