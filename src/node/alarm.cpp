#include "node/alarm.h"

#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <cstring>
#include <set>

extern char** environ;

namespace bc::node {

AlarmRunner::~AlarmRunner() {
  for (const auto& [pid, r] : running_) {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
}

void AlarmRunner::fire(const Env& env) {
  if (!command_) return;
  ++runs_;
  if (running_.size() >= kMaxRunningAlarms) {
    ++failures_;
    spdlog::error("alarm command not started: {} earlier ones still run", running_.size());
    return;
  }
  // The node's environment, minus variables we set, plus ours.
  std::set<std::string> ours;
  for (const auto& [k, v] : env) ours.insert(k);
  std::vector<std::string> entries;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string_view::npos && ours.count(std::string(entry.substr(0, eq)))) continue;
    entries.emplace_back(entry);
  }
  for (const auto& [k, v] : env) entries.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : entries) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::string sh = "/bin/sh", dash_c = "-c", cmd = *command_;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  // The alarm's output joins the node's log (stderr); stdin is the node's, usually /dev/null.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, sh.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ++failures_;
    spdlog::error("alarm command could not start: {}", std::strerror(rc));
    return;
  }
  running_[pid] = Running{clock_.monotonic(), false};
}

void AlarmRunner::reap() {
  const auto now = clock_.monotonic();
  for (auto it = running_.begin(); it != running_.end();) {
    int status = 0;
    pid_t r = ::waitpid(it->first, &status, WNOHANG);
    if (r == 0) {
      if (!it->second.killed && now - it->second.started > kAlarmTimeout) {
        spdlog::error("alarm command (pid {}) still runs after {} s: killed", it->first,
                      kAlarmTimeout.count());
        ::kill(it->first, SIGKILL);
        it->second.killed = true;
      }
      ++it;
      continue;
    }
    if (r < 0) {
      // Not our child any more (reaped elsewhere): nothing to learn.
      it = running_.erase(it);
      continue;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !it->second.killed) {
      spdlog::debug("alarm command (pid {}) done", it->first);
    } else {
      ++failures_;
      if (WIFEXITED(status)) {
        spdlog::error("alarm command failed: exit code {}", WEXITSTATUS(status));
      } else if (WIFSIGNALED(status)) {
        spdlog::error("alarm command failed: killed by signal {}", WTERMSIG(status));
      }
    }
    it = running_.erase(it);
  }
}

}  // namespace bc::node
