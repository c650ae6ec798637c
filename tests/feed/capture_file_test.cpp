// Tests of kinetic's capture file (format bytes, writer, reader, torn tails, damage) and of
// the zip / gzip member reader.
#include "kinetic/feed/capture_file.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kinetic/feed/zip_member.hpp"

namespace kinetic::feed {
namespace {

class TempDir : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(testing::TempDir()) /
           ("capture_file_" + std::to_string(::getpid()) + "_" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}
void write_whole(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::uint32_t le32(const std::string& bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (std::size_t i = 4; i-- > 0;)
    value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

struct Expected {
  RecordKind kind;
  std::int64_t ts;
  std::string payload;
  std::uint16_t stream;
};

const std::vector<Expected>& every_kind() {
  static const std::vector<Expected> records = {
      {RecordKind::connection_opened, 1'700'000'000'000'000'001,
       "wss://stream.bybit.com/v5/public/linear", 1},
      {RecordKind::text_message, 1'700'000'000'000'000'002,
       R"({"topic":"publicTrade.BTCUSDT","ts":1})", 1},
      {RecordKind::binary_message, 1'700'000'000'000'000'003, std::string("\0\1\2\xff", 4), 2},
      {RecordKind::text_message, 1'700'000'000'000'000'004, "", 2},
      {RecordKind::note, 1'700'000'000'000'000'005, "gap: 3 s without data", 0},
      {RecordKind::connection_closed, -5, "1006 abnormal closure", 1},
  };
  return records;
}

std::string capture_bytes(const std::vector<Expected>& records, std::string source = "test") {
  std::string bytes;
  append_capture_header(bytes, CaptureFileHeader{kCaptureVersion, 123456789, std::move(source)});
  for (const Expected& r : records)
    append_capture_record(bytes, r.kind, r.ts, r.payload, r.stream);
  return bytes;
}

// Reads every record and checks it against `expected` (a prefix of it when torn).
void expect_records(CaptureReader& reader, const std::vector<Expected>& expected,
                    std::size_t count) {
  CaptureRecord record;
  for (std::size_t i = 0; i < count; ++i) {
    ASSERT_TRUE(reader.next(record)) << "record " << i;
    EXPECT_EQ(record.kind, expected[i].kind) << i;
    EXPECT_EQ(record.recv_ts_ns, expected[i].ts) << i;
    EXPECT_EQ(record.payload, expected[i].payload) << i;
    EXPECT_EQ(record.stream, expected[i].stream) << i;
  }
  EXPECT_FALSE(reader.next(record));
  EXPECT_EQ(reader.records(), count);
}

TEST(CaptureFormat, PaddingMatchesSimdjson) {
  EXPECT_EQ(kCapturePayloadPadding, simdjson::SIMDJSON_PADDING);
}

TEST(CaptureFormat, BytesAreTheDocumentedLayout) {
  std::string bytes;
  append_capture_header(bytes, CaptureFileHeader{1, 0x0102030405060708, "src"});
  ASSERT_EQ(bytes.size(), 35U);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89KCAP\r\n\x1a", 8));
  EXPECT_EQ(bytes.substr(8, 8), std::string("\1\0\0\0\3\0\0\0", 8));  // version, flags, D
  EXPECT_EQ(bytes.substr(16, 8), std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  std::uint32_t crc =
      static_cast<std::uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), 24));
  crc = static_cast<std::uint32_t>(::crc32(crc, reinterpret_cast<const Bytef*>("src"), 3));
  EXPECT_EQ(le32(bytes, 24), crc);
  EXPECT_EQ(le32(bytes, 28), 0U);
  EXPECT_EQ(bytes.substr(32), "src");

  const std::size_t at = bytes.size();
  append_capture_record(bytes, RecordKind::text_message, 258, "hi", 7);
  ASSERT_EQ(bytes.size(), at + 26);
  const std::string record = bytes.substr(at);
  EXPECT_EQ(le32(record, 0), 2U);
  EXPECT_EQ(record.substr(8, 8), std::string("\x02\x01\0\0\0\0\0\0", 8));
  EXPECT_EQ(record[16], '\1');                                        // text_message
  EXPECT_EQ(record.substr(17, 7), std::string("\0\7\0\0\0\0\0", 7));  // flags, stream, reserved
  EXPECT_EQ(record.substr(24), "hi");
  std::string covered = record.substr(0, 4) + record.substr(8);
  EXPECT_EQ(le32(record, 4),
            static_cast<std::uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(covered.data()),
                                               static_cast<uInt>(covered.size()))));
}

