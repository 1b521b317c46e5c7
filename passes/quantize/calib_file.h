// The .calib file: calibration statistics measured by onnx-opt-calibrate (calibrate/) on the
// user's samples, read back by quantize-weights{calibration=FILE} and {sensitivity=FILE}.
//
// Layout (docs/calibration.md): 8 bytes "OOCALIB1", a little-endian uint64 index length, the
// index (UTF-8 JSON, space-padded to a multiple of 8 bytes), then raw little-endian arrays, each
// starting at a multiple of 8 bytes of the data section. The index names the model the file
// was measured on (graph inputs, and each weight by graph, name, shape, type, SHA-256 of its
// bytes and the nodes reading it), which statistics it holds, and per weight either its GPTQ
// Hessians (arrays) or why it has none; per tensor the activation range and histogram; and
// optionally the measured output sensitivities (an onnx-opt-sensitivity-1 document).
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ir/ir.h"
#include "passes/quantize/hessian_accumulator.h"
#include "passes/quantize/sensitivity_file.h"
#include "passes/quantize/weight.h"

namespace onnx_opt {

inline constexpr char kCalibMagic[] = "OOCALIB1";  // 8 bytes, no terminator in the file
inline constexpr char kCalibFormat[] = "onnx-opt-calib-1";

// True when `path` is a regular file opening with the .calib magic.
bool IsCalibFile(const std::string& path);

// Lower-case hex SHA-256 of the tensor's raw little-endian bytes.
std::string TensorSha256(const Tensor& tensor);

// The nodes reading a weight, as the file records them: "<output 0 name>#<input index>".
std::vector<std::string> DescribeUses(const std::vector<WeightUse>& uses);

struct CalibValueInfo {
  std::string name;
  std::string type;                // DataTypeName ("float", "int64", ...)
  std::vector<std::string> shape;  // fixed sizes as digits, symbolic names, "?" for unknown
};

struct CalibWeight {
  std::string graph;  // GraphDebugName ("graph 'main'")
  std::string name;
  std::string type;
  std::vector<int64_t> shape;
  std::string sha256;
  std::vector<std::string> uses;                // DescribeUses
  std::optional<PackedLayerHessians> hessians;  // absent: `no_data` says why
  std::string no_data;
  // >= 0: the Hessians' float32 arrays (total, then held-out, per group) were written ahead at
  // this offset of the spill file (CalibSpill) and their `lower` vectors freed.
  int64_t spill_offset = -1;
};

// A scratch file the Hessians of finished weights go to before the .calib file is written, so
// onnx-opt-calibrate holds only the weights it is measuring (one group per pass over the
// samples). Removed when destroyed.
class CalibSpill {
 public:
  static absl::StatusOr<std::unique_ptr<CalibSpill>> Create(const std::string& path);
  ~CalibSpill();
  // Appends the arrays of `w.hessians` and frees them (sets w.spill_offset).
  absl::Status Spill(CalibWeight& w);
  const std::string& path() const { return path_; }

