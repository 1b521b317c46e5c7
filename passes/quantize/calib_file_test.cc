#include "passes/quantize/calib_file.h"

#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ir/text/text.h"
#include "passes/core/utils.h"

namespace onnx_opt {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr char kModel[] = R"(<ir_version: 10, opset_import: ["" : 21]>
main (float[1,4,5,5] x, float[3,8] a) => (float[1,6,5,5] y, float[3,2] m)
<float[6,2,3,3] wc = randn(seed: 1), float[8,2] wm = randn(seed: 2)>
{
  y = Conv <group = 2, pads = [1, 1, 1, 1]> (x, wc)
  m = MatMul (a, wm)
})";

NpyArray Random(std::vector<int64_t> shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  NpyArray a;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  a.shape = std::move(shape);
  a.values.resize(n);
  for (float& v : a.values) v = u(rng);
  return a;
}

class CalibFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("calib_file_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_);
    model_ = Parse(kModel);
  }
  static std::unique_ptr<Model> Parse(const std::string& text) {
    absl::StatusOr<std::unique_ptr<Model>> m = ParseModel(text, "t");
    EXPECT_TRUE(m.ok()) << m.status();
    return *std::move(m);
  }
  std::vector<WeightUse> UsesOf(Model& model, const std::string& name) {
    const Value* w = model.graph->FindValue(name);
    return {{w->uses().front().node, 1}};
  }
  // The weight record of `name` in `model`, with Hessians from three random samples.
  CalibWeight Measured(Model& model, const std::string& name) {
    const Value* v = model.graph->FindValue(name);
    TensorPtr t = GetConstantTensor(v);
    std::vector<WeightUse> uses = UsesOf(model, name);
    std::string why;
    std::optional<HessianAccumulator> acc = HessianAccumulator::Create(t->dims(), uses, &why);
    EXPECT_TRUE(acc.has_value()) << why;
    const std::vector<int64_t> shape =
        name == "wc" ? std::vector<int64_t>{1, 4, 5, 5} : std::vector<int64_t>{3, 8};
    for (int s = 0; s < 3; ++s) {
      EXPECT_TRUE(acc->Add(0, Random(shape, 10 + s), s % 2 == 1, "test").ok());
    }
    return {GraphDebugName(*model.graph),
            name,
            "float",
            t->dims(),
            TensorSha256(*t),
            DescribeUses(uses),
            std::move(*acc).FinishPacked(),
            ""};
  }
  // The pass's weight key: "<graph>\n<name>".
  WeightKey Key(const std::string& name) { return {GraphDebugName(*model_->graph), name}; }
  std::string Write(CalibContents c) {
    const std::string path = (dir_ / "m.calib").string();
    absl::Status s = WriteCalibFile(path, c);
    EXPECT_TRUE(s.ok()) << s;
    return path;
  }
  fs::path dir_;
  std::unique_ptr<Model> model_;
};

TEST_F(CalibFileTest, HessiansRoundTripExactly) {
  CalibContents c;
  c.producer = "test";
  c.weights.push_back(Measured(*model_, "wc"));
  c.weights.push_back(Measured(*model_, "wm"));
  c.tensors.push_back({"x", "float", {1, 4, 5, 5}, -1, 2, 100, 0, 2, {10, 20, 30, 40}});
  const std::string path = Write(c);
  ASSERT_TRUE(IsCalibFile(path));
  absl::StatusOr<std::unique_ptr<CalibFile>> file = CalibFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE((*file)->VerifyModel(*model_).ok());
  for (const CalibWeight& w : c.weights) {
    std::string why;
    absl::StatusOr<std::optional<LayerHessians>> h =
        (*file)->Hessians(Key(w.name), UsesOf(*model_, w.name), &why);
    ASSERT_TRUE(h.ok()) << h.status();
    ASSERT_TRUE(h->has_value()) << why;
    const LayerHessians& got = **h;
    const LayerHessians want = w.hessians->Unpack();
    ASSERT_EQ(got.hessians.size(), want.hessians.size());
    for (size_t g = 0; g < want.hessians.size(); ++g) {
      EXPECT_EQ(got.hessians[g].values, want.hessians[g].values) << w.name << " group " << g;
      EXPECT_EQ(got.held_out[g].values, want.held_out[g].values);
      EXPECT_EQ(got.input_means[g], want.input_means[g]);
    }
    EXPECT_EQ(got.row_hessian, want.row_hessian);
    EXPECT_EQ(got.samples, 3);
    EXPECT_EQ(got.positions, want.positions);
  }
  EXPECT_EQ(c.weights[0].hessians->hessians.size(), 2u);  // group 2
  absl::StatusOr<CalibContents> all = (*file)->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->tensors.size(), 1u);
  EXPECT_EQ(all->tensors[0].histogram, (std::vector<double>{10, 20, 30, 40}));
  EXPECT_EQ(all->tensors[0].min, -1);
}

