#include "quant/qdq.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "quant/block_kernels.h"
#include "quant/float16.h"
#include "quant/packing.h"

namespace onnx_opt::quant {
namespace {

using internal::kRoundMagic;
using internal::QTraits;

constexpr int64_t kParallelThreshold = int64_t{1} << 15;

std::string ShapeString(absl::Span<const int64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ","), "]");
}

template <FloatType F>
inline float LoadFloat(const uint8_t* bytes, int64_t i) {
  if constexpr (F == FloatType::kFloat32) {
    float v;
    std::memcpy(&v, bytes + 4 * i, 4);
    return v;
  } else {
    uint16_t h;
    std::memcpy(&h, bytes + 2 * i, 2);
    if constexpr (F == FloatType::kFloat16) {
      return HalfToFloat(h);
    } else {
      return BFloat16ToFloat(h);
    }
  }
}

std::vector<float> DecodeFloats(FloatBytes f) {
  const int64_t n = static_cast<int64_t>(f.bytes.size()) / FloatTypeBytes(f.type);
  std::vector<float> out(n);
  for (int64_t i = 0; i < n; ++i) {
    switch (f.type) {
      case FloatType::kFloat32:
        out[i] = LoadFloat<FloatType::kFloat32>(f.bytes.data(), i);
        break;
      case FloatType::kFloat16:
        out[i] = LoadFloat<FloatType::kFloat16>(f.bytes.data(), i);
        break;
      case FloatType::kBFloat16:
        out[i] = LoadFloat<FloatType::kBFloat16>(f.bytes.data(), i);
        break;
    }
  }
  return out;
}

// Offset of row (o, d)'s parameters and whether they vary along inner.
struct RowParams {
  int64_t offset;
  bool per_inner;
};

inline RowParams ParamsOfRow(const QdqLayout& L, int64_t o, int64_t d) {
  switch (L.granularity) {
    case QdqGranularity::kPerTensor:
      return {0, false};
    case QdqGranularity::kPerAxis:
      return {d, false};
    case QdqGranularity::kBlocked: {
      const int64_t nb = (L.axis_dim + L.block_size - 1) / L.block_size;
      return {(o * nb + d / L.block_size) * L.inner, true};
    }
  }
  return {0, false};
}

template <FloatType F, QType Q>
void QuantizeRows(const QdqLayout& L, const uint8_t* x, const float* scale, const int32_t* zp,
                  typename QTraits<Q>::Storage* out) {
  using T = QTraits<Q>;
  using Storage = typename T::Storage;
  const int64_t rows = L.outer * L.axis_dim;
  const int64_t inner = L.inner;
#pragma omp parallel for schedule(static) if (L.num_elements() >= kParallelThreshold)
  for (int64_t od = 0; od < rows; ++od) {
    const RowParams rp = ParamsOfRow(L, od / L.axis_dim, od % L.axis_dim);
    const int64_t e0 = od * inner;
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t p = rp.offset + (rp.per_inner ? i : 0);
      const int32_t z = zp[p];
      const float lo = static_cast<float>(T::kMin - z);
      const float hi = static_cast<float>(T::kMax - z);
      float v = LoadFloat<F>(x, e0 + i) / scale[p];
      v = v > lo ? v : lo;  // NaN -> minimum
      v = v < hi ? v : hi;
      out[e0 + i] = static_cast<Storage>(static_cast<int32_t>((v + kRoundMagic) - kRoundMagic) + z);
    }
  }
}

template <FloatType F, QType Q>
std::vector<uint8_t> QuantizeTyped(const QdqLayout& L, const uint8_t* x, const float* scale,
                                   const int32_t* zp) {
  using Storage = typename QTraits<Q>::Storage;
  const int64_t n = L.num_elements();
  std::vector<uint8_t> result(PackedByteSize(Q, n), 0);
  if constexpr (QTypeBits(Q) == 4) {
    std::vector<Storage> codes(n);
    QuantizeRows<F, Q>(L, x, scale, zp, codes.data());
    for (int64_t i = 0; i < n; ++i) {
      result[i >> 1] |= static_cast<uint8_t>((codes[i] & 0xF) << ((i & 1) * 4));
    }
  } else {
    QuantizeRows<F, Q>(L, x, scale, zp, reinterpret_cast<Storage*>(result.data()));
  }
  return result;
}

template <FloatType F>
std::vector<uint8_t> QuantizeForType(const QdqLayout& L, QType q, const uint8_t* x,
                                     const float* scale, const int32_t* zp) {
  return VisitQType(q,
                    [&](auto t) { return QuantizeTyped<F, decltype(t)::value>(L, x, scale, zp); });
}

