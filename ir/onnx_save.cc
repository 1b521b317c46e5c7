// SaveModel: streams a model into its file (and external data sidecar) under the output rules
// of ir/file_io.h. Tensor bytes go from their buffers straight to the file; the top-level
// initializers are framed by hand in protobuf wire format, in field-number order.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/file_io.h"
#include "ir/onnx_internal.h"
#include "ir/onnx_io.h"
#include "ir/wire_format.h"

namespace onnx_opt {
namespace {

// The fields framed by hand and their wire-format tags (field number << 3 | length-delimited).
constexpr int kModelGraphField = 7;
constexpr int kGraphInitializerField = 5;
constexpr int kTensorRawDataField = 9;
constexpr uint8_t kModelGraphTag = (kModelGraphField << 3) | 2;
constexpr uint8_t kGraphInitializerTag = (kGraphInitializerField << 3) | 2;
constexpr uint8_t kTensorRawDataTag = (kTensorRawDataField << 3) | 2;

std::string FileNameOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string SiblingPath(const std::string& path, const std::string& name) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? name : absl::StrCat(path.substr(0, slash + 1), name);
}

// True when this process has the file (device and inode of `st`) memory-mapped, e.g. a loaded
// model saved over its own file.
bool IsMappedByThisProcess(const struct stat& st) {
  std::FILE* maps = std::fopen("/proc/self/maps", "re");
  if (maps == nullptr) return true;  // cannot tell: assume it is
  bool mapped = false;
  char line[4096];
  while (!mapped && std::fgets(line, sizeof(line), maps) != nullptr) {
    // start-end perms offset major:minor inode [path]
    unsigned dev_major = 0, dev_minor = 0;
    unsigned long long inode = 0;
    if (std::sscanf(line, "%*s %*s %*s %x:%x %llu", &dev_major, &dev_minor, &inode) == 3 &&
        inode != 0) {
      mapped = inode == st.st_ino && dev_major == major(st.st_dev) && dev_minor == minor(st.st_dev);
    }
  }
  std::fclose(maps);
  return mapped;
}

// True when none of the file's cached pages is dirty or under writeback, per cachestat(2)
// (Linux 6.5; not in this distribution's headers). False when that cannot be told.
bool HasOnlyCleanPages(int fd) {
#if defined(__linux__) && defined(SYS_cachestat)
  constexpr long kCachestat = SYS_cachestat;
#elif defined(__linux__)
  constexpr long kCachestat = 451;  // the same number on every architecture
#endif
#ifdef __linux__
  struct {
    uint64_t offset = 0, length = 0;  // length 0: to the end of the file
  } range;
  struct {
    uint64_t cache, dirty, writeback, evicted, recently_evicted;
  } stat{};
  if (::syscall(kCachestat, fd, &range, &stat, 0) != 0) return false;
  return stat.dirty == 0 && stat.writeback == 0;
#else
  return false;
#endif
}

// Drops the page cache of an existing file about to be replaced by a save (only a hint: its
// content is untouched, and it stays complete on disk until the rename). The new file's pages
// are then allocated from memory the kernel has just freed, which in a virtual machine is much
// cheaper to fill than memory that has been idle (writing a 168 MB model took 0.16-0.29 s
// instead of 0.43-0.72 s, docs/performance.md). Skipped when this process maps the file
// (saving over a loaded model), whose weights would otherwise be read from disk again, and when
// the file has dirty pages: dropping starts their writeback, which the rename then waits for,
// whereas replacing a file never written back just discards them.
void DropCacheOfReplacedFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (int64_t{16} << 20) &&
      !IsMappedByThisProcess(st) && HasOnlyCleanPages(fd)) {
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  }
  ::close(fd);
}

}  // namespace

