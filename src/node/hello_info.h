// What the invitee tells the inviter in its HELLO besides keys (which the session carries):
// its party name and how to reach it. Opaque to the session module; parsed strictly here.
//
//   name length u8 ‖ name ‖ reachability (session/reachability.h encoding)
#pragma once

#include "session/reachability.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::node {

struct HelloInfo {
  std::string name;
  session::Reachability reachability;
};

util::Bytes encode_hello_info(const HelloInfo& info);
util::Result<HelloInfo> decode_hello_info(util::ByteView bytes);

}  // namespace bc::node