// Files written before the tool summed in float32 hold F64 Hessians: still read.
TEST_F(CalibFileTest, ReadsFloat64HessiansOfOlderFiles) {
  const Value* v = model_->graph->FindValue("wm");
  TensorPtr t = GetConstantTensor(v);
  std::vector<double> packed(8 * 9 / 2), mean(8);
  for (size_t i = 0; i < packed.size(); ++i) packed[i] = 1.0 + 1.0 / 3.0 * static_cast<double>(i);
  for (size_t i = 0; i < mean.size(); ++i) mean[i] = 0.25 * static_cast<double>(i);
  const std::string index = absl::StrCat(
      R"({"format":"onnx-opt-calib-1","weights":[{"graph":")", GraphDebugName(*model_->graph),
      R"(","name":"wm","type":"float","shape":[8,2],"sha256":")", TensorSha256(*t),
      R"(","uses":["m#1"],"hessians":{"groups":1,"k":8,"samples":2,"positions":6,"hessian":[0],)",
      R"("held_out":[],"input_mean":[1]}}],"arrays":[{"dtype":"F64","layout":"symmetric-packed-)",
      R"(lower","shape":[8,8],"offset":0,"bytes":288},{"dtype":"F64","layout":"dense","shape":[8],)",
      R"("offset":288,"bytes":64}]})");
  std::string padded = index;
  padded.append((8 - padded.size() % 8) % 8, ' ');
  std::string file = kCalibMagic;
  for (int i = 0; i < 8; ++i) file.push_back(static_cast<char>(padded.size() >> (8 * i)));
  file += padded;
  file.append(reinterpret_cast<const char*>(packed.data()), packed.size() * 8);
  file.append(reinterpret_cast<const char*>(mean.data()), mean.size() * 8);
  const std::string path = (dir_ / "old.calib").string();
  std::ofstream(path, std::ios::binary) << file;
  absl::StatusOr<std::unique_ptr<CalibFile>> opened = CalibFile::Open(path);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::string why;
  absl::StatusOr<std::optional<LayerHessians>> h =
      (*opened)->Hessians(Key("wm"), UsesOf(*model_, "wm"), &why);
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_TRUE(h->has_value()) << why;
  const quant::Hessian& got = (*h)->hessians.at(0);
  size_t at = 0;
  for (int64_t i = 0; i < 8; ++i) {
    for (int64_t j = 0; j <= i; ++j, ++at) {
      // Rounded to float32, as the tool now sums.
      EXPECT_EQ(got.at(i, j), static_cast<double>(static_cast<float>(packed[at])));
      EXPECT_EQ(got.at(j, i), got.at(i, j));
    }
  }
  EXPECT_EQ((*h)->input_means.at(0), mean);
  EXPECT_TRUE((*h)->held_out.empty());
}

