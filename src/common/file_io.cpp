#include "common/file_io.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <cstring>
#include <fstream>
#include <iostream>

#include "common/error.hpp"

namespace climvae {

uint32_t crc32(const void* data, size_t size, uint32_t crc) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

namespace {

// This host's name as it goes into file names: letters, digits, '.' and '_' ('-' would be
// ambiguous before the pid).
const std::string& host_name() {
  static const std::string name = [] {
    char buffer[256] = {};
    std::string out = ::gethostname(buffer, sizeof buffer - 1) == 0 ? buffer : "";
    for (char& c : out)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.') c = '_';
    return out.empty() ? std::string("host") : out;
  }();
  return name;
}

// The parts of a temporary's name after ".tmp-": <host>-<pid>, or <pid> from older versions
// (no host). False when it is neither.
bool temporary_suffix_parts(const std::string& suffix, std::optional<std::string>& host, std::string& pid) {
  const size_t dash = suffix.rfind('-');
  host = dash == std::string::npos ? std::nullopt : std::optional<std::string>(suffix.substr(0, dash));
  pid = suffix.substr(dash == std::string::npos ? 0 : dash + 1);
  return !pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

std::string temporary_path(const std::string& path, long long pid) {
  return path + ".tmp-" + host_name() + "-" + std::to_string(pid);
}

bool is_temporary_path(const std::string& path) {
  const size_t tmp = path.rfind(".tmp-");
  std::optional<std::string> host;
  std::string pid;
  return tmp != std::string::npos && temporary_suffix_parts(path.substr(tmp + 5), host, pid);
}

std::vector<std::string> remove_stale_temporaries(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const std::string prefix = (slash == std::string::npos ? path : path.substr(slash + 1)) + ".tmp-";
  std::vector<std::string> removed;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return removed;  // the writer itself reports an unusable directory
  while (const dirent* entry = ::readdir(d)) {
    const std::string name = entry->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0 || name.size() == prefix.size()) continue;
    std::optional<std::string> host;
    std::string digits;
    if (!temporary_suffix_parts(name.substr(prefix.size()), host, digits) || digits.size() > 9) continue;
    if (host && *host != host_name()) continue;  // another node's run: its pid means nothing here
    const long pid = std::strtol(digits.c_str(), nullptr, 10);
    // kill(pid, 0) fails with ESRCH only when no such process exists (EPERM: alive, not ours).
    if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    const std::string stale = (slash == std::string::npos ? "" : dir) + name;
    if (std::remove(stale.c_str()) == 0) {
      std::cerr << "climvae: removed '" << stale << "', a partial file left by a stopped run (pid " << pid << ")"
                << std::endl;
      removed.push_back(stale);
    }
  }
  ::closedir(d);
  return removed;
}

namespace {

// rename() that fails with EEXIST instead of replacing an existing `to`.
int rename_no_replace(const char* from, const char* to) {
  if (::renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return -1;
  // The file system has no RENAME_NOREPLACE (some network file systems): link() refuses an
  // existing name as atomically; the temporary name is then dropped.
  if (::link(from, to) == 0) {
    ::unlink(from);
    return 0;
  }
  if (errno != EPERM && errno != ENOTSUP && errno != ENOSYS) return -1;
  // Nor hard links (FAT, some FUSE mounts): check, then rename -- the one window left open.
  struct stat info {};
  if (::stat(to, &info) == 0) {
    errno = EEXIST;
    return -1;
  }
  return std::rename(from, to);
}

}  // namespace

void require_output_location(const std::string& path, const std::string& what) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  struct stat info {};
  require(::stat(dir.c_str(), &info) == 0 && S_ISDIR(info.st_mode),
          what + " '" + path + "': its directory '" + dir + "' does not exist");
  // Found now rather than when the result of hours of training is to be written.
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw Error(what + " '" + path + "': its directory '" + dir + "' is not writable (" + std::strerror(errno) + ")");
  require_regular_or_absent(path, what);
}

namespace {

// What a path that is not a regular file is, for messages.
const char* kind_of(mode_t mode) {
  return S_ISDIR(mode) ? "a directory" : S_ISLNK(mode) ? "a symbolic link" : S_ISFIFO(mode) ? "a FIFO"
         : S_ISCHR(mode) || S_ISBLK(mode) ? "a device" : "a special file";
}

}  // namespace

void require_regular_or_absent(const std::string& path, const std::string& what) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0 || S_ISREG(info.st_mode)) return;
  throw Error(what + " '" + path + "' is " + kind_of(info.st_mode) +
              ", not a regular file: climvae replaces only regular files (give the path of a file)");
}

void require_regular_input(const std::string& path, const std::string& what) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 || S_ISREG(info.st_mode)) return;
  throw Error(what + " '" + path + "' is " + kind_of(info.st_mode) + ", not a regular file");
}

void commit_file(const std::string& temporary, const std::string& path, bool replace) {
  try {
    require_regular_or_absent(path, "output");
  } catch (...) {
    std::remove(temporary.c_str());
    throw;
  }
  const int moved = replace ? std::rename(temporary.c_str(), path.c_str())
                            : rename_no_replace(temporary.c_str(), path.c_str());
  if (moved == 0) return;
  const int error = errno;
  std::remove(temporary.c_str());
  if (error == EEXIST)
    throw Error("'" + path + "' exists (another run wrote it while this one worked?); it was left as it is and " +
                "this run's result was discarded (give --overwrite to replace it)");
  throw Error("cannot move '" + temporary + "' to '" + path + "': " + std::strerror(error));
}

void write_file_atomically(const std::string& path, const std::string& what, bool replace,
                           const std::function<void(std::ostream&)>& write) {
  remove_stale_temporaries(path);
  const std::string tmp = temporary_path(path, ::getpid());
  try {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    require(out.good(), "cannot write " + what + " '" + tmp + "'");
    write(out);
    out.flush();
    require(out.good(), "writing " + what + " '" + tmp + "' failed (disk full?)");
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  try {
    commit_file(tmp, path, replace);
  } catch (const Error& e) {
    throw Error(what + ": " + e.what());
  }
}

}  // namespace climvae
