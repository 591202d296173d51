#include "cli/message_view.h"

#include "cli/format.h"
#include "link/content.h"

namespace bc::cli {

std::string summarize_body(util::ByteView body, std::uint64_t body_size) {
  if (body.empty()) return "(" + format_size(body_size) + ")";
  auto content = link::decode_content(body);
  if (!content.ok()) return "(unreadable body: " + content.error().message + ")";
  if (content->kind == link::ContentKind::file) {
    return "file " + content->file_name + " (" + format_size(content->bytes.size()) + ")";
  }
  std::string text = util::as_string(content->bytes);
  for (auto& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    else if (static_cast<unsigned char>(c) < 0x20) c = '?';
  }
  return text;
}

nlohmann::json body_json(util::ByteView body, std::uint64_t body_size) {
  if (body.empty()) return {{"size", body_size}};
  auto content = link::decode_content(body);
  if (!content.ok()) return {{"kind", "unreadable"}, {"error", content.error().message}};
  if (content->kind == link::ContentKind::file) {
    return {{"kind", "file"}, {"file_name", content->file_name}, {"size", content->bytes.size()}};
  }
  return {{"kind", "text"}, {"text", util::as_string(content->bytes)}, {"size", content->bytes.size()}};
}

}  // namespace bc::cli
