// A structural fingerprint of a model, to tell whether a pass changed it.
//
// Covers opset imports, and for every graph (subgraphs and function bodies included) its inputs,
// outputs, initializers, value types and nodes (op, domain, inputs, outputs, attributes). Tensor
// contents are identified by their shared buffer: passes replace tensors instead of writing into
// them (docs/design.md), so a new buffer is a change and the same buffer is the same data. Equal
// fingerprints within one process mean "nothing changed" (a 64-bit hash: collisions are possible
// in theory, not a concern for a fixpoint loop that is also capped).
#pragma once

#include <cstdint>

#include "ir/ir.h"

namespace onnx_opt {

uint64_t ModelFingerprint(Model& model);

}  // namespace onnx_opt
