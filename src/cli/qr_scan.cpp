#include "cli/qr_scan.h"

#include <png.h>
#include <zbar.h>

#include <algorithm>
#include <memory>

namespace bc::cli {

bool looks_like_png(util::ByteView file) {
  static constexpr std::uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  return file.size() >= 8 && std::equal(std::begin(kSignature), std::end(kSignature), file.begin());
}

util::Result<std::vector<std::string>> scan_png(util::ByteView file) {
  if (file.size() > kMaxScanFileSize) {
    return util::make_error(util::Errc::limit, "an image of " + std::to_string(file.size()) + " bytes is too large to scan (at most 32 MiB)");
  }
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&image, file.data(), file.size()) == 0) {
    return util::make_error(util::Errc::bad_format, std::string("not a readable PNG image: ") + image.message);
  }
  if (image.width == 0 || image.height == 0 || image.width > kMaxScanSide || image.height > kMaxScanSide ||
      std::size_t{image.width} * image.height > kMaxScanPixels) {
    png_image_free(&image);
    return util::make_error(util::Errc::limit, "an image of " + std::to_string(image.width) + "x" +
                                                   std::to_string(image.height) + " pixels is too large to scan");
  }
  image.format = PNG_FORMAT_GRAY;  // zbar reads 8-bit grey ("Y800")
  std::vector<std::uint8_t> pixels(PNG_IMAGE_SIZE(image));
  if (png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr) == 0) {
    png_image_free(&image);
    return util::make_error(util::Errc::bad_format, std::string("a damaged PNG image: ") + image.message);
  }
  std::unique_ptr<zbar::zbar_image_scanner_t, decltype(&zbar::zbar_image_scanner_destroy)> scanner(
      zbar::zbar_image_scanner_create(), &zbar::zbar_image_scanner_destroy);
  zbar::zbar_image_scanner_set_config(scanner.get(), zbar::ZBAR_NONE, zbar::ZBAR_CFG_ENABLE, 0);
  zbar::zbar_image_scanner_set_config(scanner.get(), zbar::ZBAR_QRCODE, zbar::ZBAR_CFG_ENABLE, 1);
  std::unique_ptr<zbar::zbar_image_t, decltype(&zbar::zbar_image_destroy)> zimage(zbar::zbar_image_create(),
                                                                                  &zbar::zbar_image_destroy);
  zbar::zbar_image_set_format(zimage.get(), zbar_fourcc('Y', '8', '0', '0'));
  zbar::zbar_image_set_size(zimage.get(), image.width, image.height);
  // zbar only reads the pixels; they outlive the image (no cleanup handler).
  zbar::zbar_image_set_data(zimage.get(), pixels.data(), pixels.size(), nullptr);
  if (zbar::zbar_scan_image(scanner.get(), zimage.get()) < 0) {
    return util::make_error(util::Errc::internal, "the QR scanner failed on the image");
  }
  std::vector<std::string> texts;
  for (const zbar::zbar_symbol_t* s = zbar::zbar_image_first_symbol(zimage.get()); s != nullptr;
       s = zbar::zbar_symbol_next(s)) {
    if (zbar::zbar_symbol_get_type(s) != zbar::ZBAR_QRCODE) continue;
    texts.emplace_back(zbar::zbar_symbol_get_data(s), zbar::zbar_symbol_get_data_length(s));
  }
  return texts;
}

}  // namespace bc::cli
