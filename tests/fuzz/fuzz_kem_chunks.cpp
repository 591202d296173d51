// KEM_CHUNK frames of the PQ ratchet step (session/pq_ratchet.h) from the fuzzer, handed to a
// session of a hybrid start in each phase of an exchange. The first input byte picks the session
// snapshot, the rest is parsed as frames and every KEM_CHUNK among them goes to the session. Must
// never crash; whatever the chunks did, the state must round-trip through the store encoding
// byte for byte, and a chunk the session refused must have changed nothing.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <variant>
#include <vector>

#include "session/session.h"
#include "support/session_pair.h"
#include "wire/frame_codec.h"

using namespace bc;

namespace {

const util::WallTime kNow = util::from_unix_seconds(1'800'000'000);

// Serialised sessions met on the way through two exchanges: both sides before anything, the owner
// with its key out, the encapsulator with its ciphertext out, the owner waiting to mix, and the
// same of the second exchange with the roles swapped.
std::vector<crypto::SecureBuffer> make_snapshots() {
  const auto pair = test::make_session_pair(/*hybrid=*/true);
  session::Session sides[2] = {session::Session::restore(pair.invitee_state).value(),
                               session::Session::restore(pair.inviter_state).value()};
  std::vector<crypto::SecureBuffer> out;  // SecureBuffer moves only: no initializer list
  out.push_back(sides[0].serialize());
  out.push_back(sides[1].serialize());
  util::Bytes payload(wire::kEnvelopePayloadSize, 0);
  int last_phase[2] = {0, 0};
  for (int round = 0; round < 1000 && sides[0].pq_epoch() < 2; ++round) {
    for (int from = 0; from < 2; ++from) {
      auto& tx = sides[from];
      auto& rx = sides[1 - from];
      auto r = tx.reserve(1);
      if (!tx.commit_reservation(r).ok()) std::abort();
      auto chunk = tx.pq_chunk(500);
      auto env = tx.seal(payload);
      if (!env.ok() || !rx.open(*env, kNow).ok()) std::abort();
      if (chunk && !rx.on_pq_chunk(*chunk).ok()) std::abort();
      for (int i = 0; i < 2; ++i) {
        const int phase = static_cast<int>(sides[i].state().kem.phase);
        if (phase != last_phase[i]) out.push_back(sides[i].serialize());
        last_phase[i] = phase;
      }
    }
  }
  return out;
}

const std::vector<crypto::SecureBuffer>& snapshots() {
  static const auto s = make_snapshots();
  return s;
}

}  // namespace

// BC_FUZZ_WRITE_CORPUS=<dir> writes the snapshots there: session states of version 2 in every
// phase, seeds for fuzz_session_state.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("BC_FUZZ_WRITE_CORPUS")) {
    int i = 0;
    for (const auto& state : snapshots()) {
      std::ofstream(std::string(dir) + "/pq_state_" + std::to_string(i++), std::ios::binary)
          .write(reinterpret_cast<const char*>(state.data()), static_cast<std::streamsize>(state.size()));
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto& all = snapshots();
  auto session = session::Session::restore(all[data[0] % all.size()].view());
  if (!session.ok()) std::abort();
  auto frames = wire::parse_frames({data + 1, size - 1});
  if (!frames.ok()) return 0;
  for (const wire::Frame& f : *frames) {
    const auto* chunk = std::get_if<wire::KemChunkFrame>(&f);
    if (chunk == nullptr) continue;
    const auto before = session->serialize();
    if (!session->on_pq_chunk(*chunk).ok() && !session->serialize().equals(before.view())) std::abort();
    (void)session->pq_chunk(1 + data[0]);  // what it would send next must be makeable
  }
  const auto once = session->serialize();
  auto again = session::Session::restore(once.view());
  if (!again.ok() || !again->serialize().equals(once.view())) std::abort();
  return 0;
}
