// quantize-weights: validation of option combinations and of the model's opset (the options
// themselves and their typed accessors are in quantize_weights_options.cc).
#include "absl/strings/str_cat.h"
#include "ir/file_io.h"
#include "passes/core/registry.h"
#include "passes/quantize/quantize_weights_options.h"

namespace onnx_opt {

absl::Status QuantizeWeightsOptions::Validate() const {
  // The pipeline parser puts the pass name in front.
  auto error = [](auto&&... parts) { return absl::InvalidArgumentError(absl::StrCat(parts...)); };
  const int64_t b = Bits();
  if (b != 4 && b != 8 && b != 16) return error("bits must be 4, 8 or 16, got ", b);
  const QuantFormat f = format();
  const std::string& fname = format_text.value();
  if (f == QuantFormat::kPostScale) {
    if (b != 8) return error("format=post-scale stores int8 only; use bits=8");
    if (!symmetric.value()) return error("format=post-scale has no zero point; use symmetric=true");
    if (granularity() != Granularity::kChannel) {
      return error("format=post-scale scales output channels; use granularity=channel");
    }
  }
  if (f == QuantFormat::kQdqAxis && b != 8) {
    return error("format=qdq-axis stores int8/uint8 only; use bits=8 or format=qdq");
  }
  if ((f == QuantFormat::kQdqAxis || f == QuantFormat::kArith) && ragged_text.is_set() &&
      ragged_text.value() == "allow") {
    return error("format=", fname,
                 " cannot express a short last block; use ragged=divisor or ragged=skip");
  }
  if (f == QuantFormat::kMatMulNBits) {
    const int64_t bs = block_size.value();
    if (b == 16) return error("format=matmul-nbits takes bits=4 or bits=8");
    if (granularity() != Granularity::kBlock) {
      return error("format=matmul-nbits needs granularity=block");
    }
    if (bs < 16 || (bs & (bs - 1)) != 0) {
      return error("format=matmul-nbits needs block-size a power of two >= 16, got ", bs);
    }
    if (const int64_t b8 = int8_block_size.value(); b8 != 0 && (b8 < 16 || (b8 & (b8 - 1)) != 0)) {
      return error("format=matmul-nbits needs int8-block-size a power of two >= 16, got ", b8);
    }
    if (ragged_text.value() == "divisor") {
      return error("format=matmul-nbits needs power-of-two blocks; use ragged=allow or skip");
    }
  }
  if (int8_block_size.value() == 1) return error("int8-block-size must be 0 or at least 2");
  if (absl::Status s = ValidateRuntime(); !s.ok()) return s;
  for (const PassOption<std::string>* pattern : {&exclude, &weights}) {
    if (pattern->value().empty()) continue;
    // std::regex reports a bad pattern only by throwing; contain it here.
    try {
      std::regex compiled(pattern->value(), std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return error(pattern->name(), " '", pattern->value(),
                   "' is not a valid regular expression: ", e.what());
    }
  }
  if (!sensitivity.value().empty() && !mixed_precision()) {
    return error("sensitivity= ranks weights for mixed precision; add target-size= or max-error=");
  }
  if (const std::string& path = calibration.value(); !path.empty()) {
    if (absl::Status s = CheckInputFile(path); !s.ok()) {
      return error("calibration file ", s.message());  // a .calib or a .json manifest
    }
  }
  if (bias_correction.value() && calibration.value().empty()) {
    return error("bias-correction=true measures output shifts on data; add calibration=");
  }
  if ((gptq_damp.is_set() || gptq_act_order.is_set() || gptq_shrink.is_set() ||
       gptq_validate.is_set()) &&
      calibration.value().empty()) {
    return error(gptq_damp.is_set()        ? "gptq-damp"
                 : gptq_act_order.is_set() ? "gptq-act-order"
                 : gptq_shrink.is_set()    ? "gptq-shrink"
                                           : "gptq-validate",
                 "= tunes data-aware rounding; add calibration=");
  }
  return absl::OkStatus();
}

absl::Status QuantizeWeightsOptions::ValidateRuntime() const {
  if (!ForOpenCv()) return absl::OkStatus();
  const std::string& rt = runtime.value();
  auto error = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat("runtime=", rt, " ", parts...));
  };
  if (rt == "opencv-4.6" && format() != QuantFormat::kPostScale) {
    return error(
        "loads only format=post-scale (OpenCV 4.6 takes no DequantizeLinear, with or "
        "without a zero point, nor the arith form)");
  }
  if (Bits() != 8) {
    return error("loads int8/uint8 weights only (no OpenCV reads int4 tensors); use bits=8");
  }
  if (ragged_text.is_set() && ragged_text.value() == "allow") {
    return error(
        "needs blocks that divide the reduction axis (broadcastBlockedMatrix); use "
        "ragged=divisor or ragged=skip");
  }
  if (format() == QuantFormat::kMatMulNBits) {
    return error("has no com.microsoft.MatMulNBits; use format=qdq");
  }
  if (int8_block_size.value() != 0) {
    return error("takes no mixed int4/int8 blocks (int8-block-size)");
  }
  return absl::OkStatus();
}

absl::Status QuantizeWeightsOptions::CheckOpset(int64_t opset) const {
  const QuantFormat f = format();
  int64_t needed = 1;
  std::string why;
  if (f == QuantFormat::kQdq) {
    needed = 21;
    why = "DequantizeLinear-21 (block_size, int4)";
  } else if (f == QuantFormat::kQdqAxis) {
    needed = 13;
    why = "per-axis DequantizeLinear-13";
  } else if (f == QuantFormat::kPostScale) {
    needed = 6;
    why = "Cast-6";
  } else if (f == QuantFormat::kArith && Bits() == 4) {
    needed = 21;
    why = "Cast-21 (the first Cast that reads int4/uint4)";
  } else if (f == QuantFormat::kArith) {
    needed = 6;
    why = "Cast-6 and Reshape-5";
  }
  if (opset >= needed) return absl::OkStatus();
  std::string upgrade = MakeDefaultPassRegistry().Contains("upgrade-opset")
                            ? absl::StrCat("run upgrade-opset{target=", needed, "} first, or ")
                            : std::string();
  const std::string other =
      f == QuantFormat::kArith ? "use bits=8 (Cast-6 reads int8) or format=matmul-nbits (any opset)"
                               : "use format=matmul-nbits (any opset) or format=arith (opset >= 6)";
  return absl::FailedPreconditionError(absl::StrCat("format=", format_text.value(), " writes ", why,
                                                    " but the model's default opset is ", opset,
                                                    "; ", upgrade, other));
}

bool QuantizeWeightsOptions::UsesOpset21Types(int64_t opset) const {
  return format() == QuantFormat::kQdq || (format() == QuantFormat::kArith && Bits() == 4) ||
         (format() == QuantFormat::kMatMulNBits && opset >= 21);
}

}  // namespace onnx_opt
