#include "passes/core/fingerprint.h"

#include <string_view>
#include <type_traits>
#include <variant>

namespace onnx_opt {
namespace {

// FNV-1a over the fields, in a fixed order.
class Hasher {
 public:
  void Bytes(const void* data, size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) {
      hash_ ^= p[i];
      hash_ *= 1099511628211ULL;
    }
  }
  template <typename T>
  void Pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    Bytes(&v, sizeof(v));
  }
  void Str(std::string_view s) {
    Pod(s.size());
    Bytes(s.data(), s.size());
  }
  void Ptr(const void* p) { Pod(reinterpret_cast<uintptr_t>(p)); }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 14695981039346656037ULL;
};

void HashType(Hasher& h, const ValueType& type) {
  h.Pod(type.kind);
  h.Pod(type.elem_type);
  h.Str(type.opaque_proto);
  h.Pod(type.shape.has_value());
  if (!type.shape) return;
  h.Pod(type.shape->size());
  for (const Dim& d : *type.shape) {
    h.Pod(d.value.value_or(-1));
    h.Str(d.param);
  }
}

void HashTensor(Hasher& h, const TensorPtr& t) {
  h.Ptr(t.get());
  if (t == nullptr) return;
  h.Ptr(t->buffer().get());
  h.Pod(t->type());
  for (int64_t d : t->dims()) h.Pod(d);
}

// Names identify values within a graph's scope; an absent optional value hashes apart from "".
void HashValue(Hasher& h, const Value* v) {
  h.Pod(v != nullptr);
  if (v != nullptr) h.Str(v->name());
}

void HashAttribute(Hasher& h, const Attribute& attr) {
  h.Str(attr.name);
  h.Pod(attr.type);
  h.Str(attr.ref_attr_name);
  std::visit(
      [&h](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, float> || std::is_same_v<T, int64_t>) {
          h.Pod(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          h.Str(v);
        } else if constexpr (std::is_same_v<T, TensorPtr>) {
          HashTensor(h, v);
        } else if constexpr (std::is_same_v<T, Attribute::GraphPtr>) {
          h.Ptr(v.get());  // its contents are hashed as a graph of their own
        } else if constexpr (std::is_same_v<T, std::vector<float>> ||
                             std::is_same_v<T, std::vector<int64_t>>) {
          h.Pod(v.size());
          h.Bytes(v.data(), v.size() * sizeof(v[0]));
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          for (const std::string& s : v) h.Str(s);
        } else if constexpr (std::is_same_v<T, std::vector<TensorPtr>>) {
          for (const TensorPtr& t : v) HashTensor(h, t);
        } else if constexpr (std::is_same_v<T, std::vector<Attribute::GraphPtr>>) {
          for (const auto& g : v) h.Ptr(g.get());
        } else if constexpr (std::is_same_v<T, std::vector<OpaqueProto>>) {
          for (const OpaqueProto& p : v) h.Str(p.bytes);
        }
      },
      attr.value);
}

void HashGraph(Hasher& h, const Graph& graph) {
  h.Str("graph");
  for (const Value* v : graph.inputs()) HashValue(h, v);
  h.Str("outputs");
  for (const Value* v : graph.outputs()) HashValue(h, v);
  h.Str("initializers");
  for (const Value* v : graph.initializers()) {
    HashValue(h, v);
    HashTensor(h, v->initializer());
  }
  h.Str("values");
  for (const Value* v : graph.values()) {
    HashValue(h, v);
    HashType(h, v->type);
    h.Pod(v->in_value_info);
  }
  h.Str("nodes");
  for (const auto& node : graph.nodes()) {
    h.Str(node->op_type);
    h.Str(node->domain);
    h.Str(node->name);
    h.Pod(node->inputs().size());
    for (const Value* v : node->inputs()) HashValue(h, v);
    h.Pod(node->outputs().size());
    for (const Value* v : node->outputs()) HashValue(h, v);
    for (const Attribute& attr : node->attributes()) HashAttribute(h, attr);
  }
}

}  // namespace

uint64_t ModelFingerprint(Model& model) {
  Hasher h;
  for (const OpsetImport& opset : model.opset_imports) {
    h.Str(opset.domain);
    h.Pod(opset.version);
  }
  h.Pod(model.ir_version);
  model.WalkGraphs([&h](Graph& graph) { HashGraph(h, graph); });
  return h.value();
}

}  // namespace onnx_opt
