// Reading QR codes back: the text of every QR code in a PNG image (a scan or a photo of the
// paper parts, or the files courier export --qr wrote), decoded with libpng and libzbar. Outside
// input: the file and the image are refused above fixed limits before they are decoded.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "util/bytes.h"
#include "util/result.h"

namespace bc::cli {

inline constexpr std::size_t kMaxScanFileSize = std::size_t{32} << 20;
inline constexpr std::uint32_t kMaxScanSide = 12000;                 // pixels, either way
inline constexpr std::size_t kMaxScanPixels = std::size_t{64} << 20;  // width x height

bool looks_like_png(util::ByteView file);

// The QR codes' texts found in a PNG file's bytes (none found: an empty list).
util::Result<std::vector<std::string>> scan_png(util::ByteView file);

}  // namespace bc::cli