template <FloatType F>
inline void StoreFloat(uint8_t* bytes, int64_t i, float v) {
  if constexpr (F == FloatType::kFloat32) {
    std::memcpy(bytes + 4 * i, &v, 4);
  } else {
    const uint16_t h = F == FloatType::kFloat16 ? FloatToHalf(v) : FloatToBFloat16(v);
    std::memcpy(bytes + 2 * i, &h, 2);
  }
}

template <FloatType F, QType Q>
void DequantizeTyped(const QdqLayout& L, const uint8_t* x, const float* scale, const int32_t* zp,
                     uint8_t* out) {
  const int64_t rows = L.outer * L.axis_dim;
  const int64_t inner = L.inner;
#pragma omp parallel for schedule(static) if (L.num_elements() >= kParallelThreshold)
  for (int64_t od = 0; od < rows; ++od) {
    const RowParams rp = ParamsOfRow(L, od / L.axis_dim, od % L.axis_dim);
    const int64_t e0 = od * inner;
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t p = rp.offset + (rp.per_inner ? i : 0);
      const float v = static_cast<float>(ReadCode(Q, x, e0 + i) - zp[p]) * scale[p];
      StoreFloat<F>(out, e0 + i, v);
    }
  }
}

template <FloatType F>
void DequantizeForType(const QdqLayout& L, QType q, const uint8_t* x, const float* scale,
                       const int32_t* zp, uint8_t* out) {
  VisitQType(q, [&](auto t) { DequantizeTyped<F, decltype(t)::value>(L, x, scale, zp, out); });
}

// Checks the parameter buffers against the layout and decodes them.
absl::Status DecodeParams(const QdqLayout& L, FloatBytes scale, QType q,
                          absl::Span<const uint8_t> zero_point, std::vector<float>& scales,
                          std::vector<int32_t>& zps) {
  const int64_t np = L.num_params();
  if (static_cast<int64_t>(scale.bytes.size()) != np * FloatTypeBytes(scale.type)) {
    return absl::InvalidArgumentError(absl::StrCat("scale needs ", np, " ",
                                                   FloatTypeName(scale.type), " values, got ",
                                                   scale.bytes.size(), " bytes"));
  }
  scales = DecodeFloats(scale);
  if (zero_point.empty()) {
    zps.assign(np, 0);
  } else {
    absl::StatusOr<std::vector<int32_t>> z = UnpackCodes(q, zero_point, np);
    if (!z.ok())
      return absl::InvalidArgumentError(absl::StrCat("zero point: ", z.status().message()));
    zps = *std::move(z);
  }
  return absl::OkStatus();
}

}  // namespace

int64_t QdqLayout::num_params() const {
  switch (granularity) {
    case QdqGranularity::kPerTensor:
      return 1;
    case QdqGranularity::kPerAxis:
      return axis_dim;
    case QdqGranularity::kBlocked:
      return outer * ((axis_dim + block_size - 1) / block_size) * inner;
  }
  return 0;
}

absl::StatusOr<QdqLayout> MakeQdqLayout(absl::Span<const int64_t> x_shape,
                                        absl::Span<const int64_t> scale_shape, int64_t axis,
                                        int64_t block_size) {
  const int64_t rank = static_cast<int64_t>(x_shape.size());
  int64_t scale_count = 1;
  for (int64_t d : scale_shape) scale_count *= d;
  QdqLayout layout;
  absl::StatusOr<BlockLayout> whole = BlockLayout::FromShape(x_shape, 0, 0);
  if (!whole.ok()) return whole.status();
  if (block_size < 0) return absl::InvalidArgumentError("block_size must not be negative");
  if (block_size == 0 && scale_count == 1 && scale_shape.size() <= 1) {
    layout.axis_dim = whole->num_elements();
    return layout;  // per-tensor
  }
  if (axis < -rank || axis >= rank) {
    return absl::InvalidArgumentError(
        absl::StrCat("axis ", axis, " is out of range for input rank ", rank));
  }
  if (axis < 0) axis += rank;
  absl::StatusOr<BlockLayout> view = BlockLayout::FromShape(x_shape, axis, 0);
  if (!view.ok()) return view.status();
  layout.outer = view->outer;
  layout.axis_dim = view->axis_dim;
  layout.inner = view->inner;
  if (block_size == 0) {
    if (scale_shape.size() != 1 || scale_shape[0] != x_shape[axis]) {
      return absl::InvalidArgumentError(absl::StrCat("per-axis scale must be 1-D with ",
                                                     x_shape[axis], " elements, got ",
                                                     ShapeString(scale_shape)));
    }
    layout.granularity = QdqGranularity::kPerAxis;
    return layout;
  }
  const int64_t blocks = (x_shape[axis] + block_size - 1) / block_size;
  bool ok = static_cast<int64_t>(scale_shape.size()) == rank;
  for (int64_t i = 0; ok && i < rank; ++i) {
    ok = scale_shape[i] == (i == axis ? blocks : x_shape[i]);
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat("blocked scale for input ", ShapeString(x_shape),
                                                   ", axis ", axis, ", block_size ", block_size,
                                                   " must have the input's shape with ", blocks,
                                                   " on the axis, got ", ShapeString(scale_shape)));
  }
  layout.granularity = QdqGranularity::kBlocked;
  layout.block_size = block_size;
  return layout;
}

