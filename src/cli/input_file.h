// Reading a file the operator names on the command line (a record, a disclosure), or stdin for
// "-": whole, at most max bytes, with the reason when it cannot be read (no such file, a folder,
// no permission, too large) so the message says what to fix.
#pragma once

#include <cstddef>
#include <string>

#include "util/result.h"

namespace bc::cli {

// what names the content in messages ("a record").
util::Result<std::string> read_input_file(const std::string& path, std::size_t max, const std::string& what);

}  // namespace bc::cli