TEST_F(TempDir, WriterReaderRoundTripOfEveryKind) {
  const std::string file = path("a.kcap");
  {
    CaptureWriterOptions options;
    options.source = "wss://stream.bybit.com/v5/public/linear publicTrade.BTCUSDT";
    options.created_ns = 42;
    options.buffer_bytes = 16;  // several write(2)s
    CaptureWriter writer(file, options);
    for (const Expected& r : every_kind())
      writer.append(r.kind, r.ts, r.payload, r.stream);
    EXPECT_EQ(writer.records(), every_kind().size());
    writer.close();
  }
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777 & ~0644U, 0U);  // at most 0644 (less the umask)
  CaptureReader reader = CaptureReader::open(file);
  EXPECT_EQ(reader.header().version, 1);
  EXPECT_EQ(reader.header().created_ns, 42);
  EXPECT_EQ(reader.header().source, "wss://stream.bybit.com/v5/public/linear publicTrade.BTCUSDT");
  expect_records(reader, every_kind(), every_kind().size());
  EXPECT_FALSE(reader.torn());
  EXPECT_EQ(reader.good_end_offset(), static_cast<std::uint64_t>(info.st_size));
}

TEST_F(TempDir, WrittenBytesEqualTheEncoder) {
  const std::string file = path("b.kcap");
  CaptureWriterOptions options;
  options.source = "test";
  options.created_ns = 123456789;
  options.sync_interval_ms = 0;  // fdatasync on every append: still the same bytes
  {
    CaptureWriter writer(file, options);
    for (const Expected& r : every_kind())
      writer.append(r.kind, r.ts, r.payload, r.stream);
  }  // the destructor flushes
  EXPECT_EQ(read_whole(file), capture_bytes(every_kind()));
}

TEST_F(TempDir, PayloadIsPaddedForSimdjson) {
  const std::string file = path("c.kcap");
  const std::string json = R"({"topic":"orderbook.1.BTCUSDT","ts":1700000000123})";
  {
    CaptureWriter writer(file, {});
    writer.append(RecordKind::text_message, 1, json);
  }
  CaptureReader reader = CaptureReader::open(file);
  CaptureRecord record;
  ASSERT_TRUE(reader.next(record));
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  ASSERT_EQ(
      parser
          .iterate(simdjson::padded_string_view(record.payload.data(), record.payload.size(),
                                                record.payload.size() + kCapturePayloadPadding))
          .get(doc),
      simdjson::SUCCESS);
  std::int64_t ts = 0;
  ASSERT_EQ(doc["ts"].get_int64().get(ts), simdjson::SUCCESS);
  EXPECT_EQ(ts, 1700000000123);
}

TEST_F(TempDir, RecordLargerThanTheReadBufferGrowsIt) {
  const std::string file = path("big.kcap");
  std::string big(9U << 20, 'x');  // over the 4 MiB read chunk
  big.back() = 'y';
  {
    CaptureWriter writer(file, {});
    writer.append(RecordKind::text_message, 1, "small");
    writer.append(RecordKind::binary_message, 2, big);
    writer.append(RecordKind::text_message, 3, "after");
  }
  CaptureReader reader = CaptureReader::open(file);
  CaptureRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.payload, "small");
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.payload.size(), big.size());
  EXPECT_TRUE(record.payload == big);
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.payload, "after");
  EXPECT_FALSE(reader.next(record));
}