absl::Status SaveModel(const Model& model, const std::string& path, const SaveOptions& options) {
  // Where the output leads decides the sidecar: next to the file the model lands in (a symlink's
  // target) and named after it; none when the model is streamed. The temporary file is removed
  // again if anything below fails.
  OutputFile file;
  if (absl::Status s = file.Open(path); !s.ok()) return s;
  std::string external_name = options.external_data_name.empty()
                                  ? absl::StrCat(FileNameOf(file.final_path()), ".data")
                                  : options.external_data_name;
  if (options.external_data_threshold >= 0 &&
      (external_name.find('/') != std::string::npos || external_name == "..")) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": external data name '", external_name,
                                                   "' must be a file name, not a path"));
  }
  internal::ExportedForSave exported;
  if (absl::Status s = internal::ExportForSave(model, options.external_data_threshold,
                                               external_name, &exported);
      !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
  }

  // The hand-framed parts, in the order protobuf itself writes fields (by number, unknown fields
  // last), so that a canonically serialized model comes back byte for byte:
  // ModelProto = <fields 1-6> graph{<fields 1-4> initializer{<fields 1-8> raw_data <10-...>}...
  // <fields 6-...>} <fields 8-...>.
  struct Framed {
    std::string head, tail;
    std::shared_ptr<const Buffer> raw_data;
    uint64_t size;  // of the TensorProto
  };
  onnx::ModelProto& proto = exported.proto;
  std::vector<Framed> initializers;
  uint64_t graph_size = 0;
  std::string graph_head, graph_tail;
  const bool has_graph = proto.has_graph();
  if (has_graph) {
    internal::SerializeAround(*proto.mutable_graph(), kGraphInitializerField, &graph_head, &graph_tail);
    proto.clear_graph();
    graph_size = graph_head.size() + graph_tail.size();
    for (internal::DeferredInitializer& d : exported.initializers) {
      Framed f{"", "", std::move(d.raw_data), 0};
      internal::SerializeAround(d.header, kTensorRawDataField, &f.head, &f.tail);
      f.size = f.head.size() + f.tail.size();
      if (f.raw_data) f.size += 1 + VarintSize(f.raw_data->size()) + f.raw_data->size();
      graph_size += 1 + VarintSize(f.size) + f.size;
      initializers.push_back(std::move(f));
    }
    exported.initializers.clear();
  }
  std::string model_head, model_tail;
  internal::SerializeAround(proto, kModelGraphField, &model_head, &model_tail);
  uint64_t total = model_head.size() + model_tail.size() +
                   (has_graph ? 1 + VarintSize(graph_size) + graph_size : 0);
  if (total > static_cast<uint64_t>(INT_MAX)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": the model needs ", total,
        " bytes, over protobuf's 2 GiB limit; save with external data (external_data_threshold)"));
  }

  const bool has_external = !exported.external.empty();
  if (has_external && !file.replaces_atomically()) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": external data needs a regular output file, not a stream or device"));
  }
  OutputFile sidecar;
  if (file.replaces_atomically()) DropCacheOfReplacedFile(file.final_path());
  if (has_external) {
    std::string sidecar_path = SiblingPath(file.final_path(), external_name);
    if (absl::Status s = sidecar.Open(sidecar_path); !s.ok()) return s;
    if (sidecar.replaces_atomically()) DropCacheOfReplacedFile(sidecar.final_path());
    int64_t written = 0;
    for (const internal::PendingBytes& pending : exported.external) {
      sidecar.AppendZeros(pending.offset - written);
      sidecar.Append(pending.buffer->bytes());
      pending.buffer->ReleasePages();
      written = pending.offset + static_cast<int64_t>(pending.buffer->size());
    }
    if (absl::Status s = sidecar.Finish(); !s.ok()) return s;
  }

  file.Append(model_head);
  if (has_graph) {
    file.Append({&kModelGraphTag, 1});
    file.AppendVarint(graph_size);
    file.Append(graph_head);
    for (const Framed& f : initializers) {
      file.Append({&kGraphInitializerTag, 1});
      file.AppendVarint(f.size);
      file.Append(f.head);
      if (f.raw_data) {
        file.Append({&kTensorRawDataTag, 1});
        file.AppendVarint(f.raw_data->size());
        file.Append(f.raw_data->bytes());
        f.raw_data->ReleasePages();
      }
      file.Append(f.tail);
    }
    file.Append(graph_tail);
  }
  file.Append(model_tail);
  if (absl::Status s = file.Finish(); !s.ok()) return s;
  if (has_external) {
    if (absl::Status s = sidecar.Commit(); !s.ok()) return s;
  }
  return file.Commit();
}

}  // namespace onnx_opt
