// Process: runs a binary of ours as a child with its stdout and stderr in a log file,
// for tests that treat the daemon as a user would (signals, exit codes, output).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace ghl::testing {

class Process {
 public:
  // Starts `argv` with the current environment plus `env` (entries with an empty value
  // are removed from the environment).
  Process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
          std::filesystem::path log)
      : log_(std::move(log)) {
    std::map<std::string, std::string> merged;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string kv = *e;
      const size_t eq = kv.find('=');
      if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& [k, v] : env) {
      if (v.empty()) {
        merged.erase(k);
      } else {
        merged[k] = v;
      }
    }
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : merged) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, args;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    for (auto& s : argv_copy) args.push_back(s.data());
    args.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }

  ~Process() {
    if (pid_ > 0 && !exit_code_) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int signo) const { kill(pid_, signo); }

  // The exit code, or nullopt if it did not exit within `timeout`. A death by signal is
  // reported as 128 + signal number, as a shell would.
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    if (exit_code_) return exit_code_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {  // at least one look, so Wait(0ms) tells whether it has exited
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return exit_code_;
      }
      if (std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } while (true);
    return std::nullopt;
  }

  std::string Log() const {
    std::ifstream in(log_);
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
  }

  // How often `needle` occurs in the log (overlapping occurrences counted).
  size_t CountInLog(const std::string& needle) const {
    const std::string log = Log();
    size_t n = 0;
    for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }

  // Waits until the log contains `needle`; false on timeout or if the process exited.
  bool WaitForLog(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Log().find(needle) != std::string::npos) return true;
      if (Wait(std::chrono::milliseconds(0))) return Log().find(needle) != std::string::npos;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// Runs a command to completion; returns its exit code and combined output.
inline std::pair<int, std::string> RunToEnd(const std::vector<std::string>& argv,
                                            const std::map<std::string, std::string>& env,
                                            const std::filesystem::path& log) {
  Process p(argv, env, log);
  auto code = p.Wait(std::chrono::seconds(60));
  return {code.value_or(-1), p.Log()};
}

}  // namespace ghl::testing