TEST_F(TempDir, AppendAddsToAnExistingCapture) {
  const std::string file = path("d.kcap");
  const std::vector<Expected>& all = every_kind();
  CaptureWriterOptions options;
  options.source = "first";
  {
    CaptureWriter writer(file, options);
    writer.append(all[0].kind, all[0].ts, all[0].payload, all[0].stream);
    writer.append(all[1].kind, all[1].ts, all[1].payload, all[1].stream);
  }
  options.mode = CaptureWriterOptions::Mode::append_or_create;
  options.source = "ignored when appending";
  {
    CaptureWriter writer(file, options);
    EXPECT_EQ(writer.existing_records(), 2U);
    EXPECT_EQ(writer.truncated_tail_bytes(), 0U);
    for (std::size_t i = 2; i < all.size(); ++i)
      writer.append(all[i].kind, all[i].ts, all[i].payload, all[i].stream);
  }
  CaptureReader reader = CaptureReader::open(file);
  EXPECT_EQ(reader.header().source, "first");
  expect_records(reader, all, all.size());

  // Mode::create refuses an existing file; append refuses a file that is not a capture.
  options.mode = CaptureWriterOptions::Mode::create;
  EXPECT_THROW(CaptureWriter(file, options), CaptureFileError);
  const std::string text = path("text.txt");
  write_whole(text, "timestamp,price\n1,2\n and more bytes than a header needs......");
  options.mode = CaptureWriterOptions::Mode::append_or_create;
  try {
    CaptureWriter writer(text, options);
    FAIL() << "appended to a text file";
  } catch (const CaptureFileError& error) {
    EXPECT_NE(std::string(error.what()).find("not a kinetic capture file"), std::string::npos)
        << error.what();
  }
  EXPECT_EQ(read_whole(text).substr(0, 15), "timestamp,price");  // untouched
  // append_or_create on a missing file creates it.
  {
    CaptureWriter writer(path("new.kcap"), options);
    writer.append(RecordKind::note, 9, "x");
  }
  CaptureReader created = CaptureReader::open(path("new.kcap"));
  EXPECT_EQ(created.header().source, "ignored when appending");
}

TEST_F(TempDir, AppendCutsATornTailFirst) {
  const std::string file = path("e.kcap");
  std::string bytes = capture_bytes({every_kind()[0], every_kind()[1]});
  const std::size_t whole = bytes.size();
  append_capture_record(bytes, RecordKind::text_message, 77, "this one is cut short");
  bytes.resize(bytes.size() - 5);
  write_whole(file, bytes);
  CaptureWriterOptions options;
  options.mode = CaptureWriterOptions::Mode::append_or_create;
  {
    CaptureWriter writer(file, options);
    EXPECT_EQ(writer.existing_records(), 2U);
    EXPECT_EQ(writer.truncated_tail_bytes(), bytes.size() - whole);
    writer.append(every_kind()[2].kind, every_kind()[2].ts, every_kind()[2].payload,
                  every_kind()[2].stream);
  }
  CaptureReader reader = CaptureReader::open(file);
  expect_records(reader, every_kind(), 3);
  EXPECT_FALSE(reader.torn());
}

TEST(CaptureReaderTest, TornTailCutAtEveryByteOfTheLastRecord) {
  const std::vector<Expected>& all = every_kind();
  const std::string before = capture_bytes({all.begin(), all.end() - 1});
  const std::string bytes = capture_bytes(all);
  ASSERT_GT(bytes.size(), before.size());
  for (std::size_t cut = before.size(); cut < bytes.size(); ++cut) {
    CaptureReader reader = CaptureReader::from_memory(std::string_view(bytes).substr(0, cut));
    expect_records(reader, all, all.size() - 1);
    EXPECT_EQ(reader.torn(), cut > before.size()) << cut;
    EXPECT_EQ(reader.good_end_offset(), before.size());
    if (cut > before.size()) {
      EXPECT_EQ(reader.torn_offset(), before.size()) << cut;
      EXPECT_EQ(reader.torn_bytes(), cut - before.size()) << cut;
    }
  }
}

