// util::Trace: stage stamps for a latency budget (docs/benchmarks.md "Latency budget"). When a
// node runs with BC_TRACE_FILE set, a few points on a message's way record one line each:
//
//   <CLOCK_REALTIME in µs since the Unix epoch> <stage> <key>\n
//
// e.g. "1764639000123456 sealed link=washington seq=17 env=9f0c11d2a3b4c5d6". The key is what
// the caller chose (name=value words) to join stages across the two nodes' files.
//
// record() formats the line into a memory buffer under a mutex; a writer thread appends the
// buffer to the file every kFlushInterval, without fsync, so the stamping thread never waits for
// the disk. Off, there is no Trace at all: callers hold a null pointer and test it (a branch).
// Thread-safe: the node's loop and net's I/O thread record into the same Trace.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "util/bytes.h"
#include "util/result.h"

namespace bc::util {

class Trace {
 public:
  static constexpr std::chrono::milliseconds kFlushInterval{50};
  static constexpr const char* kEnvVariable = "BC_TRACE_FILE";

  // Opens path for appending (created 0600 when missing) and starts the writer thread.
  static Result<std::unique_ptr<Trace>> open(const std::string& path);
  // The Trace env_value names (the value of BC_TRACE_FILE); nullptr when it is unset or empty.
  static Result<std::unique_ptr<Trace>> from_env(const char* env_value);

  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;
  // Writes what is buffered and stops the writer.
  ~Trace();

  // CLOCK_REALTIME now, in µs since the Unix epoch (one clock for every process of a machine).
  static std::int64_t now_us();
  // "env=" and the first 8 bytes of an envelope in hex: its header nonce, random per envelope,
  // so the sender's and the receiver's stamps of one envelope share it.
  static std::string envelope_key(ByteView envelope);

  void record(std::string_view stage, std::string_view key);
  void record_at(std::int64_t at_us, std::string_view stage, std::string_view key);
  // Writes what is buffered now (the writer does it every kFlushInterval anyway).
  void flush();

 private:
  explicit Trace(int fd);
  void write_out(std::string& chunk);
  void run_writer();

  int fd_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::string buffer_;
  bool stopping_ = false;
  std::mutex write_mu_;  // one writer of the file at a time (the thread, flush(), the destructor)
  std::thread writer_;
};

}  // namespace bc::util
