// Buffer::CopyTo: buffers mapped from a file copy their bytes out with pread, which gives the
// mapping's bytes at any offset, still works once the file is unlinked, and keeps a bounded
// number of file descriptors open.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ir/onnx_io.h"
#include "ir/tensor.h"
#include "ir/test_util.h"
#include "onnx/onnx_pb.h"

namespace onnx_opt {
namespace {

using testing::TempDir;
using testing::WriteFile;

std::string Pattern(size_t size) {
  std::string bytes(size, '\0');
  uint32_t state = 12345;
  for (char& c : bytes) {
    state = state * 1664525u + 1013904223u;
    c = static_cast<char>(state >> 24);
  }
  return bytes;
}

void ExpectCopiesMatch(const Buffer& buffer) {
  // Page-straddling, unaligned, empty and whole ranges (buffers here are at least 300000 bytes).
  const size_t size = buffer.size();
  const std::vector<std::pair<size_t, size_t>> ranges = {
      {0, size},     {1, 4095},     {4093, 9000},
      {size - 3, 3}, {size / 2, 0}, {12345, std::min<size_t>(300000, size - 12345)}};
  for (const auto& [offset, length] : ranges) {
    std::vector<uint8_t> copy(length + 1, 0xAB);
    buffer.CopyTo(offset, length, copy.data());
    EXPECT_EQ(0, std::memcmp(copy.data(), buffer.data() + offset, length))
        << "offset " << offset << " length " << length;
    EXPECT_EQ(copy[length], 0xAB) << "wrote past the range";
  }
}

int OpenDescriptors() {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)entry;
    ++count;
  }
  return count;
}

TEST(MappedBuffer, CopyToReturnsTheMappedBytes) {
  TempDir dir;
  const std::string path = dir.File("bytes.bin");
  WriteFile(path, Pattern(1 << 20));
  const int before = OpenDescriptors();
  absl::StatusOr<std::shared_ptr<MappedFile>> file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(OpenDescriptors(), before + 1) << "the file is kept open for pread";
  std::shared_ptr<const Buffer> slice = MappedFile::Slice(*file, 7, (1 << 20) - 100);
  EXPECT_TRUE(slice->mapped());
  ExpectCopiesMatch(*slice);
  // The file's descriptor stays open: an unlinked file is still read correctly.
  std::filesystem::remove(path);
  ExpectCopiesMatch(*slice);
}

