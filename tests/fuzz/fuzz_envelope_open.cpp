// Opens arbitrary inputs with a fixed receiving session (Bob of session_fixture.h, which also
// holds a few skipped keys). Must never crash, and a refused input must leave the state
// byte-for-byte unchanged. BC_FUZZ_WRITE_CORPUS=<dir> writes valid envelopes as seeds.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "session/session.h"
#include "session/state_codec.h"
#include "session_fixture.h"
#include "wire/envelope.h"

namespace {

using bc::session::Session;

const bc::util::WallTime kNow = bc::util::from_unix_seconds(1'800'000'000);

struct Fixture {
  bc::session::RatchetState bob;
  std::vector<bc::session::Envelope> valid;
};

Fixture make_fixture() {
  auto [alice_state, bob_state] = bc::fuzz::fixed_states();
  Session alice(std::move(alice_state));
  Session bob(std::move(bob_state));
  auto r = alice.reserve(16);
  if (!alice.commit_reservation(r).ok()) std::abort();
  bc::util::Bytes payload(bc::wire::kEnvelopePayloadSize, 0);
  Fixture f;
  for (std::uint8_t i = 0; i < 6; ++i) {
    payload[0] = i;
    f.valid.push_back(alice.seal(payload).value());
  }
  // Bob receives #3: keys 0..2 become skipped keys, so every path of open() is reachable.
  if (!bob.open(f.valid[3], kNow).ok()) std::abort();
  auto bytes = bob.serialize();
  f.bob = std::move(bc::session::decode_state(bytes.view()).value());
  return f;
}

const Fixture& fixture() {
  static const Fixture f = make_fixture();
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("BC_FUZZ_WRITE_CORPUS")) {
    int i = 0;
    for (const auto& e : fixture().valid) {
      std::ofstream(std::string(dir) + "/valid_" + std::to_string(i++), std::ios::binary)
          .write(reinterpret_cast<const char*>(e.data()), static_cast<std::streamsize>(e.size()));
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Session bob(fixture().bob.clone());
  auto before = bob.serialize();
  auto opened = bob.open({data, size}, kNow);
  if (!opened.ok()) {
    auto after = bob.serialize();
    if (!after.equals(before.view())) std::abort();  // a refusal changed the state
  } else if (opened->size() != bc::wire::kEnvelopePayloadSize) {
    std::abort();
  }
  return 0;
}
