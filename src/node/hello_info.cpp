#include "node/hello_info.h"

#include "session/identity.h"
#include "util/byte_io.h"

namespace bc::node {

util::Bytes encode_hello_info(const HelloInfo& info) {
  util::ByteWriter w;
  w.var8(util::as_bytes(info.name));
  w.bytes(session::encode_reachability(info.reachability));
  return w.take();
}

util::Result<HelloInfo> decode_hello_info(util::ByteView bytes) {
  util::ByteReader r(bytes);
  HelloInfo info;
  info.name = util::as_string(r.var8(session::kMaxNameLength));
  if (r.failed()) return util::make_error(util::Errc::bad_format, "HELLO info: truncated name");
  BC_TRY_VOID(session::check_name(info.name));
  auto reach = session::decode_reachability(r.bytes(r.remaining()));
  if (!reach.ok()) return reach.error();
  info.reachability = std::move(*reach);
  return info;
}

}  // namespace bc::node
