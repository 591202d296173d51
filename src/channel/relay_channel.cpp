#include "channel/relay_channel.h"

namespace bc::channel {

bool RelayChannel::send(util::ByteView envelope) {
  if (!up()) return false;
  return client_.put(mailbox_, capability_, envelope);
}

}  // namespace bc::channel
