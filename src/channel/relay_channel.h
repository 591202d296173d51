// A relay channel of one link: PUTs into the contact's mailbox at a relay both sides use,
// through our own client of that relay (relay_client.h). Up while our subscription there is
// live (what comes back reaches us through it).
#pragma once

#include "channel/channel.h"
#include "channel/relay_client.h"

namespace bc::channel {

class RelayChannel final : public Channel {
 public:
  // client must outlive the channel.
  RelayChannel(link::ChannelId id, const std::string& relay_name, RelayClient& client,
               const wire::relay::MailboxId& mailbox, const wire::relay::Capability& capability)
      : Channel(id, "relay:" + relay_name, Kind::relay), client_(client), mailbox_(mailbox), capability_(capability) {}

  // Our subscription at the relay came up or went down; returns whether the state changed.
  bool subscription(bool live, const std::string& cause) { return live ? set_up(cause) : set_down(cause); }
  // The contact told us another mailbox at this relay.
  void retarget(const wire::relay::MailboxId& mailbox, const wire::relay::Capability& capability) {
    mailbox_ = mailbox;
    capability_ = capability;
  }

  bool send(util::ByteView envelope) override;
  // send() asking for the relay's answer to this PUT (RelayClient::put): for the HELLO, whose
  // refusal by the relay the node shows (node/hello_puts.cpp).
  bool send_answered(util::ByteView envelope, RelayClient::Answer answer);
  std::chrono::nanoseconds send_wait() override { return client_.put_wait(); }

 private:
  RelayClient& client_;
  wire::relay::MailboxId mailbox_;
  wire::relay::Capability capability_;
};

}  // namespace bc::channel
