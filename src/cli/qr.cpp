#include "cli/qr.h"

#include <png.h>
#include <qrencode.h>

#include <memory>
#include <vector>

#include "util/private_file.h"

namespace bc::cli {
namespace {

using Code = std::unique_ptr<QRcode, decltype(&QRcode_free)>;

util::Result<Code> encode(const std::string& text) {
  Code code(QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
  if (!code) return util::make_error(util::Errc::internal, "cannot encode the QR code (too long for one code?)");
  return code;
}

}  // namespace

util::Result<std::string> render_qr(const std::string& text) {
  auto code = encode(text);
  if (!code.ok()) return code.error();
  const QRcode& qr = **code;
  const int width = qr.width;
  constexpr int kQuiet = 2;
  auto dark = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= width || y >= width) return false;
    return (qr.data[y * width + x] & 1) != 0;
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

util::Result<int> qr_version(const std::string& text) {
  auto code = encode(text);
  if (!code.ok()) return code.error();
  return (*code)->version;
}

util::Result<void> write_qr_png(const std::string& text, const std::filesystem::path& path) {
  auto code = encode(text);
  if (!code.ok()) return code.error();
  const QRcode& qr = **code;
  constexpr int kQuiet = 4;
  const int side = (qr.width + 2 * kQuiet) * kPngModule;
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(side) * static_cast<std::size_t>(side), 0xff);
  for (int y = 0; y < qr.width; ++y) {
    for (int x = 0; x < qr.width; ++x) {
      if ((qr.data[y * qr.width + x] & 1) == 0) continue;
      for (int dy = 0; dy < kPngModule; ++dy) {
        const std::size_t row = static_cast<std::size_t>((y + kQuiet) * kPngModule + dy) * static_cast<std::size_t>(side);
        for (int dx = 0; dx < kPngModule; ++dx) pixels[row + static_cast<std::size_t>((x + kQuiet) * kPngModule + dx)] = 0;
      }
    }
  }
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(side);
  image.height = static_cast<png_uint_32>(side);
  image.format = PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  if (png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), side, nullptr) == 0) {
    png_image_free(&image);
    return util::make_error(util::Errc::internal, std::string("cannot make the PNG: ") + image.message);
  }
  util::Bytes png(size);
  if (png_image_write_to_memory(&image, png.data(), &size, 0, pixels.data(), side, nullptr) == 0) {
    png_image_free(&image);
    return util::make_error(util::Errc::internal, std::string("cannot make the PNG: ") + image.message);
  }
  png.resize(size);
  return util::write_private_file(path, png);
}

}  // namespace bc::cli
