// The rewrites of legalize (passes/legalize/legalize.cc): each turns a construct a runtime cannot
// load into an equivalent one it can. Every pattern counts its rewrites in the given statistic.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "passes/core/pass.h"
#include "passes/core/rewrite.h"

namespace onnx_opt::legalize {

// ConstantOfShape without `value` -> the same node with value = float[1] {0} (the default).
std::unique_ptr<RewritePattern> MakeExplicitConstantOfShapeValue(PassStatistic& count);

// Concat(x, c) along an axis where every input but x is a constant (an initializer, a Constant
// or ConstantOfShape of a constant shape) filled with one value -> Pad(x, pads, value).
// Needs opset >= 11 (pads as an input).
std::unique_ptr<RewritePattern> MakeConcatToPad(int64_t opset, PassStatistic& count);

// Split whose inputs are all constant -> initializers, computed by the reference evaluator.
std::unique_ptr<RewritePattern> MakeFoldConstantSplit(int64_t opset, PassStatistic& count);

// `op` (Conv or ConvTranspose) without kernel_shape -> kernel_shape from the weight's dims.
std::unique_ptr<RewritePattern> MakeExplicitKernelShape(std::string op, PassStatistic& count);

// Clip(x, min, max) with constant float32/float16 bounds -> Clip <min, max> (x) (opset-6 form,
// what OpenCV 4.6 reads). Exact: a float32 attribute holds every such bound.
std::unique_ptr<RewritePattern> MakeClipBoundsToAttributes(PassStatistic& count);

// Max/Min(x, c) with c a constant float scalar -> Clip <min|max = c> (x), the opset-6 form
// (OpenCV 4.6's Max/Min take no constant operand). Exact.
std::unique_ptr<RewritePattern> MakeConstantMaxMinToClip(PassStatistic& count);

// Clip with a computed min or max -> Max(x, min) and/or Min(., max) (OpenCV 4.12 reads only
// constant bounds); constant infinite bounds that clip nothing are dropped. relu_form (OpenCV
// 4.6, whose Max/Min do not broadcast): Relu(x - min) + min and x - Relu(x - max) instead.
std::unique_ptr<RewritePattern> MakeComputedClipToMaxMin(bool relu_form, PassStatistic& count);

// CastLike(c, like) with c constant and like's element type known -> c cast, as an initializer.
std::unique_ptr<RewritePattern> MakeFoldConstantCastLike(int64_t opset, PassStatistic& count);

// If whose branches are node lists (no nested subgraphs) with outputs of one type and static
// shape -> both branches inlined and Where(cond, then_out, else_out) per output (OpenCV 4.12 and
// 4.6 read no subgraphs). Exact: Where selects the taken branch's values.
std::unique_ptr<RewritePattern> MakeIfToWhere(PassStatistic& count);

// Mul/Add/Sub/Div(x, c) with c a constant vector along the last axis of x (rank >= 3, static)
// -> the op between two Transposes swapping axis 1 and the last, c as [1, C, 1, ...] (OpenCV
// 4.6 broadcasts a constant vector along axis 1 only). Exact.
std::unique_ptr<RewritePattern> MakeLastAxisConstantToChannel(PassStatistic& count);

// Why MakeIfToWhere cannot rewrite the If, or empty when it can.
std::string IfToWhereBlocker(const Node& node);

// Why the Clip cannot be made loadable by OpenCV 4.6 (the attribute form, or Max/Min for a
// computed bound), or empty when it can.
std::string ClipAttributeBlocker(const Node& clip);

}  // namespace onnx_opt::legalize
