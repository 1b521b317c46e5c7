// OutputFile / CheckInputFile: what each kind of path does (ir/file_io.h).
#include "ir/file_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "ir/test_util.h"

namespace onnx_opt {
namespace {

using testing::ListDir;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode;
}

TEST(OutputFile, NewFileAppearsOnlyOnCommit) {
  TempDir dir;
  OutputFile file;
  ASSERT_TRUE(file.Open(dir.File("out.bin")).ok());
  EXPECT_TRUE(file.replaces_atomically());
  file.Append(std::string_view("abc"));
  file.AppendVarint(300);
  file.AppendZeros(2);
  ASSERT_TRUE(file.Finish().ok());
  EXPECT_FALSE(std::filesystem::exists(dir.File("out.bin")));
  ASSERT_TRUE(file.Commit().ok());
  EXPECT_EQ(ReadFile(dir.File("out.bin")), std::string("abc\xac\x02\0\0", 7));
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"out.bin"});
}

TEST(OutputFile, UncommittedWriteLeavesTheOldFileAndNoTemporary) {
  TempDir dir;
  WriteFile(dir.File("out.bin"), "old");
  {
    OutputFile file;
    ASSERT_TRUE(file.Open(dir.File("out.bin")).ok());
    file.Append(std::string_view("new"));
    ASSERT_TRUE(file.Finish().ok());
  }
  EXPECT_EQ(ReadFile(dir.File("out.bin")), "old");
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"out.bin"});
}

TEST(OutputFile, ReplacedFileKeepsItsPermissions) {
  TempDir dir;
  WriteFile(dir.File("out.bin"), "old");
  ASSERT_EQ(::chmod(dir.File("out.bin").c_str(), 0640), 0);
  ASSERT_TRUE(WriteOutputFile(dir.File("out.bin"), "new").ok());
  EXPECT_EQ(ReadFile(dir.File("out.bin")), "new");
  EXPECT_EQ(ModeOf(dir.File("out.bin")) & 07777, 0640u);
}

TEST(OutputFile, SymlinkChainIsFollowedAndTheLinksStay) {
  TempDir dir;
  std::filesystem::create_directory(dir.File("real"));
  WriteFile(dir.File("real/target.bin"), "old");
  std::filesystem::create_symlink("real/target.bin", dir.File("hop.bin"));
  std::filesystem::create_symlink("hop.bin", dir.File("link.bin"));
  OutputFile file;
  ASSERT_TRUE(file.Open(dir.File("link.bin")).ok());
  EXPECT_EQ(file.final_path(), dir.File("real/target.bin"));
  file.Append(std::string_view("new"));
  ASSERT_TRUE(file.Finish().ok());
  ASSERT_TRUE(file.Commit().ok());
  EXPECT_TRUE(S_ISLNK(ModeOf(dir.File("link.bin"))));
  EXPECT_TRUE(S_ISLNK(ModeOf(dir.File("hop.bin"))));
  EXPECT_EQ(ReadFile(dir.File("real/target.bin")), "new");
  EXPECT_EQ(ListDir(dir.File("real")), std::vector<std::string>{"target.bin"});
  EXPECT_EQ(FollowedPath(dir.File("link.bin")), dir.File("real/target.bin"));
}

TEST(OutputFile, DanglingSymlinkCreatesItsTarget) {
  TempDir dir;
  std::filesystem::create_symlink("new.bin", dir.File("link.bin"));
  ASSERT_TRUE(WriteOutputFile(dir.File("link.bin"), "x").ok());
  EXPECT_TRUE(S_ISLNK(ModeOf(dir.File("link.bin"))));
  EXPECT_EQ(ReadFile(dir.File("new.bin")), "x");
}

// /dev/zero and /dev/full rather than /dev/null: other programs on a shared machine may have
// damaged /dev/null (as onnx-opt itself once did, issue 18).
TEST(OutputFile, CharacterDeviceIsWrittenInPlace) {
  OutputFile file;
  ASSERT_TRUE(file.Open("/dev/zero").ok());
  EXPECT_FALSE(file.replaces_atomically());
  file.Append(std::string_view("discarded"));
  ASSERT_TRUE(file.Finish().ok());
  ASSERT_TRUE(file.Commit().ok());
  EXPECT_TRUE(S_ISCHR(ModeOf("/dev/zero")));
  // A failing device write is reported, and the device is left alone.
  absl::Status s = WriteOutputFile("/dev/full", "x");
  EXPECT_EQ(s.message(), "/dev/full: write failed: No space left on device");
  EXPECT_TRUE(S_ISCHR(ModeOf("/dev/full")));
}