TEST_F(CalibFileTest, AnotherModelIsRefusedNamingTheWeight) {
  CalibContents c;
  c.weights.push_back(Measured(*model_, "wc"));
  c.weights.push_back(Measured(*model_, "wm"));
  const std::string path = Write(c);
  absl::StatusOr<std::unique_ptr<CalibFile>> file = CalibFile::Open(path);
  ASSERT_TRUE(file.ok());
  std::string other = kModel;
  other.replace(other.find("randn(seed: 2)"), 14, "randn(seed: 3)");
  absl::Status s = (*file)->VerifyModel(*Parse(other));
  EXPECT_THAT(s.message(), HasSubstr("was measured on another model: weight 'wm' holds other "
                                     "values (SHA-256 differs)"));
  EXPECT_EQ(std::string(s.message()).find('\n'), std::string::npos);
  std::string renamed = kModel;
  for (size_t at; (at = renamed.find("wc")) != std::string::npos;) renamed.replace(at, 2, "wk");
  EXPECT_THAT((*file)->VerifyModel(*Parse(renamed)).message(),
              HasSubstr("weight 'wc' is not in this model"));
}

TEST_F(CalibFileTest, WeightsWithoutDataSayWhy) {
  CalibContents c;
  CalibWeight w = Measured(*model_, "wm");
  w.hessians.reset();
  w.no_data = "its activation never arrived";
  c.weights.push_back(w);
  c.weights.push_back(Measured(*model_, "wc"));
  c.weights.back().uses = {"z#1"};
  absl::StatusOr<std::unique_ptr<CalibFile>> file = CalibFile::Open(Write(c));
  ASSERT_TRUE(file.ok());
  std::string why;
  auto h = (*file)->Hessians(Key("wm"), UsesOf(*model_, "wm"), &why);
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(h->has_value());
  EXPECT_EQ(why, "no calibration data: its activation never arrived");
  h = (*file)->Hessians(Key("wc"), UsesOf(*model_, "wc"), &why);
  EXPECT_FALSE(h->has_value());
  EXPECT_THAT(why, HasSubstr("measured the uses z#1, this run quantizes for y#1"));
  h = (*file)->Hessians(Key("other"), {}, &why);
  EXPECT_THAT(why, HasSubstr("not in calibration file"));
  EXPECT_THAT((*file)->SensitivityJson().status().message(), HasSubstr("holds no sensitivities"));
}

// `file` (a .calib file's bytes) with `from` replaced by `to` in its index; the data section
// stays as it is.
std::string WithIndexText(const std::string& file, const std::string& from, const std::string& to) {
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(file[8 + i]);
  std::string index = file.substr(16, length);
  const size_t at = index.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at == std::string::npos) return file;
  index.replace(at, from.size(), to);
  while (!index.empty() && index.back() == ' ') index.pop_back();
  index.append((8 - index.size() % 8) % 8, ' ');
  std::string out = file.substr(0, 8);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(index.size() >> (8 * i)));
  return out + index + file.substr(16 + length);
}

// quantize-activations reads only the tensors: the same ranges and histograms as ReadAll, no
// weight (so no Hessian) in the result, and a file whose Hessian entries are damaged (an array
// id past the list, a k that does not match the array) still reads, while ReadAll refuses it.
TEST_F(CalibFileTest, TensorsOnlyReadSkipsHessians) {
  CalibContents c;
  c.producer = "test";
  c.samples = 3;
  c.weights.push_back(Measured(*model_, "wm"));
  c.tensors.push_back({"x", "float", {1, 4, 5, 5}, -1, 2, 100, 0, 2, {10, 20, 30, 40}});
  c.tensors.push_back({"a", "float", {3, 8}, -0.5, 0.75, 24, 1, 1, {1, 2, 3, 4, 5, 6, 7, 8}});
  const std::string path = Write(c);
  absl::StatusOr<std::unique_ptr<CalibFile>> file = CalibFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<CalibContents> all = (*file)->ReadAll();
  absl::StatusOr<CalibContents> tensors = (*file)->ReadTensors();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  ASSERT_EQ(all->weights.size(), 1u);
  ASSERT_TRUE(all->weights[0].hessians.has_value());
  EXPECT_TRUE(tensors->weights.empty());
  EXPECT_EQ(tensors->producer, "test");
  EXPECT_EQ(tensors->samples, 3);
  ASSERT_EQ(tensors->tensors.size(), all->tensors.size());
  ASSERT_EQ(tensors->tensors.size(), 2u);
  for (size_t i = 0; i < all->tensors.size(); ++i) {
    const CalibTensorStats& want = all->tensors[i];
    const CalibTensorStats& got = tensors->tensors[i];
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.shape, want.shape);
    EXPECT_EQ(got.min, want.min);
    EXPECT_EQ(got.max, want.max);
    EXPECT_EQ(got.count, want.count);
    EXPECT_EQ(got.non_finite, want.non_finite);
    EXPECT_EQ(got.histogram_range, want.histogram_range);
    EXPECT_EQ(got.histogram, want.histogram);
  }
  EXPECT_EQ(tensors->tensors[1].histogram, (std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(tensors->tensors[1].max, 0.75);

  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\"hessian\":[0]", "\"hessian\":[99]"}, {"\"k\":8", "\"k\":7"}}) {
    const std::string p = (dir_ / "damaged.calib").string();
    std::ofstream(p, std::ios::binary) << WithIndexText(bytes, from, to);
    absl::StatusOr<std::unique_ptr<CalibFile>> damaged = CalibFile::Open(p);
    ASSERT_TRUE(damaged.ok()) << damaged.status();
    EXPECT_FALSE((*damaged)->ReadAll().ok()) << to;
    absl::StatusOr<CalibContents> read = (*damaged)->ReadTensors();
    ASSERT_TRUE(read.ok()) << to << ": " << read.status();
    ASSERT_EQ(read->tensors.size(), 2u);
    EXPECT_EQ(read->tensors[0].histogram, (std::vector<double>{10, 20, 30, 40}));
  }
}

