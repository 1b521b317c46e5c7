// GPTQ for quantize-activations' per-channel weights: when the .calib file holds the Hessians of
// a weight (onnx-opt-calibrate --what hessians, measured on the graph the pass quantizes), its
// codes are rounded with GPTQ onto the same per-channel grid plain rounding uses (scale
// max|w| / (2^(bits-1) - 1), zero point fixed), so the scales, the bias quantization and the
// graph stay exactly as they are; only which code each weight gets changes.
//
// GPTQ is kept only where it beats plain rounding on the calibration samples it did not fit:
// fitted on the Hessian without the held-out half, both roundings are compared on that half
// (as quantize-weights' gptq-validate); then it is refitted on all samples.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/ir.h"
#include "passes/integer/act_ranges.h"
#include "passes/quantize/calib_file.h"

namespace onnx_opt {

struct ChannelGptqCounts {
  int64_t rounded = 0;       // weights rounded with GPTQ
  int64_t plain_better = 0;  // weights left plain: GPTQ lost on the held-out samples
  int64_t no_hessians = 0;   // weights the file has no Hessians for (or uses it did not measure)
};

class ChannelGptq {
 public:
  // The Hessians of the .calib file `calibration`. Each weight is checked against the file's
  // shape and SHA-256 when it is rounded (the pipeline may have changed weights the pass does
  // not quantize, e.g. int4 MatMul weights).
  static absl::StatusOr<std::unique_ptr<ChannelGptq>> Open(const std::string& calibration);

  // Re-rounds `q`, the plain per-channel quantization of constant input `input` of `node`
  // (`values` along `axis` to `bits`, zero point `zero_point`), with GPTQ where the file has the
  // weight's Hessians and GPTQ wins on held-out samples. Errors are bad calibration data.
  absl::Status Refine(Node* node, int input, const std::vector<float>& values,
                      const std::vector<int64_t>& dims, int64_t axis, int bits, int32_t zero_point,
                      ChannelQuantized& q);

  const ChannelGptqCounts& counts() const { return counts_; }

 private:
  explicit ChannelGptq(std::unique_ptr<CalibFile> file) : file_(std::move(file)) {}

  std::unique_ptr<CalibFile> file_;
  ChannelGptqCounts counts_;
};

}  // namespace onnx_opt
