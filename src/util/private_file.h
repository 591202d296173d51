// Files only this user may read, written whole or not at all: key files of nodes and relays.
#pragma once

#include <filesystem>
#include <functional>

#include "util/bytes.h"
#include "util/result.h"

namespace bc::util {

// Writes content to a new file at path with mode 0600: to a temporary first, fsynced, then
// linked into place (refused with already_exists when path exists, so an existing key is never
// replaced), and the folder fsynced. A crash leaves no file or a whole one.
Result<void> write_private_file(const std::filesystem::path& path, ByteView content);

// Reads a file written by write_private_file into a buffer the caller allocates (secure memory
// for keys): buffer_for(size) is called once with the file's size. Refused: not_found when
// absent; refused when group or others may read it (says how to fix it); bad_format when its size
// is 0 or above max_size; io for everything else.
Result<void> read_private_file(const std::filesystem::path& path, std::size_t max_size,
                               const std::function<MutableByteView(std::size_t)>& buffer_for);

}  // namespace bc::util
