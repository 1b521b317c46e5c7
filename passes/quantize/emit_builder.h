// What the emitters share: a builder of the initializers and nodes of one emitted form.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/strings.h"
#include "passes/quantize/emitters.h"
#include "quant/packing.h"

namespace onnx_opt {

// Builds the nodes and initializers of one emitted form and counts initializer bytes.
class Builder {
 public:
  Builder(const EmitSite& site, int64_t* bytes) : site_(site), bytes_(bytes) {}

  Value* Initializer(std::string_view suffix, DataType type, std::vector<int64_t> dims,
                     std::vector<uint8_t> data) {
    *bytes_ += static_cast<int64_t>(data.size());
    auto tensor =
        std::make_shared<Tensor>(type, std::move(dims), Buffer::FromVector(std::move(data)));
    return site_.graph.AddInitializer(absl::StrCat(site_.name, ToAbsl(suffix)), std::move(tensor));
  }
  Value* Shape(std::string_view suffix, const std::vector<int64_t>& dims) {
    std::vector<uint8_t> bytes(dims.size() * sizeof(int64_t));
    if (!dims.empty()) std::memcpy(bytes.data(), dims.data(), bytes.size());
    return Initializer(suffix, DataType::kInt64, {static_cast<int64_t>(dims.size())},
                       std::move(bytes));
  }
  Value* Scales(std::string_view suffix, const QuantizedWeight& w, std::vector<int64_t> dims,
                const std::vector<float>& values) {
    return Initializer(suffix, w.float_type, std::move(dims),
                       quant::EncodeScales(values, KernelFloatType(w.float_type)));
  }
  // A node producing one value of `type`/`dims` named after the weight plus `suffix`.
  Node* Op(std::string_view op_type, std::vector<Value*> inputs, std::string_view suffix,
           DataType type, const std::vector<int64_t>& dims) {
    Node* node = site_.graph.CreateNode(op_type, std::move(inputs), 1, site_.insert_before, "",
                                        {absl::StrCat(site_.name, ToAbsl(suffix))});
    std::vector<Dim> shape;
    for (int64_t d : dims) shape.push_back(Dim::Fixed(d));
    node->output(0)->type = ValueType::Tensor(type, std::move(shape));
    return node;
  }
  // Reshape of `in` to `dims` (skipped when `in` already has them).
  Value* ReshapeTo(Value* in, const std::vector<int64_t>& in_dims, const std::vector<int64_t>& dims,
                   std::string_view suffix, DataType type) {
    if (in_dims == dims) return in;
    Value* shape = Shape(absl::StrCat(ToAbsl(suffix), "_shape"), dims);
    return Op("Reshape", {in, shape}, suffix, type, dims)->output(0);
  }

 private:
  const EmitSite& site_;
  int64_t* bytes_;
};

}  // namespace onnx_opt
