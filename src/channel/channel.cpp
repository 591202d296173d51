#include "channel/channel.h"

namespace bc::channel {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::direct: return "direct";
    case Kind::relay: return "relay";
    case Kind::courier: return "courier";
  }
  return "?";
}

const char* state_name(State state) { return state == State::up ? "up" : "down"; }

bool Channel::set_up(std::string cause) {
  cause_ = std::move(cause);
  if (state_ == State::up) return false;
  state_ = State::up;
  return true;
}

bool Channel::set_down(std::string cause) {
  cause_ = std::move(cause);
  if (state_ == State::down) return false;
  state_ = State::down;
  return true;
}

}  // namespace bc::channel
