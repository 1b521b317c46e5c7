// set-input-shapes: fixes the dynamic dims of graph inputs to given sizes, then re-infers shapes.
//
// Many runtimes (OpenCV DNN, some NPUs) need static shapes. A symbolic dim fixed on an input is
// fixed everywhere the model uses the same name (outputs and value_info included), then
// infer-shapes runs so every value gets the static shape. Inputs not named keep their dims.
// Errors (one line, naming the input): an unknown input, a rank other than the declared one, a
// size that contradicts a static dim, and one dim name given two different sizes.
//
// Before (shapes="x:1x3x8x8"):
//   main (float[N,3,H,W] x) => (float[N,3,H,W] y) {
//     y = Relu (x)
//   }
// After:
//   main (float[1,3,8,8] x) => (float[1,3,8,8] y) {
//     y = Relu (x)
//   }
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "passes/core/pass.h"
#include "passes/simplify/shape_inference.h"

namespace onnx_opt {
namespace {

struct InputShape {
  std::string name;
  std::vector<int64_t> dims;
};

absl::StatusOr<std::vector<InputShape>> ParseShapes(const std::vector<std::string>& items) {
  std::vector<InputShape> shapes;
  for (const std::string& item : items) {
    for (absl::string_view spec : absl::StrSplit(item, ',', absl::SkipEmpty())) {
      const size_t colon = spec.rfind(':');
      if (colon == absl::string_view::npos || colon == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", spec, "' is not NAME:D1xD2x... (e.g. x:1x3x224x224)"));
      }
      InputShape shape{std::string(spec.substr(0, colon)), {}};
      absl::string_view dims = spec.substr(colon + 1);
      if (!dims.empty()) {
        for (absl::string_view d : absl::StrSplit(dims, 'x')) {
          int64_t v = 0;
          if (!absl::SimpleAtoi(d, &v) || v < 0 || v > (int64_t{1} << 40)) {
            return absl::InvalidArgumentError(absl::StrCat("input '", shape.name, "': dim '", d,
                                                           "' is not a size between 0 and 2^40"));
          }
          shape.dims.push_back(v);
        }
      }
      shapes.push_back(std::move(shape));
    }
  }
  return shapes;
}

class SetInputShapesPass : public Pass {
 public:
  std::string_view name() const override { return "set-input-shapes"; }
  std::string_view summary() const override {
    return "Fix dynamic input dims to given sizes and re-infer every shape";
  }
  std::string_view description() const override {
    return "shapes=NAME:D1xD2x...,NAME2:... (a scalar is NAME:). A symbolic dim fixed on an "
           "input is replaced by its size wherever the model uses the same name, then "
           "infer-shapes runs. Inputs not named keep their dims.";
  }

  absl::Status RunOnModel(Model& model) override {
    if (!model.graph) return absl::OkStatus();
    absl::StatusOr<std::vector<InputShape>> shapes = ParseShapes(shapes_.value());
    if (!shapes.ok()) return shapes.status();
    Graph& graph = *model.graph;
    absl::flat_hash_map<std::string, int64_t> symbols;
    absl::flat_hash_map<std::string, std::string> symbol_source;
    for (const InputShape& shape : *shapes) {
      Value* input = nullptr;
      std::vector<std::string> names;
      for (Value* v : graph.inputs()) {
        if (v->is_initializer()) continue;
        names.push_back(v->name());
        if (v->name() == shape.name) input = v;
      }
      if (input == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("the model has no input '", shape.name,
                                                       "' (inputs: ", absl::StrJoin(names, ", "),
                                                       ")"));
      }
      if (!input->type.is_tensor()) {
        return absl::InvalidArgumentError(absl::StrCat("input '", shape.name, "' is not a tensor"));
      }
      std::vector<Dim> dims;
      if (input->type.shape) {
        const std::vector<Dim>& declared = *input->type.shape;
        if (declared.size() != shape.dims.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat("input '", shape.name, "' has rank ", declared.size(),
                           ", the shape given has rank ", shape.dims.size()));
        }
        for (size_t i = 0; i < declared.size(); ++i) {
          const Dim& d = declared[i];
          if (d.is_fixed() && *d.value != shape.dims[i]) {
            return absl::InvalidArgumentError(absl::StrCat("input '", shape.name, "' dim ", i,
                                                           " is fixed to ", *d.value,
                                                           ", cannot set it to ", shape.dims[i]));
          }
          if (!d.is_fixed()) ++dims_fixed_;
          if (!d.is_fixed() && !d.param.empty()) {
            auto [it, inserted] = symbols.emplace(d.param, shape.dims[i]);
            if (!inserted && it->second != shape.dims[i]) {
              return absl::InvalidArgumentError(
                  absl::StrCat("input '", shape.name, "' dim ", i, " ('", d.param, "') set to ",
                               shape.dims[i], " but input '", symbol_source[d.param], "' sets '",
                               d.param, "' to ", it->second));
            }
            symbol_source.emplace(d.param, shape.name);
          }
        }
      } else {
        dims_fixed_ += static_cast<int64_t>(shape.dims.size());
      }
      for (int64_t v : shape.dims) dims.push_back(Dim::Fixed(v));
      input->type.shape = std::move(dims);
      ++inputs_set_;
    }
    // The same dim name means the same size throughout the model.
    model.graph->Walk([&](Graph& g) {
      for (Value* v : g.values()) {
        if (!v->type.shape) continue;
        for (Dim& d : *v->type.shape) {
          auto it = d.is_fixed() || d.param.empty() ? symbols.end() : symbols.find(d.param);
          if (it != symbols.end()) d = Dim::Fixed(it->second);
        }
      }
    });
    ShapeInferenceStats stats;
    return InferModelShapes(model, &stats);
  }

 private:
  PassOption<std::vector<std::string>> shapes_{
      this, "shapes", "Input shapes, NAME:D1xD2x... separated by commas", {}};
  PassStatistic inputs_set_{this, "inputs-set", "Graph inputs given a static shape"};
  PassStatistic dims_fixed_{this, "dims-fixed", "Input dims that were dynamic and are now fixed"};
};

}  // namespace

std::unique_ptr<Pass> CreateSetInputShapesPass() { return std::make_unique<SetInputShapesPass>(); }

}  // namespace onnx_opt