TEST_F(TempDir, TornTailInAFileIsReportedAndIgnored) {
  const std::string bytes = capture_bytes(every_kind());
  const std::string file = path("torn.kcap");
  write_whole(file, bytes.substr(0, bytes.size() - 3));
  CaptureReader reader = CaptureReader::open(file);
  expect_records(reader, every_kind(), every_kind().size() - 1);
  EXPECT_TRUE(reader.torn());
  EXPECT_EQ(reader.torn_bytes(),
            kCaptureRecordHeaderBytes + every_kind().back().payload.size() - 3);
}

TEST(CaptureReaderTest, CrcMismatchInTheLastRecordIsATornTail) {
  const std::vector<Expected>& all = every_kind();
  const std::size_t last = capture_bytes({all.begin(), all.end() - 1}).size();
  std::string bytes = capture_bytes(all);
  bytes.back() = static_cast<char>(bytes.back() ^ 0x20);  // a payload byte of the last record
  CaptureReader reader = CaptureReader::from_memory(bytes);
  expect_records(reader, all, all.size() - 1);
  EXPECT_TRUE(reader.torn());
  EXPECT_EQ(reader.torn_offset(), last);
  EXPECT_EQ(reader.torn_bytes(), bytes.size() - last);
}

TEST(CaptureReaderTest, CrcMismatchInAMiddleRecordIsAnErrorWithItsOffset) {
  const std::vector<Expected>& all = every_kind();
  const std::size_t third = capture_bytes({all.begin(), all.begin() + 2}).size();
  std::string bytes = capture_bytes(all);
  bytes[third + 25] = static_cast<char>(bytes[third + 25] ^ 1);  // record 3's payload
  CaptureReader reader = CaptureReader::from_memory(bytes, "x.kcap");
  CaptureRecord record;
  ASSERT_TRUE(reader.next(record));
  ASSERT_TRUE(reader.next(record));
  try {
    (void)reader.next(record);
    FAIL() << "damage was not reported";
  } catch (const CaptureFileError& error) {
    EXPECT_EQ(error.offset(), third);
    EXPECT_EQ(std::string(error.what()), "x.kcap: damaged capture record at offset " +
                                             std::to_string(third) + ": CRC mismatch");
  }
  // A damaged timestamp (header bytes) is damage too.
  bytes = capture_bytes(all);
  bytes[third + 9] = static_cast<char>(bytes[third + 9] ^ 1);
  CaptureReader again = CaptureReader::from_memory(bytes);
  ASSERT_TRUE(again.next(record));
  ASSERT_TRUE(again.next(record));
  EXPECT_THROW((void)again.next(record), CaptureFileError);
}

TEST(CaptureReaderTest, OverlongLengthInTheMiddleIsAnError) {
  std::string bytes = capture_bytes(every_kind());
  const std::size_t first = capture_bytes({}).size();
  bytes[first + 3] = '\x7f';  // length 0x7f0000xx > 1 GiB
  CaptureReader reader = CaptureReader::from_memory(bytes);
  CaptureRecord record;
  try {
    (void)reader.next(record);
    FAIL();
  } catch (const CaptureFileError& error) {
    EXPECT_EQ(error.offset(), first);
  }
}

TEST(CaptureReaderTest, ZeroFilledTailIsTorn) {
  std::string bytes = capture_bytes(every_kind());
  const std::size_t good = bytes.size();
  bytes.append(100, '\0');  // a crash after the file size grew but before the data landed
  CaptureReader reader = CaptureReader::from_memory(bytes);
  expect_records(reader, every_kind(), every_kind().size());
  EXPECT_TRUE(reader.torn());
  EXPECT_EQ(reader.torn_offset(), good);
  EXPECT_EQ(reader.torn_bytes(), 100U);
}

