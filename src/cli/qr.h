// Draws text as a QR code with Unicode half blocks, two modules per character cell, so an
// invitation can be scanned off a terminal.
#pragma once

#include <string>

#include "util/result.h"

namespace bc::cli {

util::Result<std::string> render_qr(const std::string& text);

}  // namespace bc::cli