absl::StatusOr<std::vector<uint8_t>> QuantizeLinear(const QdqLayout& layout, FloatBytes x,
                                                    FloatBytes scale, QType qtype,
                                                    absl::Span<const uint8_t> zero_point) {
  const int64_t n = layout.num_elements();
  if (static_cast<int64_t>(x.bytes.size()) != n * FloatTypeBytes(x.type)) {
    return absl::InvalidArgumentError(absl::StrCat("x needs ", n, " ", FloatTypeName(x.type),
                                                   " values, got ", x.bytes.size(), " bytes"));
  }
  std::vector<float> scales;
  std::vector<int32_t> zps;
  if (absl::Status s = DecodeParams(layout, scale, qtype, zero_point, scales, zps); !s.ok()) {
    return s;
  }
  switch (x.type) {
    case FloatType::kFloat32:
      return QuantizeForType<FloatType::kFloat32>(layout, qtype, x.bytes.data(), scales.data(),
                                                  zps.data());
    case FloatType::kFloat16:
      return QuantizeForType<FloatType::kFloat16>(layout, qtype, x.bytes.data(), scales.data(),
                                                  zps.data());
    case FloatType::kBFloat16:
      return QuantizeForType<FloatType::kBFloat16>(layout, qtype, x.bytes.data(), scales.data(),
                                                   zps.data());
  }
  return absl::InvalidArgumentError("unknown float type");
}

absl::StatusOr<std::vector<uint8_t>> DequantizeLinear(const QdqLayout& layout, QType qtype,
                                                      absl::Span<const uint8_t> x, FloatBytes scale,
                                                      absl::Span<const uint8_t> zero_point) {
  const int64_t n = layout.num_elements();
  if (static_cast<int64_t>(x.size()) != PackedByteSize(qtype, n)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "x needs ", PackedByteSize(qtype, n), " bytes of ", QTypeName(qtype), ", got ", x.size()));
  }
  std::vector<float> scales;
  std::vector<int32_t> zps;
  if (absl::Status s = DecodeParams(layout, scale, qtype, zero_point, scales, zps); !s.ok()) {
    return s;
  }
  std::vector<uint8_t> out(n * FloatTypeBytes(scale.type));
  switch (scale.type) {
    case FloatType::kFloat32:
      DequantizeForType<FloatType::kFloat32>(layout, qtype, x.data(), scales.data(), zps.data(),
                                             out.data());
      break;
    case FloatType::kFloat16:
      DequantizeForType<FloatType::kFloat16>(layout, qtype, x.data(), scales.data(), zps.data(),
                                             out.data());
      break;
    case FloatType::kBFloat16:
      DequantizeForType<FloatType::kBFloat16>(layout, qtype, x.data(), scales.data(), zps.data(),
                                              out.data());
      break;
  }
  return out;
}

absl::StatusOr<std::vector<float>> DequantizeLinearFloat(const QdqLayout& layout, QType qtype,
                                                         absl::Span<const uint8_t> x,
                                                         absl::Span<const float> scale,
                                                         absl::Span<const uint8_t> zero_point) {
  absl::StatusOr<std::vector<uint8_t>> bytes =
      DequantizeLinear(layout, qtype, x, FloatBytes::Of(scale), zero_point);
  if (!bytes.ok()) return bytes.status();
  std::vector<float> out(bytes->size() / sizeof(float));
  std::memcpy(out.data(), bytes->data(), bytes->size());
  return out;
}

}  // namespace onnx_opt::quant
