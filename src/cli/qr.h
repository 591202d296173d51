// QR codes out of the CLI: drawn in the terminal with Unicode half blocks, two modules per
// character cell (invitations, paper parts), or written as PNG images (paper parts) with
// libqrencode and libpng. libqrencode picks the densest mode for the text: alphanumeric for the
// paper parts (channel/courier_paper.h), bytes for an invitation.
#pragma once

#include <filesystem>
#include <string>

#include "util/result.h"

namespace bc::cli {

util::Result<std::string> render_qr(const std::string& text);

// The QR code's version (1-40) for text at error correction level M.
util::Result<int> qr_version(const std::string& text);

// A PNG of text's QR code (level M; kPngModule pixels a module, a quiet zone of 4 modules, black
// on white), written to a new file at path (mode 0600, refused when path exists).
inline constexpr int kPngModule = 4;
util::Result<void> write_qr_png(const std::string& text, const std::filesystem::path& path);

}  // namespace bc::cli
