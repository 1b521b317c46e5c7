#include "ir/strings.h"

#include <string>

#include "gtest/gtest.h"

namespace onnx_opt {
namespace {

// Every style must keep a line a line and leave printable text alone; they differ in what else
// they escape and how.
TEST(EscapeString, ThreeStyles) {
  const std::string text = std::string("a\"b\\c\nd\re\tf\x01g\x7fh\xc3\xa9", 17);
  EXPECT_EQ(EscapeString(text, EscapeStyle::kControl),
            "a\"b\\c\\nd\\re\\tf\\x01g\\x7fh\xc3\xa9");
  EXPECT_EQ(EscapeString(text, EscapeStyle::kQuoted),
            "a\\\"b\\\\c\\nd\\re\\tf\\x01g\\x7fh\xc3\xa9");
  EXPECT_EQ(EscapeString(text, EscapeStyle::kJson),
            "a\\\"b\\\\c\\nd\\u000de\\u0009f\\u0001g\x7fh\xc3\xa9");
  EXPECT_EQ(EscapeString(std::string("\0", 1), EscapeStyle::kControl), "\\x00");
  EXPECT_EQ(EscapeString("plain name_1.x", EscapeStyle::kQuoted), "plain name_1.x");
}

}  // namespace
}  // namespace onnx_opt
