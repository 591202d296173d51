#include "channel/relay_channel.h"

namespace bc::channel {

bool RelayChannel::send(util::ByteView envelope) {
  if (!up()) return false;
  return client_.put(mailbox_, capability_, envelope);
}

bool RelayChannel::send_answered(util::ByteView envelope, RelayClient::Answer answer) {
  if (!up()) return false;
  return client_.put(mailbox_, capability_, envelope, std::move(answer));
}

}  // namespace bc::channel
