// Files only this user may read, written whole or not at all: key files of nodes and relays.
#pragma once

#include <filesystem>

#include "util/bytes.h"
#include "util/result.h"

namespace bc::util {

// Writes content to a new file at path with mode 0600: to a temporary first, fsynced, then
// linked into place (refused with already_exists when path exists, so an existing key is never
// replaced), and the folder fsynced. A crash leaves no file or a whole one.
Result<void> write_private_file(const std::filesystem::path& path, ByteView content);

}  // namespace bc::util