TEST(CaptureReaderTest, BadMagicVersionAndHeaderAreClearErrors) {
  std::string bytes = capture_bytes(every_kind());
  auto message = [](const std::string& data) {
    try {
      (void)CaptureReader::from_memory(data, "f.kcap");
    } catch (const CaptureFileError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  std::string wrong = bytes;
  wrong[1] = 'X';
  EXPECT_EQ(message(wrong), "f.kcap: not a kinetic capture file (wrong magic)");
  wrong = bytes;
  wrong[8] = 2;
  EXPECT_EQ(message(wrong), "f.kcap: unsupported capture format version 2 (this reader knows 1)");
  wrong = bytes;
  wrong[33] = 'X';  // the description: header CRC
  EXPECT_EQ(message(wrong), "f.kcap: capture file header CRC mismatch");
  EXPECT_EQ(message(bytes.substr(0, 20)), "f.kcap: truncated capture file header (20 of 32 bytes)");
  EXPECT_EQ(message(""), "f.kcap: truncated capture file header (0 of 32 bytes)");
  EXPECT_EQ(message("{\"t\":\"header\",\"format\":2,\"exchange\":\"BYBIT\"}"),
            "f.kcap: not a kinetic capture file (wrong magic)");
  // Header only: a valid, empty capture.
  CaptureReader empty = CaptureReader::from_memory(capture_bytes({}));
  CaptureRecord record;
  EXPECT_FALSE(empty.next(record));
  EXPECT_FALSE(empty.torn());
}

// The fuzz seeds were written by a Python script with zlib.crc32 (an independent encoder of
// the documented layout): the reader takes them as they are.
TEST(CaptureReaderTest, ReadsCapturesWrittenByAnotherEncoder) {
  const std::string dir = std::string(KINETIC_SOURCE_DIR) + "/tests/fuzz/corpus/capture_file/";
  CaptureReader reader = CaptureReader::open(dir + "valid_every_kind.kcap");
  EXPECT_EQ(reader.header().source, "wss://stream.bybit.com/v5/public/linear publicTrade.BTCUSDT");
  EXPECT_EQ(reader.header().created_ns, 1700000000000000000);
  const std::vector<Expected> expected = {
      {RecordKind::connection_opened, 1, "wss://stream.bybit.com/v5/public/linear", 1},
      {RecordKind::text_message, 2,
       R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[]})", 1},
      {RecordKind::binary_message, 3, std::string("\0\1\2", 3), 2},
      {RecordKind::note, 4, "gap: 3 s", 0},
      {RecordKind::connection_closed, 5, "1006 abnormal closure", 1}};
  expect_records(reader, expected, expected.size());
  EXPECT_FALSE(reader.torn());
  CaptureReader torn = CaptureReader::open(dir + "torn_tail.kcap");
  expect_records(torn, expected, expected.size() - 1);
  EXPECT_TRUE(torn.torn());
  EXPECT_EQ(torn.torn_bytes(), 24U + 21U - 7U);
}

TEST(CaptureReaderTest, UnknownKindIsYieldedAsIs) {
  std::string bytes;
  append_capture_header(bytes, {});
  append_capture_record(bytes, static_cast<RecordKind>(200), 5, "future");
  CaptureReader reader = CaptureReader::from_memory(bytes);
  CaptureRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(static_cast<int>(record.kind), 200);
  EXPECT_EQ(record_kind_name(record.kind), "unknown");
  EXPECT_EQ(record_kind_name(RecordKind::connection_opened), "connection_opened");
}

// --- zip --------------------------------------------------------------------------------

void put16(std::string& out, unsigned value) {
  out.push_back(static_cast<char>(value & 0xFF));
  out.push_back(static_cast<char>((value >> 8) & 0xFF));
}
void put32(std::string& out, std::uint32_t value) {
  put16(out, value & 0xFFFF);
  put16(out, value >> 16);
}

std::string raw_deflate(const std::string& data) {
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

struct Member {
  std::string name;
  std::string data;
  bool deflate;
  bool descriptor;  // sizes deferred to a data descriptor (flag bit 3)
};

// A zip file made the way zip tools make them.
std::string make_zip(const std::vector<Member>& members) {
  std::string zip;
  std::string directory;
  for (const Member& m : members) {
    const std::uint32_t offset = static_cast<std::uint32_t>(zip.size());
    const std::string stored = m.deflate ? raw_deflate(m.data) : m.data;
    const auto crc = static_cast<std::uint32_t>(::crc32(
        0, reinterpret_cast<const Bytef*>(m.data.data()), static_cast<uInt>(m.data.size())));
    const unsigned flags = m.descriptor ? 8U : 0U;
    const unsigned method = m.deflate ? 8U : 0U;
    put32(zip, 0x04034b50);
    put16(zip, 20);
    put16(zip, flags);
    put16(zip, method);
    put16(zip, 0);
    put16(zip, 0);
    put32(zip, m.descriptor ? 0 : crc);
    put32(zip, m.descriptor ? 0 : static_cast<std::uint32_t>(stored.size()));
    put32(zip, m.descriptor ? 0 : static_cast<std::uint32_t>(m.data.size()));
    put16(zip, static_cast<unsigned>(m.name.size()));
    put16(zip, 0);
    zip += m.name;
    zip += stored;
    if (m.descriptor) {
      put32(zip, 0x08074b50);
      put32(zip, crc);
      put32(zip, static_cast<std::uint32_t>(stored.size()));
      put32(zip, static_cast<std::uint32_t>(m.data.size()));
    }
    put32(directory, 0x02014b50);
    put16(directory, 20);
    put16(directory, 20);
    put16(directory, flags);
    put16(directory, method);
    put16(directory, 0);
    put16(directory, 0);
    put32(directory, crc);
    put32(directory, static_cast<std::uint32_t>(stored.size()));
    put32(directory, static_cast<std::uint32_t>(m.data.size()));
    put16(directory, static_cast<unsigned>(m.name.size()));
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put32(directory, 0);
    put32(directory, offset);
    directory += m.name;
  }
  const auto directory_offset = static_cast<std::uint32_t>(zip.size());
  zip += directory;
  put32(zip, 0x06054b50);
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, static_cast<unsigned>(members.size()));
  put16(zip, static_cast<unsigned>(members.size()));
  put32(zip, static_cast<std::uint32_t>(directory.size()));
  put32(zip, directory_offset);
  put16(zip, 0);
  return zip;
}

std::vector<std::string> all_lines(ZipMember& member) {
  std::vector<std::string> lines;
  std::string_view line;
  while (member.next_line(line))
    lines.emplace_back(line);
  return lines;
}

std::string many_lines(std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i)
    text += "{\"line\":" + std::to_string(i) + ",\"pad\":\"" + std::string(i % 50, 'z') + "\"}\n";
  return text;
}

