// How the CLI shows one message: its content decoded from the body, as a line or as JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "util/bytes.h"

namespace bc::cli {

// One-line summary: the text (first line, shortened), or "file NAME (SIZE)".
std::string summarize_body(util::ByteView body, std::uint64_t body_size);
// {"kind":"text","text":...} or {"kind":"file","file_name":...,"size":...}
nlohmann::json body_json(util::ByteView body, std::uint64_t body_size);

}  // namespace bc::cli
