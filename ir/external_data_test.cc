// External data: mapped loading, sidecar saving, and the paths and ranges that are rejected.
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "gtest/gtest.h"
#include "ir/onnx_io.h"
#include "ir/test_util.h"

namespace onnx_opt {
namespace {

using ::onnx_opt::testing::FloatTensor;
using ::onnx_opt::testing::ListDir;
using ::onnx_opt::testing::ReadFile;
using ::onnx_opt::testing::SmallModel;
using ::onnx_opt::testing::TempDir;
using ::onnx_opt::testing::WriteFile;

void MakeExternal(onnx::TensorProto* t, const std::string& location, int64_t offset,
                  int64_t length) {
  t->clear_raw_data();
  t->clear_external_data();
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char* key, const std::string& value) {
    auto* e = t->add_external_data();
    e->set_key(key);
    e->set_value(value);
  };
  add("location", location);
  if (offset >= 0) add("offset", std::to_string(offset));
  if (length >= 0) add("length", std::to_string(length));
}

std::string FloatBytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * 4);
}

// SmallModel with w = {1.5, -2} stored in `location` at byte 64, another tensor v at byte 128.
onnx::ModelProto ExternalModel(const std::string& location) {
  onnx::ModelProto proto = SmallModel();
  MakeExternal(proto.mutable_graph()->mutable_initializer(0), location, 64, 8);
  onnx::TensorProto* v = proto.mutable_graph()->add_initializer();
  *v = FloatTensor("v", {3}, {});
  MakeExternal(v, location, 128, -1);  // no length: to the end of the file
  return proto;
}

std::string SidecarBytes() {
  std::string bytes(128, '\0');
  std::string w = FloatBytes({1.5f, -2.0f});
  bytes.replace(64, w.size(), w);
  return bytes + FloatBytes({7, 8, 9});
}

