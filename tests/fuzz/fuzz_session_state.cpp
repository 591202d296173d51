// The session state parser on arbitrary bytes (a corrupted store row). Must never crash; what
// it accepts must serialise to bytes it accepts again, identically.
// BC_FUZZ_WRITE_CORPUS=<dir> writes valid states as seeds.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "session/session.h"
#include "session_fixture.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("BC_FUZZ_WRITE_CORPUS")) {
    auto [a, b] = bc::fuzz::fixed_states();
    bc::session::Session alice(std::move(a));
    bc::session::Session bob(std::move(b));
    auto r = alice.reserve(8);
    if (!alice.commit_reservation(r).ok()) std::abort();
    bc::util::Bytes payload(bc::wire::kEnvelopePayloadSize, 0);
    (void)alice.seal(payload);
    auto e = alice.seal(payload);
    if (!e.ok() || !bob.open(*e, bc::util::from_unix_seconds(1'800'000'000)).ok()) std::abort();
    int i = 0;
    for (const auto* s : {&alice, &bob}) {
      auto bytes = s->serialize();
      std::ofstream(std::string(dir) + "/state_" + std::to_string(i++), std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto s = bc::session::Session::restore({data, size});
  if (!s.ok()) return 0;
  auto once = s->serialize();
  auto again = bc::session::Session::restore(once.view());
  if (!again.ok()) std::abort();
  if (!again->serialize().equals(once.view())) std::abort();
  return 0;
}