TEST(OutputFile, FifoIsWrittenThroughToItsReader) {
  TempDir dir;
  const std::string fifo = dir.File("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] { received = ReadFile(fifo); });
  absl::Status s = WriteOutputFile(fifo, "through the pipe");
  reader.join();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(received, "through the pipe");
  EXPECT_TRUE(S_ISFIFO(ModeOf(fifo)));
  EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"fifo"});
}

TEST(OutputFile, DescriptorPathsWriteToThatDescriptor) {
  TempDir dir;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  // Also behind a symlink: its target "pipe:[...]" is not a path and must not be created.
  std::filesystem::create_symlink("/proc/self/fd/" + std::to_string(fds[1]), dir.File("fd"));
  ASSERT_TRUE(WriteOutputFile("/dev/fd/" + std::to_string(fds[1]), "ab").ok());
  ASSERT_TRUE(WriteOutputFile(dir.File("fd"), "cd").ok());
  ::close(fds[1]);
  char buffer[8] = {};
  EXPECT_EQ(::read(fds[0], buffer, sizeof(buffer)), 4);
  EXPECT_EQ(std::string(buffer), "abcd");
  ::close(fds[0]);
  EXPECT_TRUE(S_ISLNK(ModeOf(dir.File("fd"))));
  absl::Status s = WriteOutputFile("/proc/self/fd/987", "x");
  EXPECT_EQ(s.message(), "/proc/self/fd/987: cannot write to file descriptor 987: Bad file descriptor");
}

TEST(OutputFile, FolderAndMissingFolderAreOneLineErrors) {
  TempDir dir;
  std::filesystem::create_directory(dir.File("sub"));
  EXPECT_EQ(WriteOutputFile(dir.File("sub"), "x").message(),
            dir.File("sub") + ": is a folder; cannot write a file there");
  EXPECT_EQ(WriteOutputFile(dir.File("no/out.bin"), "x").message(),
            dir.File("no/out.bin") + ": cannot write: folder '" + dir.File("no") +
                "' does not exist");
  WriteFile(dir.File("file"), "x");
  EXPECT_EQ(WriteOutputFile(dir.File("file/out.bin"), "x").message(),
            dir.File("file/out.bin") + ": cannot write: part of the path is a file, not a folder");
  std::filesystem::create_symlink("sub", dir.File("to-folder"));
  EXPECT_EQ(WriteOutputFile(dir.File("to-folder"), "x").message(),
            dir.File("to-folder") + " (symlink to " + dir.File("sub") +
                "): is a folder; cannot write a file there");
  EXPECT_TRUE(std::filesystem::is_directory(dir.File("sub")));
  EXPECT_EQ(ListDir(dir.File("sub")), std::vector<std::string>{});
}

TEST(InputFile, EveryKindOfPathThatIsNotAFileIsNamed) {
  TempDir dir;
  std::filesystem::create_directory(dir.File("sub"));
  ASSERT_EQ(::mkfifo(dir.File("fifo").c_str(), 0600), 0);
  WriteFile(dir.File("empty"), "");
  WriteFile(dir.File("model"), "bytes");
  std::filesystem::create_symlink("nowhere", dir.File("dangling"));
  EXPECT_TRUE(CheckInputFile(dir.File("model")).ok());
  EXPECT_EQ(*ReadInputFile(dir.File("model")), "bytes");
  auto message = [](const std::string& path) {
    return std::string(ReadInputFile(path).status().message());
  };
  EXPECT_EQ(message(dir.File("sub")), dir.File("sub") + ": is a folder, not a regular file");
  EXPECT_EQ(message(dir.File("fifo")),
            dir.File("fifo") +
                ": is a FIFO, not a regular file (to read a stream, pass '-' and redirect it)");
  EXPECT_EQ(message("/dev/zero"),
            "/dev/zero: is a character device, not a regular file (to read a stream, pass '-' "
            "and redirect it)");
  EXPECT_EQ(message(dir.File("empty")), dir.File("empty") + ": empty file");
  EXPECT_EQ(message(dir.File("dangling")), dir.File("dangling") + ": cannot read: dangling symlink");
  EXPECT_EQ(message(dir.File("model/x")),
            dir.File("model/x") + ": cannot read: part of the path is a file, not a folder");
  EXPECT_EQ(message(dir.File("missing")),
            dir.File("missing") + ": cannot read: No such file or directory");
}

}  // namespace
}  // namespace onnx_opt
