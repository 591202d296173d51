#include "cli/qr.h"

#include <qrencode.h>

#include <memory>

namespace bc::cli {

util::Result<std::string> render_qr(const std::string& text) {
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
  if (!code) return util::make_error(util::Errc::internal, "cannot encode the QR code");
  const int width = code->width;
  constexpr int kQuiet = 2;
  auto dark = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= width || y >= width) return false;
    return (code->data[y * width + x] & 1) != 0;
  };
  // Light text on a dark terminal is the common case: draw light modules as blocks.
  std::string out;
  for (int y = -kQuiet; y < width + kQuiet; y += 2) {
    for (int x = -kQuiet; x < width + kQuiet; ++x) {
      bool top = !dark(x, y);
      bool bottom = !dark(x, y + 1);
      if (top && bottom) out += "\u2588";
      else if (top) out += "\u2580";
      else if (bottom) out += "\u2584";
      else out += " ";
    }
    out += "\n";
  }
  return out;
}

}  // namespace bc::cli
