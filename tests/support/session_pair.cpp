#include "support/session_pair.h"

#include <stdexcept>

#include "crypto/random.h"
#include "session/session_start.h"

namespace bc::test {

SessionPair make_session_pair() {
  auto invitee = session::Identity::generate("invitee");
  auto inviter = session::Identity::generate("inviter");
  if (!invitee.ok() || !inviter.ok()) throw std::runtime_error("identity generation failed");
  util::ByteArray<32> secret{};
  crypto::random_fill(secret);
  session::LocalKeys invitee_keys{invitee->signing, invitee->prekey, invitee->prekey_sig};
  session::LocalKeys inviter_keys{inviter->signing, inviter->prekey, inviter->prekey_sig};
  session::PeerKeys pinned{inviter->signing.public_key(), inviter->prekey.public_key(), inviter->prekey_sig};
  auto start = session::start_as_invitee(invitee_keys, pinned, secret, {});
  if (!start.ok()) throw std::runtime_error("start_as_invitee: " + start.error().message);
  util::ByteArray<32> id{};
  std::vector<session::OpenInvitation> open{{id, secret}};
  auto accepted = session::accept_hello(inviter_keys, start->hello, open);
  if (!accepted.ok()) throw std::runtime_error("accept_hello: " + accepted.error().message);
  SessionPair pair{std::move(*invitee), std::move(*inviter), {}, {}, {}};
  auto a = start->session.serialize();
  auto b = accepted->session.serialize();
  pair.invitee_state.assign(a.view().begin(), a.view().end());
  pair.inviter_state.assign(b.view().begin(), b.view().end());
  pair.hello.assign(start->hello.begin(), start->hello.end());
  return pair;
}

}  // namespace bc::test
