// The one place where the tools open the files they write and read, so that every writer
// (models, external data, text output, reports) and every reader follows the same rules:
//
// Output (OutputFile, WriteOutputFile):
//  - a regular file or a new path is written to a temporary file in the same folder, renamed over
//    the path on Commit (a failure leaves the old file as it was); a replaced file keeps its
//    permission bits (and, where the process may, its owner);
//  - a symlink is followed, and its final target is replaced the same way in the target's folder
//    (the link stays a link); a dangling symlink creates its target;
//  - "-", /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N (also behind symlinks) write to
//    that descriptor of this process; a character device or FIFO is opened and written straight
//    through. Nothing is renamed, truncated, chmod-ed or chown-ed there;
//  - a folder, a block device, a socket, or a path whose folder is missing is a one-line error
//    naming the path, before anything is written.
// Input (CheckInputFile, ReadInputFile): a regular, non-empty file or "-" (standard input); a
// missing path, dangling symlink, folder, FIFO, device or empty file is a one-line error naming
// the path. Nothing here throws.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace onnx_opt {

class OutputFile {
 public:
  OutputFile() = default;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  // Closes, and removes the temporary file unless Commit succeeded.
  ~OutputFile();

  // Decides where `path` leads (see the header comment) and opens it for writing.
  absl::Status Open(const std::string& path);

  // True for a regular file replaced by rename; false for a stream written straight through.
  bool replaces_atomically() const { return !temp_path_.empty() || committed_; }
  // The file the bytes end up in: `path` with symlinks followed (the path for streams).
  const std::string& final_path() const { return final_path_; }

  // Appends to the output; the first error is kept and returned by Finish.
  void Append(std::span<const uint8_t> bytes);
  void Append(std::string_view bytes) {
    Append({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  }
  void AppendVarint(uint64_t value);
  void AppendZeros(int64_t count);

  // Flushes and closes.
  absl::Status Finish();
  // Renames the temporary file over the final path (nothing to do for streams).
  absl::Status Commit();

 private:
  static constexpr size_t kBufferSize = 1 << 20;
  absl::Status WriteError() const;
  void Flush();
  void WriteAll(std::span<const uint8_t> bytes);

  int fd_ = -1;
  std::string path_;        // as given, for messages
  std::string final_path_;  // symlinks followed
  std::string temp_path_;   // empty for streams
  bool committed_ = false;
  std::vector<uint8_t> buffer_;
  absl::Status status_;
};

// Open + Append + Finish + Commit: writes `bytes` to `path` under the rules above.
absl::Status WriteOutputFile(const std::string& path, std::string_view bytes);

// OK when `path` names a readable, non-empty regular file (symlinks followed); otherwise a
// one-line error naming the path and saying what it is instead. Does not open the file (so a
// FIFO never blocks).
absl::Status CheckInputFile(const std::string& path);

// The whole content of `path` after CheckInputFile; "-" reads standard input to its end (an empty
// standard input is an error naming "<stdin>").
absl::StatusOr<std::string> ReadInputFile(const std::string& path);

// `path` with symlinks followed to the final file (unchanged when it is none, or cannot be read).
// External data lives next to that file: SaveModel writes it there and LoadModel reads it there.
std::string FollowedPath(const std::string& path);

// "a folder", "a FIFO", "a character device", ... for diagnostics; "" for a regular file.
std::string_view FileKindName(unsigned mode);

}  // namespace onnx_opt