TEST(MappedBuffer, InMemoryBuffersCopyTooAndAreNotMapped) {
  const std::string bytes = Pattern(400000);
  std::shared_ptr<const Buffer> buffer =
      Buffer::Copy({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  EXPECT_FALSE(buffer->mapped());
  ExpectCopiesMatch(*buffer);
}

// Many mapped files (e.g. one external data file per tensor) do not each hold a descriptor: the
// ones past the bound copy from their mapping, with the same result.
TEST(MappedBuffer, OpenDescriptorsAreBounded) {
  TempDir dir;
  const int before = OpenDescriptors();
  std::vector<std::shared_ptr<MappedFile>> files;
  for (int i = 0; i < 300; ++i) {
    const std::string path = dir.File("f" + std::to_string(i));
    WriteFile(path, Pattern(300000 + i));
    absl::StatusOr<std::shared_ptr<MappedFile>> file = MappedFile::Open(path);
    ASSERT_TRUE(file.ok()) << file.status();
    files.push_back(*file);
  }
  EXPECT_LE(OpenDescriptors() - before, 64);
  for (const auto& file : files) ExpectCopiesMatch(*MappedFile::Slice(file, 0, file->size()));
  files.clear();
  EXPECT_EQ(OpenDescriptors(), before);
}

// A model whose only initializer, "w", is a graph output of `elements` float32 values.
onnx::ModelProto OneWeightModel(int64_t elements) {
  onnx::ModelProto proto;
  proto.set_ir_version(8);
  proto.add_opset_import()->set_version(17);
  onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name("g");
  onnx::TensorProto* w = graph->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(elements);
  w->set_raw_data(Pattern(4 * elements));
  testing::SetTensorType(graph->add_output(), "w", onnx::TensorProto::FLOAT, {elements});
  return proto;
}

TEST(MappedBuffer, LoadedRawDataIsMapped) {
  TempDir dir;
  const std::string path = dir.File("m.onnx");
  WriteFile(path, OneWeightModel(100000).SerializeAsString());
  absl::StatusOr<std::unique_ptr<Model>> model = LoadModel(path);
  ASSERT_TRUE(model.ok()) << model.status();
  const TensorPtr& tensor = (*model)->graph->FindValue("w")->initializer();
  ASSERT_NE(tensor, nullptr);
  EXPECT_TRUE(tensor->buffer()->mapped());
  ExpectCopiesMatch(*tensor->buffer());
}

// Pages of `fd`'s file that are in the page cache.
size_t ResidentPages(int fd, size_t size) {
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return 0;
  const size_t pages = (size + 4095) / 4096;
  std::vector<unsigned char> resident(pages);
  size_t count = 0;
  if (::mincore(p, size, resident.data()) == 0) {
    for (unsigned char r : resident) count += r & 1;
  }
  ::munmap(p, size);
  return count;
}

// A folder whose files have a page cache apart from their storage, for the tests below: on tmpfs
// (or ramfs) the cached pages are the file, nothing can drop them. The temporary directory when it
// is such a filesystem, else the working directory (ctest's is the build tree), else /var/tmp;
// empty when none is.
std::string PageCachedFolder() {
  std::error_code error;
  for (const std::filesystem::path& dir :
       {std::filesystem::temp_directory_path(error), std::filesystem::current_path(error),
        std::filesystem::path("/var/tmp")}) {
    struct statfs fs {};
    if (dir.empty() || ::statfs(dir.c_str(), &fs) != 0) continue;
    if (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC) continue;
    if (::access(dir.c_str(), W_OK) == 0) return dir.string();
  }
  return "";
}

// Saving over an existing file first drops that file's cached pages (the new file's pages then
// reuse just-freed memory); the old content stays intact until the rename.
TEST(SaveModelCache, DropsTheCacheOfTheReplacedFile) {
  const std::string folder = PageCachedFolder();
  if (folder.empty()) GTEST_SKIP() << "TMPDIR, the working directory and /var/tmp are all tmpfs";
  TempDir dir(folder);
  const std::string path = dir.File("out.onnx");
  const size_t size = 32 << 20;
  WriteFile(path, Pattern(size));
  const int old_file = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(old_file, 0);
  ASSERT_EQ(::fdatasync(old_file), 0);  // clean pages can be dropped
  ASSERT_GT(ResidentPages(old_file, size), size / 4096 / 2);
  absl::StatusOr<std::unique_ptr<Model>> model = ImportModel(OneWeightModel(1 << 20), "");
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_TRUE(SaveModel(**model, path).ok());
  EXPECT_EQ(ResidentPages(old_file, size), 0u);
  ::close(old_file);
  EXPECT_TRUE(LoadModel(path).ok());
}

// Bytes this process has read from storage (not from the page cache), or -1.
int64_t StorageReadBytes() {
  std::FILE* io = std::fopen("/proc/self/io", "re");
  if (io == nullptr) return -1;
  char line[256];
  long long bytes = -1;
  while (std::fgets(line, sizeof(line), io) != nullptr) {
    if (std::sscanf(line, "read_bytes: %lld", &bytes) == 1) break;
  }
  std::fclose(io);
  return bytes;
}

// Dirty and writeback pages of `fd`'s file (cachestat(2), Linux 6.5), or -1 when unsupported.
int64_t NotCleanPages(int fd) {
  struct {
    uint64_t offset = 0, length = 0;
  } range;
  struct {
    uint64_t cache, dirty, writeback, evicted, recently_evicted;
  } stat{};
  if (::syscall(451, fd, &range, &stat, 0) != 0) return -1;
  return static_cast<int64_t>(stat.dirty + stat.writeback);
}

// ... nor when the replaced file has dirty pages: dropping would start their writeback (wasted
// I/O that the rename would then wait for) instead of letting the rename discard them.
TEST(SaveModelCache, LeavesADirtyReplacedFileAlone) {
  const std::string folder = PageCachedFolder();
  if (folder.empty()) GTEST_SKIP() << "TMPDIR, the working directory and /var/tmp are all tmpfs";
  TempDir dir(folder);
  const std::string path = dir.File("out.onnx");
  const size_t size = 32 << 20;
  WriteFile(path, Pattern(size));
  const int old_file = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(old_file, 0);
  const int64_t dirty = NotCleanPages(old_file);
  if (dirty < 0) GTEST_SKIP() << "no cachestat(2) on this kernel";
  if (dirty < static_cast<int64_t>(size / 4096 / 2)) GTEST_SKIP() << "written back already";
  absl::StatusOr<std::unique_ptr<Model>> model = ImportModel(OneWeightModel(1 << 20), "");
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_TRUE(SaveModel(**model, path).ok());
  EXPECT_GT(ResidentPages(old_file, size), size / 4096 / 2);
  EXPECT_GT(NotCleanPages(old_file), dirty / 2) << "writeback was started";
  ::close(old_file);
}

// ... but not when this process maps the file: a loaded model saved over its own file keeps its
// weights cached, and saving does not read them from storage again.
TEST(SaveModelCache, KeepsTheCacheOfAMappedFile) {
  const std::string folder = PageCachedFolder();
  if (folder.empty()) GTEST_SKIP() << "TMPDIR, the working directory and /var/tmp are all tmpfs";
  TempDir dir(folder);
  const std::string path = dir.File("m.onnx");
  onnx::ModelProto proto = OneWeightModel(1 << 20);
  proto.mutable_graph()->mutable_initializer(0)->set_raw_data(Pattern(32 << 20));
  proto.mutable_graph()->mutable_initializer(0)->set_dims(0, 8 << 20);
  proto.mutable_graph()
      ->mutable_output(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(0)
      ->set_dim_value(8 << 20);
  WriteFile(path, proto.SerializeAsString());
  const int old_file = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(old_file, 0);
  ASSERT_EQ(::fdatasync(old_file), 0);
  absl::StatusOr<std::unique_ptr<Model>> model = LoadModel(path);
  ASSERT_TRUE(model.ok()) << model.status();
  const size_t size = proto.ByteSizeLong();
  ASSERT_GT(ResidentPages(old_file, size), size / 4096 / 2);
  const int64_t read_before = StorageReadBytes();
  if (read_before < 0) GTEST_SKIP() << "no /proc/self/io";
  ASSERT_TRUE(SaveModel(**model, path).ok());
  EXPECT_LT(StorageReadBytes() - read_before, 1 << 20);
  EXPECT_GT(ResidentPages(old_file, size), size / 4096 / 2);
  ::close(old_file);
}

}  // namespace
}  // namespace onnx_opt