 private:
  CalibSpill() = default;
  std::string path_;
  std::ofstream out_;
  int64_t bytes_ = 0;
};

// Range and histogram of one tensor over all samples. The histogram has `histogram.size()`
// equal bins over [-histogram_range, histogram_range]; values outside never occur (the range
// grows by doubling, merging bin pairs, as samples arrive).
struct CalibTensorStats {
  std::string name;
  std::string type;
  std::vector<int64_t> shape;  // of the last sample
  double min = 0, max = 0;
  int64_t count = 0;       // finite values seen
  int64_t non_finite = 0;  // NaN / infinity values (not in min/max/histogram)
  double histogram_range = 0;
  std::vector<double> histogram;
};

// One row of the "layer_noise" statistics (onnx-opt-calibrate --what layer-noise): the relative
// output noise sum ||y - y_fp32||^2 / ||y_fp32||^2 with only this node quantized by
// quantize-activations on ONNX Runtime's integer kernels. Not written by WriteCalibFile: the
// tool adds it to the index after the helper wrote the file.
struct CalibLayerNoise {
  std::string node;  // as quantize-activations' nodes= names it
  std::string op;
  double output_noise = 0;
};

// The "plan_speed" document (onnx-opt-calibrate --what plan-speed): the nodes the plan
// optimize-speed{calibration=FILE} made integer, and that plan's measured speed-up over the
// float graph in ONNX Runtime (fp32 time / integer time). Added to the index like layer_noise.
struct CalibPlanSpeed {
  std::vector<std::string> integer_nodes;  // sorted
  double fp32_ms = 0;
  double integer_ms = 0;
  double speedup = 0;
};

struct CalibContents {
  std::string producer;                 // "onnx-opt-calibrate 0.1.0"
  std::string model;                    // the model file as given to the tool
  std::vector<std::string> statistics;  // "hessians", "ranges", "sensitivity"
  std::vector<CalibValueInfo> inputs;
  int64_t samples = 0;
  std::string samples_json = "{}";  // how the samples were chosen (JSON object)
  std::vector<CalibWeight> weights;
  std::vector<CalibTensorStats> tensors;
  std::string sensitivity_json;              // onnx-opt-sensitivity-1 document, or empty
  std::vector<CalibLayerNoise> layer_noise;  // empty when not measured (ReadTensors, ReadAll)
  std::optional<CalibPlanSpeed> plan_speed;  // unset when not measured or no node was integer
};

// For an option naming a .calib file (sensitivity=): CalibFile::VerifyModel; OK for an empty
// path or another kind of file.
absl::Status VerifyCalibFileModel(const std::string& path, Model& model);

// sensitivity=FILE: the sensitivities of a .calib file, else SensitivityTable::Load (JSON).
absl::StatusOr<SensitivityTable> LoadSensitivityTable(const std::string& path);

// Writes `contents` to `path` through a temporary file renamed into place; refuses to replace
// anything but a regular file. Weights with a spill_offset take their arrays from `spill`.
absl::Status WriteCalibFile(const std::string& path, const CalibContents& contents,
                            const CalibSpill* spill = nullptr);

class CalibFile {
 public:
  ~CalibFile();
  // Reads and checks the index (magic, format, array bounds). Errors name the file.
  static absl::StatusOr<std::unique_ptr<CalibFile>> Open(const std::string& path);

  // One line naming the file and the first weight that is missing from `model` or differs in
  // shape, type or bytes: the file was measured on another model.
  absl::Status VerifyModel(Model& model) const;
  // The same for one weight: an error when the file holds `key` with another shape or values
  // (OK when the file does not hold it).
  absl::Status VerifyWeight(const WeightKey& key, const Tensor& tensor) const;

  // The Hessians of the weight `key` read by `uses`; nullopt with `why_not` when the file has
  // none for it (not measured, other uses, no data when measured).
  absl::StatusOr<std::optional<LayerHessians>> Hessians(const WeightKey& key,
                                                        const std::vector<WeightUse>& uses,
                                                        std::string* why_not) const;

  // The Hessians stored for the weight `key`, whoever read it; nullopt when none are stored.
  // Files whose arrays are F64 (written before the tool summed in float32) are read too,
  // rounded to float32.
  absl::StatusOr<std::optional<PackedLayerHessians>> StoredHessians(const WeightKey& key) const;

  // The onnx-opt-sensitivity-1 document, or an error when the file was made without
  // --what sensitivity.
  absl::StatusOr<std::string> SensitivityJson() const;

  // Everything, arrays included (tests, inspection).
  absl::StatusOr<CalibContents> ReadAll() const;

  // Everything but the weights: the header, the tensors' ranges with their histograms, the
  // layer noise and the sensitivities. `weights` stays empty and no Hessian array is read (they are
  // most of a file: 2.8 GB on ISNet), so quantize-activations holds only what it uses.
  absl::StatusOr<CalibContents> ReadTensors() const;

  const std::string& path() const { return path_; }

 private:
  struct Index;
  CalibFile() = default;
  std::string path_;
  std::unique_ptr<Index> index_;
};

}  // namespace onnx_opt
