// What the stages of quantize-weights pass along about one weight: the key naming it across
// files (sensitivity, calibration cache, mixed-precision plan) and the nodes reading it.
#pragma once

#include <compare>
#include <string>
#include <utility>

#include "ir/ir.h"

namespace onnx_opt {

// A weight by graph and name: the graph as GraphDebugName prints it ("main graph" at the top
// level, "graph 'body' of Loop 'l'" inside), so the same name in two subgraphs stays apart.
struct WeightKey {
  std::string graph;
  std::string weight;

  friend bool operator==(const WeightKey&, const WeightKey&) = default;
  friend auto operator<=>(const WeightKey&, const WeightKey&) = default;  // graph, then weight
  template <typename H>
  friend H AbslHashValue(H h, const WeightKey& key) {
    return H::combine(std::move(h), key.graph, key.weight);
  }
};

// The key of a weight value of `graph`.
WeightKey KeyOf(const Graph& graph, const Value& weight);

// A node reading a weight at `input_index`.
struct WeightUse {
  Node* node = nullptr;
  int input_index = 0;
};

}  // namespace onnx_opt