TEST_F(CalibFileTest, DamagedFilesGiveOneLineErrors) {
  CalibContents c;
  c.weights.push_back(Measured(*model_, "wm"));
  const std::string path = Write(c);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto open = [&](const std::string& content) {
    const std::string p = (dir_ / "bad.calib").string();
    std::ofstream(p, std::ios::binary) << content;
    return CalibFile::Open(p).status();
  };
  EXPECT_THAT(open("not a calib file at all").message(), HasSubstr("no OOCALIB1 magic"));
  EXPECT_THAT(open(bytes.substr(0, 40)).message(), HasSubstr("exceeds the file"));
  EXPECT_THAT(open(bytes.substr(0, bytes.size() - 8)).message(),
              HasSubstr("lies outside the file"));
  std::string wrong = bytes;
  wrong.replace(wrong.find("onnx-opt-calib-1"), 16, "onnx-opt-calib-9");
  EXPECT_THAT(open(wrong).message(), HasSubstr("\"format\" must be \"onnx-opt-calib-1\""));
  EXPECT_FALSE(IsCalibFile((dir_ / "none").string()));
  // Numbers in the index that are not integers (or not finite) where integers belong are errors,
  // not truncated or undefined conversions.
  auto hessians = [&](const std::string& content) {
    const std::string p = (dir_ / "bad.calib").string();
    std::ofstream(p, std::ios::binary) << content;
    absl::StatusOr<std::unique_ptr<CalibFile>> file = CalibFile::Open(p);
    if (!file.ok()) return file.status();
    std::string why;
    return (*file)->Hessians(Key("wm"), UsesOf(*model_, "wm"), &why).status();
  };
  ASSERT_TRUE(hessians(bytes).ok());
  for (const char* k : {"8.5", "1e300", "-8"}) {
    EXPECT_THAT(hessians(WithIndexText(bytes, "\"k\":8", absl::StrCat("\"k\":", k))).message(),
                HasSubstr("\"k\" must be an integer"))
        << k;
  }
  EXPECT_THAT(open(WithIndexText(bytes, "\"offset\":0", "\"offset\":0.5")).message(),
              HasSubstr("array 0 is not F32 or F64 or lies outside the file"));
  EXPECT_THAT(hessians(WithIndexText(bytes, "\"hessian\":[0]", "\"hessian\":[0.5]")).message(),
              HasSubstr("bad array -1"));
  // Never replaces a folder.
  fs::create_directories(dir_ / "folder.calib");
  EXPECT_THAT(WriteCalibFile((dir_ / "folder.calib").string(), c).message(),
              HasSubstr("not a regular file"));
}

}  // namespace
}  // namespace onnx_opt
