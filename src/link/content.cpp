#include "link/content.h"

#include "util/byte_io.h"

namespace bc::link {

util::Result<void> check_file_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxFileNameLength || name == "." || name == ".." ||
      name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return util::make_error(util::Errc::invalid_argument,
                            "file name '" + std::string(name) + "' is not a plain name of 1 to 255 bytes");
  }
  return {};
}

util::Bytes encode_content(const Content& content) {
  util::ByteWriter w;
  w.u8(static_cast<std::uint8_t>(content.kind));
  if (content.kind == ContentKind::file) w.var8(util::as_bytes(content.file_name));
  w.bytes(content.bytes);
  return w.take();
}

util::Bytes encode_salted_content(const Content& content, const ContentSalt& salt) {
  util::ByteWriter w;
  w.u8(kSaltedContentTag);
  w.bytes(salt);
  w.bytes(encode_content(content));
  return w.take();
}

std::uint64_t salted_body_size(const Content& content) {
  return 1 + kContentSaltSize + 1 + (content.kind == ContentKind::file ? 1 + content.file_name.size() : 0) +
         content.bytes.size();
}

util::Result<Content> decode_content(util::ByteView body) {
  util::ByteReader r(body);
  Content c;
  std::uint8_t kind = r.u8();
  if (r.failed()) return util::make_error(util::Errc::truncated, "message body is empty");
  if (kind == kSaltedContentTag) {
    (void)r.bytes(kContentSaltSize);
    kind = r.u8();
    if (r.failed()) return util::make_error(util::Errc::truncated, "message body: truncated salt");
    c.salted = true;
  }
  if (kind == static_cast<std::uint8_t>(ContentKind::text)) {
    c.kind = ContentKind::text;
  } else if (kind == static_cast<std::uint8_t>(ContentKind::file)) {
    c.kind = ContentKind::file;
    c.file_name = util::as_string(r.var8(kMaxFileNameLength));
    if (r.failed()) return util::make_error(util::Errc::truncated, "message body: truncated file name");
    BC_TRY_VOID(check_file_name(c.file_name));
  } else {
    return util::make_error(util::Errc::bad_format, "message body of unknown kind " + std::to_string(kind));
  }
  auto rest = r.bytes(r.remaining());
  c.bytes.assign(rest.begin(), rest.end());
  return c;
}

}  // namespace bc::link
