#include "driver/driver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "driver/onnx_opt.h"

namespace onnx_opt {
namespace {

using ::testing::HasSubstr;

int RunDriver(std::vector<std::string> args, std::string* out, std::string* err) {
  std::ostringstream o, e;
  int code = RunOnnxOpt(args, o, e);
  *out = o.str();
  *err = e.str();
  return code;
}

TEST(DriverTest, FormatByExtensionAndContent) {
  EXPECT_EQ(FormatFromPath("a/b.onnx"), ModelFormat::kOnnx);
  EXPECT_EQ(FormatFromPath("a.onnxtxt"), ModelFormat::kText);
  EXPECT_EQ(FormatFromPath("model"), ModelFormat::kAuto);
  EXPECT_EQ(SniffFormat("<ir_version: 8>\nmain () => () {}"), ModelFormat::kText);
  EXPECT_EQ(SniffFormat("  # comment\n"), ModelFormat::kText);
  EXPECT_EQ(SniffFormat(std::string("\x08\x08\x12\x04", 4)), ModelFormat::kOnnx);
  // Starts with a letter but holds control bytes: a protobuf.
  EXPECT_EQ(SniffFormat(std::string("B\x01\x02main", 7)), ModelFormat::kOnnx);
}

TEST(DriverTest, FlagErrorsAreOneLine) {
  std::string out, err;
  EXPECT_EQ(RunDriver({"--bogus"}, &out, &err), 1);
  EXPECT_EQ(err, "onnx-opt: unknown flag '--bogus' (see onnx-opt --help)\n");
  EXPECT_EQ(RunDriver({"a.onnx", "b.onnx"}, &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("more than one input file"));
  EXPECT_EQ(RunDriver({}, &out, &err), 1);
  EXPECT_EQ(err, "onnx-opt: no input file (see onnx-opt --help)\n");
  EXPECT_EQ(RunDriver({"x.onnx", "-p"}, &out, &err), 1);
  EXPECT_EQ(err, "onnx-opt: -p needs a value\n");
  EXPECT_EQ(RunDriver({"x.onnx", "--verify-each=maybe"}, &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("--verify-each expects true or false"));
  EXPECT_EQ(RunDriver({"x.onnx", "--emit=onnx"}, &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("--emit=onnx needs an output file"));
  EXPECT_EQ(RunDriver({"x.onnx", "-p", "nope"}, &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("unknown pass 'nope'; valid passes: dce,"));
  EXPECT_EQ(RunDriver({"/nonexistent/x.onnxtxt"}, &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("onnx-opt: /nonexistent/x.onnxtxt: "));
  EXPECT_EQ(err.find('\n'), err.size() - 1);
}

TEST(DriverTest, ErrorsStayOneLineWhateverTheInputHolds) {
  std::string out, err;
  // A path with a newline (as a model's tensor or value name could hold one): escaped.
  EXPECT_EQ(RunDriver({"/nonexistent/a\nb\x01.onnxtxt"}, &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("onnx-opt: /nonexistent/a\\nb\\x01.onnxtxt: "));
  EXPECT_EQ(err.find('\n'), err.size() - 1) << err;
  EXPECT_EQ(RunDriver({"x.onnx", "-p", "dce{x=\"a\tb\"}"}, &out, &err), 1);
  EXPECT_EQ(err.find('\n'), err.size() - 1) << err;
  EXPECT_EQ(err.find('\t'), std::string::npos) << err;
}

TEST(DriverTest, ListPassesAndDocs) {
  std::string out, err;
  EXPECT_EQ(RunDriver({"--list-passes"}, &out, &err), 0);
  EXPECT_THAT(out, HasSubstr("dce"));
  EXPECT_THAT(out, HasSubstr("remove-initializers=<bool> (default: true)"));
  std::string docs = PassDocsMarkdown();
  EXPECT_THAT(docs, HasSubstr("## dedup-initializers"));
  EXPECT_THAT(docs, HasSubstr("| `min-bytes` | int in [0, 1000000000000000] | `0` |"));
}

}  // namespace
}  // namespace onnx_opt
