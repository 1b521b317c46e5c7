#include "ir/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ir/strings.h"
#include "ir/wire_format.h"

namespace onnx_opt {
namespace {

// Paths are quoted in messages with control characters escaped, so that they stay one line.
std::string Shown(const std::string& path) { return EscapeString(path, EscapeStyle::kControl); }

std::string DirectoryPart(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The descriptor that /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N,
// /proc/thread-self/fd/N or /proc/<this pid>/fd/N stands for.
std::optional<int> DescriptorOf(const std::string& path) {
  if (path == "-" || path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  const std::string own_pid = absl::StrCat("/proc/", ::getpid(), "/fd/");
  for (const std::string& prefix :
       {std::string("/dev/fd/"), std::string("/proc/self/fd/"),
        std::string("/proc/thread-self/fd/"), own_pid}) {
    if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0) {
      int fd = 0;
      if (absl::SimpleAtoi(path.substr(prefix.size()), &fd) && fd >= 0) return fd;
    }
  }
  return std::nullopt;
}

// Follows `path` while it is a symlink, stopping early at a descriptor path (whose link target,
// such as "pipe:[123]", is not a path). Leaves `errno_out` at lstat's errno for the last path.
struct Followed {
  std::string path;
  std::optional<int> descriptor;
  bool exists = false;
  struct stat st {};
  int error = 0;
};

absl::StatusOr<Followed> FollowSymlinks(const std::string& path) {
  Followed f;
  f.path = path;
  for (int hops = 0; hops < 40; ++hops) {
    if ((f.descriptor = DescriptorOf(f.path))) return f;
    if (::lstat(f.path.c_str(), &f.st) != 0) {
      f.error = errno;
      return f;
    }
    if (!S_ISLNK(f.st.st_mode)) {
      f.exists = true;
      return f;
    }
    std::string target(PATH_MAX, '\0');
    ssize_t n = ::readlink(f.path.c_str(), target.data(), target.size());
    if (n < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(Shown(path), ": cannot read symlink: ", std::strerror(errno)));
    }
    target.resize(static_cast<size_t>(n));
    f.path = target.front() == '/' ? target : absl::StrCat(DirectoryPart(f.path), "/", target);
  }
  return absl::FailedPreconditionError(absl::StrCat(Shown(path), ": too many levels of symlinks"));
}

// "<path>" or "<path> (symlink to <final>)" for messages about the final file.
std::string Described(const std::string& path, const std::string& final_path) {
  if (path == final_path) return Shown(path);
  return absl::StrCat(Shown(path), " (symlink to ", Shown(final_path), ")");
}

}  // namespace

std::string FollowedPath(const std::string& path) {
  absl::StatusOr<Followed> followed = FollowSymlinks(path);
  return followed.ok() && !followed->descriptor ? followed->path : path;
}

std::string_view FileKindName(unsigned mode) {
  if (S_ISREG(mode)) return "";
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symlink";
  return "not a regular file";
}

// ------------------------------------------------------------------ output

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
}

absl::Status OutputFile::Open(const std::string& path) {
  path_ = path;
  if (path.empty()) return absl::InvalidArgumentError("empty output path");
  absl::StatusOr<Followed> followed = FollowSymlinks(path);
  if (!followed.ok()) return followed.status();
  final_path_ = followed->path;
  const std::string shown = Described(path, final_path_);

  if (followed->descriptor) {  // straight into a descriptor this process holds
    fd_ = ::fcntl(*followed->descriptor, F_DUPFD_CLOEXEC, 3);
    if (fd_ < 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          shown, ": cannot write to file descriptor ", *followed->descriptor, ": ",
          std::strerror(errno)));
    }
    buffer_.reserve(kBufferSize);
    return absl::OkStatus();
  }
  if (!followed->exists) {
    if (followed->error == ENOTDIR) {
      return absl::FailedPreconditionError(
          absl::StrCat(shown, ": cannot write: part of the path is a file, not a folder"));
    }
    if (followed->error != ENOENT) {
      return absl::FailedPreconditionError(
          absl::StrCat(shown, ": cannot write: ", std::strerror(followed->error)));
    }
    const std::string dir = DirectoryPart(final_path_);
    struct stat dir_st;
    if (::stat(dir.c_str(), &dir_st) != 0 || !S_ISDIR(dir_st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(shown, ": cannot write: folder '", Shown(dir), "' does not exist"));
    }
  } else {
    const mode_t mode = followed->st.st_mode;
    if (S_ISCHR(mode) || S_ISFIFO(mode)) {
      // Written in place: a FIFO open waits for its reader, as any writer's would.
      fd_ = ::open(final_path_.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
      if (fd_ < 0) {
        return absl::FailedPreconditionError(
            absl::StrCat(shown, ": cannot open for writing: ", std::strerror(errno)));
      }
      buffer_.reserve(kBufferSize);
      return absl::OkStatus();
    }
    if (!S_ISREG(mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(shown, ": is ", ToAbsl(FileKindName(mode)), "; cannot write a file there"));
    }
  }

  // A regular file or a new one: a temporary file in the final path's folder, renamed on Commit.
  const std::string dir = DirectoryPart(final_path_);
  const size_t slash = final_path_.rfind('/');
  const std::string base = slash == std::string::npos ? final_path_ : final_path_.substr(slash + 1);
  std::string pattern = absl::StrCat(dir, "/.", base, ".tmp.XXXXXX");
  fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd_ < 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        shown, ": cannot create a file in folder '", Shown(dir), "': ", std::strerror(errno)));
  }
  temp_path_ = pattern;
  if (followed->exists) {
    // The replacement keeps the replaced file's permissions and, where allowed, its owner.
    ::fchmod(fd_, followed->st.st_mode & 07777);
    if (followed->st.st_uid != ::geteuid() || followed->st.st_gid != ::getegid()) {
      (void)::fchown(fd_, followed->st.st_uid, followed->st.st_gid);
    }
  } else {
    // mkstemp creates 0600; give the file the permissions a plain create would.
    mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(fd_, 0666 & ~mask);
  }
  buffer_.reserve(kBufferSize);
  return absl::OkStatus();
}

