// Buffer::CopyTo: buffers mapped from a file copy their bytes out with pread, which gives the
// mapping's bytes at any offset, still works once the file is unlinked, and keeps a bounded
// number of file descriptors open.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ir/onnx_io.h"
#include "ir/tensor.h"
#include "ir/tests/test_util.h"

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
  // Page-straddling, unaligned, empty and whole ranges.
  const size_t size = buffer.size();
  const std::vector<std::pair<size_t, size_t>> ranges = {
      {0, size}, {1, 4095}, {4093, 9000}, {size - 3, 3}, {size / 2, 0}, {12345, 300000}};
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
  std::shared_ptr<const Buffer> buffer = Buffer::Copy(
      {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
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

TEST(MappedBuffer, LoadedRawDataIsMapped) {
  TempDir dir;
  const std::string path = dir.File("m.onnx");
  onnx::ModelProto proto;
  proto.set_ir_version(8);
  proto.add_opset_import()->set_version(17);
  onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name("g");
  onnx::TensorProto* w = graph->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(100000);
  w->set_raw_data(Pattern(400000));
  testing::SetTensorType(graph->add_output(), "w", onnx::TensorProto::FLOAT, {100000});
  WriteFile(path, proto.SerializeAsString());
  absl::StatusOr<std::unique_ptr<Model>> model = LoadModel(path);
  ASSERT_TRUE(model.ok()) << model.status();
  const TensorPtr& tensor = (*model)->graph->FindValue("w")->initializer();
  ASSERT_NE(tensor, nullptr);
  EXPECT_TRUE(tensor->buffer()->mapped());
  ExpectCopiesMatch(*tensor->buffer());
}

}  // namespace
}  // namespace onnx_opt