TEST(ExternalData, LoadMapsTheFileOnceWithoutCopying) {
  TempDir dir;
  WriteFile(dir.File("weights.bin"), SidecarBytes());
  WriteFile(dir.File("m.onnx"), ExternalModel("weights.bin").SerializeAsString());
  auto model = LoadModel(dir.File("m.onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  const Tensor& w = *(*model)->graph->FindValue("w")->initializer();
  const Tensor& v = *(*model)->graph->FindValue("v")->initializer();
  EXPECT_EQ(w.CopyValues<float>(), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(v.CopyValues<float>(), (std::vector<float>{7, 8, 9}));
  // Both are views of one mapping of the file: their addresses are 64 bytes apart.
  EXPECT_EQ(v.bytes().data() - w.bytes().data(), 64);
}

TEST(ExternalData, SaveWritesAlignedSidecarAndReloads) {
  TempDir dir;
  onnx::ModelProto proto = SmallModel();
  *proto.mutable_graph()->add_initializer() =
      FloatTensor("big1", {300}, std::vector<float>(300, 3.0f));
  *proto.mutable_graph()->add_initializer() =
      FloatTensor("big2", {100}, std::vector<float>(100, -1.0f));
  auto model = ImportModel(std::move(proto), "");
  ASSERT_TRUE(model.ok());
  SaveOptions options;
  options.external_data_threshold = 400;  // big1 (1200 bytes) and big2 (400), not w (8)
  std::string path = dir.File("out.onnx");
  ASSERT_TRUE(SaveModel(**model, path, options).ok());
  EXPECT_EQ(ListDir(dir.path()), (std::vector<std::string>{"out.onnx", "out.onnx.data"}));
  onnx::ModelProto saved;
  ASSERT_TRUE(saved.ParseFromString(ReadFile(path)));
  const auto& inits = saved.graph().initializer();
  EXPECT_TRUE(inits[0].has_raw_data());
  ASSERT_EQ(inits[1].data_location(), onnx::TensorProto::EXTERNAL);
  ASSERT_EQ(inits[2].data_location(), onnx::TensorProto::EXTERNAL);
  EXPECT_FALSE(inits[1].has_raw_data());
  auto entry = [](const onnx::TensorProto& t, const std::string& key) {
    for (const auto& e : t.external_data()) {
      if (e.key() == key) return e.value();
    }
    return std::string();
  };
  EXPECT_EQ(entry(inits[1], "location"), "out.onnx.data");
  EXPECT_EQ(entry(inits[1], "offset"), "0");
  EXPECT_EQ(entry(inits[1], "length"), "1200");
  EXPECT_EQ(entry(inits[2], "offset"), "4096");
  EXPECT_EQ(entry(inits[2], "length"), "400");
  EXPECT_EQ(ReadFile(dir.File("out.onnx.data")).size(), 4096u + 400);
  auto reloaded = LoadModel(path);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  for (const char* name : {"w", "big1", "big2"}) {
    EXPECT_TRUE((*reloaded)->graph->FindValue(name)->initializer()->ContentEquals(
        *(*model)->graph->FindValue(name)->initializer()))
        << name;
  }
}

TEST(ExternalData, SaveOverTheInputKeepsTheMappedDataValid) {
  TempDir dir;
  WriteFile(dir.File("m.onnx.data"), SidecarBytes());
  WriteFile(dir.File("m.onnx"), ExternalModel("m.onnx.data").SerializeAsString());
  auto model = LoadModel(dir.File("m.onnx"));
  ASSERT_TRUE(model.ok()) << model.status();
  SaveOptions options;
  options.external_data_threshold = 0;
  ASSERT_TRUE(SaveModel(**model, dir.File("m.onnx"), options).ok());
  // The old mapping still reads the old bytes; the new files hold the same values.
  EXPECT_EQ((*model)->graph->FindValue("v")->initializer()->CopyValues<float>(),
            (std::vector<float>{7, 8, 9}));
  auto again = LoadModel(dir.File("m.onnx"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->graph->FindValue("v")->initializer()->CopyValues<float>(),
            (std::vector<float>{7, 8, 9}));
  EXPECT_EQ((*again)->graph->FindValue("w")->initializer()->CopyValues<float>(),
            (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(ListDir(dir.path()), (std::vector<std::string>{"m.onnx", "m.onnx.data"}));
}

TEST(ExternalData, CustomSidecarName) {
  TempDir dir;
  SaveOptions options;
  options.external_data_threshold = 1;
  options.external_data_name = "weights.bin";
  ASSERT_TRUE(SaveModel(**ImportModel(SmallModel(), ""), dir.File("a.onnx"), options).ok());
  EXPECT_EQ(ListDir(dir.path()), (std::vector<std::string>{"a.onnx", "weights.bin"}));
  options.external_data_name = "sub/weights.bin";
  absl::Status s = SaveModel(**ImportModel(SmallModel(), ""), dir.File("b.onnx"), options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            dir.File("b.onnx") +
                ": external data name 'sub/weights.bin' must be a file name, not a path");
}

// Loads a model whose tensor w points at `location` (with the given range), returning the error.
std::string LoadError(const TempDir& dir, const std::string& location, int64_t offset = 64,
                      int64_t length = 8) {
  onnx::ModelProto proto = ExternalModel(location);
  proto.mutable_graph()->mutable_initializer()->DeleteSubrange(1, 1);
  MakeExternal(proto.mutable_graph()->mutable_initializer(0), location, offset, length);
  std::string path = dir.File("m.onnx");
  WriteFile(path, proto.SerializeAsString());
  auto model = LoadModel(path);
  return model.ok() ? "loaded" : std::string(model.status().message());
}

TEST(ExternalData, RejectsMissingFiles) {
  TempDir dir;
  EXPECT_EQ(LoadError(dir, "absent.bin"), dir.File("m.onnx") +
                                              ": tensor 'w': external data file '" + dir.path() +
                                              "/absent.bin' not found: No such file or directory");
}

TEST(ExternalData, RejectsPathsLeavingTheFolder) {
  TempDir dir;
  std::string prefix = dir.File("m.onnx") + ": tensor 'w': external data ";
  EXPECT_EQ(LoadError(dir, "/etc/passwd"),
            prefix + "path '/etc/passwd' is absolute; it must be relative to the model's folder");
  EXPECT_EQ(LoadError(dir, "../secret.bin"),
            prefix + "path '../secret.bin' escapes the model's folder ('..')");
  EXPECT_EQ(LoadError(dir, "sub/../../x.bin"),
            prefix + "path 'sub/../../x.bin' escapes the model's folder ('..')");
  // A symlink inside the folder that points outside it.
  TempDir outside;
  WriteFile(outside.File("real.bin"), SidecarBytes());
  std::filesystem::create_symlink(outside.File("real.bin"), dir.File("link.bin"));
  std::string error = LoadError(dir, "link.bin");
  EXPECT_EQ(error.rfind(prefix + "file 'link.bin' resolves outside the model's folder (", 0), 0u)
      << error;
  // A symlink that stays inside is fine.
  WriteFile(dir.File("inside.bin"), SidecarBytes());
  std::filesystem::create_symlink(dir.File("inside.bin"), dir.File("alias.bin"));
  EXPECT_EQ(LoadError(dir, "alias.bin"), "loaded");
}

TEST(ExternalData, RejectsRangesPastTheEnd) {
  TempDir dir;
  WriteFile(dir.File("w.bin"), SidecarBytes());  // 140 bytes
  std::string prefix = dir.File("m.onnx") + ": tensor 'w': external data range ";
  EXPECT_EQ(LoadError(dir, "w.bin", 136, 8),
            prefix + "offset 136 length 8 is past the end of 'w.bin' (140 bytes)");
  EXPECT_EQ(LoadError(dir, "w.bin", 200, -1),
            dir.File("m.onnx") +
                ": tensor 'w': external data offset 200 is past the end of 'w.bin' (140 bytes)");
  EXPECT_EQ(LoadError(dir, "w.bin", 64, 8), "loaded");
}

TEST(ExternalData, SizeMismatchIsReportedByTheVerifier) {
  TempDir dir;
  WriteFile(dir.File("w.bin"), SidecarBytes());
  EXPECT_EQ(LoadError(dir, "w.bin", 64, 12),
            dir.File("m.onnx") + ": tensor 'w': shape needs 8 bytes of float but 12 are stored");
}

TEST(ExternalData, InMemoryImportCannotResolveFiles) {
  auto model = ImportModel(ExternalModel("w.bin"), "");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(),
            "tensor 'w': external data file 'w.bin' cannot be resolved: the model was not loaded "
            "from a file");
}

}  // namespace
}  // namespace onnx_opt

namespace onnx_opt {
namespace {

TEST(ExternalData, ReleasedMappedPagesReadBackUnchanged) {
  testing::TempDir dir;
  std::string bytes(5 * 4096 + 100, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  testing::WriteFile(dir.File("pages.bin"), bytes);
  auto file = MappedFile::Open(dir.File("pages.bin"));
  ASSERT_TRUE(file.ok()) << file.status();
  auto slice = MappedFile::Slice(*file, 10, bytes.size() - 10);
  slice->ReleasePages();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(slice->data()), slice->size()),
            bytes.substr(10));
  // Heap buffers ignore the hint.
  auto heap = Buffer::FromString(std::string(bytes));
  heap->ReleasePages();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(heap->data()), heap->size()), bytes);
}

}  // namespace
}  // namespace onnx_opt