void OutputFile::Append(std::span<const uint8_t> bytes) {
  if (!status_.ok()) return;
  if (buffer_.size() + bytes.size() > kBufferSize) Flush();
  if (bytes.size() >= kBufferSize) {
    WriteAll(bytes);
  } else {
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  }
}

void OutputFile::AppendVarint(uint64_t value) {
  uint8_t bytes[kMaxVarintBytes];
  Append({bytes, EncodeVarint(value, bytes)});
}

void OutputFile::AppendZeros(int64_t count) {
  static const uint8_t kZeros[4096] = {};
  while (count > 0 && status_.ok()) {
    size_t n = static_cast<size_t>(std::min<int64_t>(count, sizeof(kZeros)));
    Append({kZeros, n});
    count -= static_cast<int64_t>(n);
  }
}

absl::Status OutputFile::Finish() {
  if (fd_ < 0 && status_.ok() && temp_path_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(Shown(path_), ": not open for writing"));
  }
  Flush();
  if (fd_ >= 0 && ::close(fd_) != 0 && status_.ok()) status_ = WriteError();
  fd_ = -1;
  return status_;
}

absl::Status OutputFile::Commit() {
  if (temp_path_.empty()) return status_;
  if (!status_.ok()) return status_;
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(Described(path_, final_path_),
                     ": cannot rename the temporary file into place: ", std::strerror(errno)));
  }
  temp_path_.clear();
  committed_ = true;
  return absl::OkStatus();
}

absl::Status OutputFile::WriteError() const {
  return absl::DataLossError(
      absl::StrCat(Described(path_, final_path_), ": write failed: ", std::strerror(errno)));
}

void OutputFile::Flush() {
  if (!buffer_.empty()) WriteAll(buffer_);
  buffer_.clear();
}

void OutputFile::WriteAll(std::span<const uint8_t> bytes) {
#ifdef MADV_POPULATE_READ
  // Maps the pages of a large range in one call instead of one page fault at a time (this
  // matters for weights mapped from an external data file). Only a hint: failures are ignored.
  constexpr uintptr_t kPage = 4096;
  if (bytes.size() >= 16 * kPage) {
    uintptr_t begin = (reinterpret_cast<uintptr_t>(bytes.data()) + kPage - 1) & ~(kPage - 1);
    uintptr_t end = (reinterpret_cast<uintptr_t>(bytes.data()) + bytes.size()) & ~(kPage - 1);
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ);
  }
#endif
  while (!bytes.empty() && status_.ok()) {
    if (fd_ < 0) {
      status_ = absl::FailedPreconditionError(absl::StrCat(Shown(path_), ": not open for writing"));
      return;
    }
    ssize_t n = ::write(fd_, bytes.data(), std::min<size_t>(bytes.size(), 1 << 30));
    if (n < 0) {
      if (errno == EINTR) continue;
      status_ = WriteError();
      return;
    }
    bytes = bytes.subspan(static_cast<size_t>(n));
  }
}

absl::Status WriteOutputFile(const std::string& path, std::string_view bytes) {
  OutputFile file;
  if (absl::Status s = file.Open(path); !s.ok()) return s;
  file.Append(bytes);
  if (absl::Status s = file.Finish(); !s.ok()) return s;
  return file.Commit();
}

// ------------------------------------------------------------------ input

absl::Status CheckInputFile(const std::string& path) {
  const std::string shown = Shown(path);
  if (path.empty()) return absl::InvalidArgumentError("empty input path");
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int error = errno;
    struct stat link_st;
    if (error == ENOENT && ::lstat(path.c_str(), &link_st) == 0 && S_ISLNK(link_st.st_mode)) {
      return absl::NotFoundError(absl::StrCat(shown, ": cannot read: dangling symlink"));
    }
    if (error == ENOTDIR) {
      return absl::NotFoundError(
          absl::StrCat(shown, ": cannot read: part of the path is a file, not a folder"));
    }
    return absl::NotFoundError(absl::StrCat(shown, ": cannot read: ", std::strerror(error)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(
        shown, ": is ", ToAbsl(FileKindName(st.st_mode)), ", not a regular file",
        S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) ? " (to read a stream, pass '-' and redirect it)"
                                                   : ""));
  }
  if (::access(path.c_str(), R_OK) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(shown, ": cannot read: ", std::strerror(errno)));
  }
  if (st.st_size == 0) return absl::InvalidArgumentError(absl::StrCat(shown, ": empty file"));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadInputFile(const std::string& path) {
  const bool is_stdin = path == "-";
  const std::string shown = is_stdin ? std::string("<stdin>") : Shown(path);
  int fd = 0;
  if (!is_stdin) {
    if (absl::Status s = CheckInputFile(path); !s.ok()) return s;
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      return absl::NotFoundError(absl::StrCat(shown, ": cannot read: ", std::strerror(errno)));
    }
  }
  std::string bytes;
  char chunk[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      if (!is_stdin) ::close(fd);
      return absl::DataLossError(absl::StrCat(shown, ": read error: ", std::strerror(error)));
    }
    if (n == 0) break;
    bytes.append(chunk, static_cast<size_t>(n));
  }
  if (!is_stdin) ::close(fd);
  if (bytes.empty()) return absl::InvalidArgumentError(absl::StrCat(shown, ": empty input"));
  return bytes;
}

}  // namespace onnx_opt
