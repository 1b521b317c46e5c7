// Load + save with no pass in between over ONNX's own backend test models (Debian's
// libonnx-testdata, 1072 models): the saved ModelProto must equal the input field by field with
// presence (compared as protobuf's serialization of each, in which an explicitly empty field and
// an absent one differ), and where the input file is protobuf's canonical serialization of
// itself, the output file must be byte-identical. ONNX_TESTDATA_DIR overrides the folder.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "ir/onnx_io.h"
#include "ir/test_util.h"
#include "onnx/onnx_pb.h"

namespace onnx_opt {
namespace {

using testing::ReadFile;
using testing::TempDir;

std::vector<std::string> TestdataModels() {
  const char* env = std::getenv("ONNX_TESTDATA_DIR");
  const std::filesystem::path root = env != nullptr ? env : "/usr/share/libonnx-testdata/data";
  std::vector<std::string> models;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename() == "model.onnx") models.push_back(it->path().string());
  }
  std::sort(models.begin(), models.end());
  return models;
}

// The first difference, for the failure message.
std::string FirstDifference(const onnx::ModelProto& a, const onnx::ModelProto& b) {
  std::string report;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&report);
  if (differ.Compare(a, b)) return "equal by MessageDifferencer; serialized bytes differ";
  return report.substr(0, report.find('\n'));
}

TEST(RoundTripConformance, LibOnnxTestdataModelsComeBackFieldExact) {
  const std::vector<std::string> models = TestdataModels();
  if (models.empty()) GTEST_SKIP() << "libonnx-testdata is not installed";
  TempDir dir;
  const std::string out_path = dir.File("out.onnx");
  int canonical = 0, identical = 0;
  std::vector<std::string> failures;
  for (const std::string& path : models) {
    const std::string bytes = ReadFile(path);
    onnx::ModelProto in;
    ASSERT_TRUE(in.ParseFromString(bytes)) << path;
    LoadOptions options;
    options.verify = false;  // some node tests use operators only their own opset defines
    absl::StatusOr<std::unique_ptr<Model>> model = LoadModel(path, options);
    if (!model.ok()) {
      failures.push_back(std::string(model.status().message()));
      continue;
    }
    if (absl::Status s = SaveModel(**model, out_path); !s.ok()) {
      failures.push_back(std::string(s.message()));
      continue;
    }
    const std::string out_bytes = ReadFile(out_path);
    onnx::ModelProto out;
    ASSERT_TRUE(out.ParseFromString(out_bytes)) << path;
    if (in.SerializeAsString() != out.SerializeAsString()) {
      failures.push_back(path + ": " + FirstDifference(in, out));
      continue;
    }
    if (in.SerializeAsString() == bytes) {
      ++canonical;
      if (out_bytes == bytes) {
        ++identical;
      } else {
        failures.push_back(path + ": canonical input, but the output file is not byte-identical");
      }
    }
  }
  for (size_t i = 0; i < failures.size() && i < 20; ++i) ADD_FAILURE() << failures[i];
  EXPECT_EQ(failures.size(), 0u) << "of " << models.size() << " models";
  std::cout << models.size() << " models field-exact; " << canonical
            << " canonically serialized, " << identical << " of them byte-identical\n";
}

}  // namespace
}  // namespace onnx_opt