TEST_F(TempDir, ZipStoredDeflatedAndDeferredSizeMembers) {
  const std::string big = many_lines(40000);  // > 1 MiB: several inflate chunks
  const std::string file = path("t.zip");
  write_whole(file, make_zip({{"stored.txt", "one\r\ntwo\nthree", false, false},
                              {"deflated.data", big, true, false},
                              {"deferred.data", "a\nb\n", true, true}}));
  const std::vector<ZipEntry> entries = list_zip(file);
  ASSERT_EQ(entries.size(), 3U);
  EXPECT_EQ(entries[1].name, "deflated.data");
  EXPECT_EQ(entries[1].uncompressed_size, big.size());
  EXPECT_EQ(entries[2].flags & 8U, 8U);

  ZipMember stored = ZipMember::open(file, "stored.txt");
  EXPECT_EQ(all_lines(stored), (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(stored.line_number(), 3U);

  ZipMember deflated = ZipMember::open(file, "deflated.data");
  std::string_view line;
  std::size_t count = 0;
  while (deflated.next_line(line)) {
    if (count == 39999) {
      EXPECT_EQ(line, "{\"line\":39999,\"pad\":\"" + std::string(39999 % 50, 'z') + "\"}");
    }
    ++count;
  }
  EXPECT_EQ(count, 40000U);

  ZipMember deferred = ZipMember::open(file, "deferred.data");
  EXPECT_EQ(all_lines(deferred), (std::vector<std::string>{"a", "b"}));

  EXPECT_THROW((void)ZipMember::open(file), ZipError);  // three members: name one
  try {
    (void)ZipMember::open(file, "missing");
    FAIL();
  } catch (const ZipError& error) {
    EXPECT_EQ(std::string(error.what()), file + ": no member missing");
  }
}

TEST_F(TempDir, ZipDamageIsAnErrorNamingTheFile) {
  const std::string data = many_lines(1000);
  std::string zip = make_zip({{"m.data", data, true, false}});
  // Flip a byte inside the compressed data: inflate fails or the CRC check does.
  zip[30 + 6 + 100] = static_cast<char>(zip[30 + 6 + 100] ^ 0x55);
  const std::string file = path("bad.zip");
  write_whole(file, zip);
  ZipMember member = ZipMember::open(file);
  try {
    (void)all_lines(member);
    FAIL() << "damage not detected";
  } catch (const ZipError& error) {
    EXPECT_EQ(std::string(error.what()).rfind(file + ": member m.data: ", 0), 0U) << error.what();
  }
  write_whole(path("not.zip"), "just text, long enough to hold an end record........");
  EXPECT_THROW((void)list_zip(path("not.zip")), ZipError);
  EXPECT_THROW((void)list_zip(path("absent.zip")), ZipError);
}

TEST_F(TempDir, GzipFileReadsAsLines) {
  const std::string file = path("t.csv.gz");
  const std::string text = many_lines(3000);
  gzFile out = gzopen(file.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  ASSERT_EQ(gzwrite(out, text.data(), static_cast<unsigned>(text.size())),
            static_cast<int>(text.size()));
  ASSERT_EQ(gzclose(out), Z_OK);
  EXPECT_TRUE(looks_like_gzip(file));
  EXPECT_FALSE(looks_like_zip(file));
  ZipMember member = ZipMember::open_gzip(file);
  EXPECT_EQ(all_lines(member).size(), 3000U);
  // Cut short: an error, not a silent end.
  const std::string whole = read_whole(file);
  write_whole(path("cut.gz"), whole.substr(0, whole.size() / 2));
  ZipMember cut = ZipMember::open_gzip(path("cut.gz"));
  EXPECT_THROW((void)all_lines(cut), ZipError);
}

TEST(ZipMemberTest, BybitOrderBookHistoryFile) {
  const std::string file = std::string(KINETIC_SOURCE_DIR) +
                           "/../shared/data/bybit-orderbook-ob500-xrpusdt-nautilus/"
                           "xrpusdt-ob500.data.zip";
  if (!std::filesystem::exists(file))
    GTEST_SKIP() << file << " not present";
  EXPECT_TRUE(looks_like_zip(file));
  ZipMember member = ZipMember::open(file);
  EXPECT_EQ(member.entry().name, "2024-12-01_XRPUSDT_ob500.data");
  EXPECT_EQ(member.entry().uncompressed_size, 80382U);  // the README
  std::string_view line;
  ASSERT_TRUE(member.next_line(line));
  const std::string_view prefix =
      R"({"topic":"orderbook.500.XRPUSDT","type":"snapshot","ts":1733011200691,)";
  EXPECT_EQ(line.substr(0, prefix.size()), prefix);
  std::size_t lines = 1;
  std::size_t deltas = 0;
  while (member.next_line(line)) {
    ++lines;
    if (line.find(R"("type":"delta")") != std::string_view::npos)
      ++deltas;
  }
  EXPECT_EQ(lines, 50U);
  EXPECT_EQ(deltas, 49U);
}

}  // namespace
}  // namespace kinetic::feed
