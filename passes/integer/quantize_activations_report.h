// report=FILE of quantize-activations: every node of the selected op types with its decision
// and the reason, every quantized tensor with its measured and chosen range, parameters and
// the SQNR its histogram predicts (JSON, format onnx-opt-quantize-activations-report-1).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "passes/integer/act_ranges.h"

namespace onnx_opt {

struct NodeDecision {
  std::string name;
  std::string op_type;
  bool quantized = false;
  std::string reason;  // why it stays float (empty when quantized)
  std::string detail;  // latency estimate and predicted SQNR
};

struct TensorDecision {
  std::string name;
  double min = 0, max = 0;  // measured
  FloatRange range;         // chosen
  QuantParams params;
  double sqnr_db = 0;      // predicted from the histogram
  std::string folded_ops;  // scalar ops folded into its QuantizeLinear ("Mul,Add"), or empty
};

struct QuantizeActivationsReport {
  std::string calibration;
  std::string method;
  std::string activations;
  int weight_bits = 0;
  bool weights_signed = true;
  std::string plan_speed;  // what the .calib file's plan_speed said, or empty
  std::vector<NodeDecision> nodes;
  std::vector<TensorDecision> tensors;
};

std::string QuantizeActivationsReportJson(const QuantizeActivationsReport& report);

// Writes the JSON through WriteOutputFile; errors start with "report ".
absl::Status WriteQuantizeActivationsReport(const std::string& path,
                                            const QuantizeActivationsReport& report);

}  // namespace onnx_opt
