#include "kinetic/feed/ws_capture.hpp"

#include <simdjson.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

namespace kinetic::feed {
namespace {

namespace od = simdjson::ondemand;

constexpr std::size_t kReadChunk = 1 << 17;
constexpr std::string_view kTradeTopicPrefix = "publicTrade.";

struct FileCloser {
  void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* context) const noexcept { ZSTD_freeDCtx(context); }
};

[[nodiscard]] bool starts_with_zstd_magic(const char* bytes, std::size_t size) noexcept {
  // ZSTD_MAGICNUMBER 0xFD2FB528, stored little-endian.
  return size >= 4 && static_cast<unsigned char>(bytes[0]) == 0x28 &&
         static_cast<unsigned char>(bytes[1]) == 0xB5 &&
         static_cast<unsigned char>(bytes[2]) == 0x2F &&
         static_cast<unsigned char>(bytes[3]) == 0xFD;
}

[[nodiscard]] bool is_json_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

[[nodiscard]] std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_json_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_json_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

/// The last path segment of a WebSocket address: "wss://h/v5/public/linear?x" → "linear".
[[nodiscard]] std::string_view category_of_address(std::string_view address) noexcept {
  const std::size_t query = address.find_first_of("?#");
  if (query != std::string_view::npos) {
    address = address.substr(0, query);
  }
  while (!address.empty() && address.back() == '/') {
    address.remove_suffix(1);
  }
  const std::size_t slash = address.rfind('/');
  return slash == std::string_view::npos ? address : address.substr(slash + 1);
}

/// A grow-only byte buffer with SIMDJSON_PADDING spare bytes, so simdjson can read past the
/// end of the text it holds.
class PaddedBuffer {
 public:
  /// Copies `text` in; returns the padded copy (valid until the next assign).
  std::string_view assign(std::string_view text) {
    if (text.size() > capacity_ || !bytes_) {
      const std::size_t wanted = std::max({text.size(), capacity_ * 2, std::size_t{4096}});
      bytes_ = std::make_unique<char[]>(wanted + simdjson::SIMDJSON_PADDING);
      capacity_ = wanted;
    }
    if (!text.empty()) {
      std::memcpy(bytes_.get(), text.data(), text.size());
    }
    std::memset(bytes_.get() + text.size(), 0, simdjson::SIMDJSON_PADDING);
    size_ = text.size();
    return {bytes_.get(), size_};
  }
  [[nodiscard]] const char* data() const noexcept { return bytes_.get(); }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t allocated() const noexcept {
    return capacity_ + simdjson::SIMDJSON_PADDING;
  }

 private:
  std::unique_ptr<char[]> bytes_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
};

/// Type errors leave an on-demand iterator usable (the value is skipped later); anything else
/// means the document is broken and iteration must stop.
[[nodiscard]] bool is_type_error(simdjson::error_code error) noexcept {
  return error == simdjson::INCORRECT_TYPE || error == simdjson::NUMBER_OUT_OF_RANGE ||
         error == simdjson::NUMBER_ERROR;
}

/// True when the whole document has been consumed (nothing but whitespace after the root).
[[nodiscard]] bool at_document_end(od::document& doc) noexcept {
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// parse_epoch_seconds_ns

bool parse_epoch_seconds_ns(std::string_view text, std::int64_t& out) noexcept {
  constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
  constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / kNanosPerSecond;
  text = trim(text);
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  std::size_t pos = 0;
  std::int64_t seconds = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    seconds = seconds * 10 + (text[pos] - '0');
    if (seconds > kMaxSeconds) {
      return false;
    }
    ++pos;
  }
  if (pos == 0) {
    return false;
  }
  std::int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t fraction_start = pos;
    int kept = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (kept < 9) {
        nanos = nanos * 10 + (text[pos] - '0');
        ++kept;
      }
      ++pos;
    }
    if (pos == fraction_start) {
      return false;
    }
    for (; kept < 9; ++kept) {
      nanos *= 10;
    }
  }
  if (pos != text.size()) {
    return false;  // exponent or junk: the caller falls back to a double
  }
  if (seconds > (std::numeric_limits<std::int64_t>::max() - nanos) / kNanosPerSecond) {
    return false;
  }
  const std::int64_t total = seconds * kNanosPerSecond + nanos;
  out = negative ? -total : total;
  return true;
}

std::uint64_t CaptureCounters::malformed_lines() const noexcept {
  std::uint64_t sum = 0;
  for (const std::uint64_t count : malformed_line_kinds) {
    sum += count;
  }
  return sum;
}

std::uint64_t CaptureCounters::malformed_trades() const noexcept {
  std::uint64_t sum = 0;
  for (const std::uint64_t count : malformed_trade_kinds) {
    sum += count;
  }
  return sum;
}

// ---------------------------------------------------------------------------------------
// CaptureLineSource

struct CaptureLineSource::Impl {
  std::string name;
  std::unique_ptr<std::FILE, FileCloser> file;  // null for an in-memory source
  std::string_view memory;
  std::size_t memory_pos = 0;

  bool compressed = false;
  std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx;
  std::vector<char> input;  // compressed bytes not yet given to zstd
  ZSTD_inBuffer input_view{nullptr, 0, 0};
  bool input_eof = false;
  std::size_t last_zstd_result = 0;  // 0 when the last frame was completely decoded and flushed

  std::string text;            // decoded bytes: the current partial line and what follows
  std::size_t text_begin = 0;  // start of the first line not yet returned
  std::size_t scan_from = 0;   // where the search for '\n' resumes
  std::size_t line_number = 0;

  /// Raw bytes from the file or the buffer; 0 at the end.
  std::size_t read_raw(char* destination, std::size_t capacity) {
    if (!file) {
      const std::size_t count = std::min(capacity, memory.size() - memory_pos);
      if (count > 0) {
        std::memcpy(destination, memory.data() + memory_pos, count);
      }
      memory_pos += count;
      return count;
    }
    const std::size_t count = std::fread(destination, 1, capacity, file.get());
    if (count < capacity && std::ferror(file.get())) {
      throw CaptureError(name + ": read error: " + std::strerror(errno));
    }
    return count;
  }

  /// Looks at the first bytes to choose plain or zstd; keeps them for the first refill.
  void sniff() {
    input.resize(kReadChunk);
    const std::size_t count = read_raw(input.data(), input.size());
    input.resize(count);
    compressed = starts_with_zstd_magic(input.data(), input.size());
    if (compressed) {
      dctx.reset(ZSTD_createDCtx());
      if (!dctx) {
        throw CaptureError(name + ": cannot create a zstd decompression context");
      }
      input_view = ZSTD_inBuffer{input.data(), input.size(), 0};
      input_eof = count == 0;
    } else {
      text.assign(input.data(), input.size());
      input.clear();
      input.shrink_to_fit();
    }
  }

  /// Appends more decoded bytes to `text`; false when the input is exhausted.
  bool refill() {
    if (!compressed) {
      const std::size_t old_size = text.size();
      text.resize(old_size + kReadChunk);
      const std::size_t count = read_raw(text.data() + old_size, kReadChunk);
      text.resize(old_size + count);
      return count > 0;
    }
    const std::size_t out_chunk = ZSTD_DStreamOutSize();
    for (;;) {
      if (input_view.pos == input_view.size && !input_eof) {
        input.resize(ZSTD_DStreamInSize());
        const std::size_t count = read_raw(input.data(), input.size());
        input_view = ZSTD_inBuffer{input.data(), count, 0};
        input_eof = count == 0;
      }
      if (input_eof && input_view.pos == input_view.size && last_zstd_result == 0) {
        return false;  // every frame ended cleanly and was flushed
      }
      const std::size_t old_size = text.size();
      text.resize(old_size + out_chunk);
      ZSTD_outBuffer output{text.data() + old_size, out_chunk, 0};
      const std::size_t result = ZSTD_decompressStream(dctx.get(), &output, &input_view);
      text.resize(old_size + output.pos);
      if (ZSTD_isError(result) != 0) {
        throw CaptureError(name + ": corrupt zstd data: " + ZSTD_getErrorName(result));
      }
      last_zstd_result = result;
      if (output.pos > 0) {
        return true;
      }
      if (input_eof && input_view.pos == input_view.size) {
        if (result == 0) {
          return false;  // the last frame ended exactly here (possibly with no output)
        }
        // A frame is open (non-zero hint), no input is left and the decoder had nothing more
        // to flush into an empty output buffer: the stream stops inside the frame.
        throw CaptureError(name + ": truncated zstd data (the stream ends inside a frame)");
      }
    }
  }

  bool next(std::string_view& line) {
    for (;;) {
      const std::size_t newline = text.find('\n', scan_from);
      if (newline != std::string::npos) {
        line = std::string_view(text).substr(text_begin, newline - text_begin);
        text_begin = newline + 1;
        scan_from = text_begin;
        break;
      }
      if (text_begin > 0) {  // keep only the partial line before reading more
        text.erase(0, text_begin);
        text_begin = 0;
      }
      scan_from = text.size();
      if (!refill()) {
        if (text_begin == text.size()) {
          return false;
        }
        line = std::string_view(text).substr(text_begin);
        text_begin = text.size();
        scan_from = text_begin;
        break;
      }
    }
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    ++line_number;
    return true;
  }
};

CaptureLineSource::CaptureLineSource(std::unique_ptr<Impl> impl) noexcept
    : impl_(std::move(impl)) {}
CaptureLineSource::CaptureLineSource(CaptureLineSource&&) noexcept = default;
CaptureLineSource& CaptureLineSource::operator=(CaptureLineSource&&) noexcept = default;
CaptureLineSource::~CaptureLineSource() = default;

CaptureLineSource CaptureLineSource::open_file(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->name = path;
  errno = 0;
  impl->file.reset(std::fopen(path.c_str(), "rb"));
  if (!impl->file) {
    throw CaptureError(path + ": cannot open: " + std::strerror(errno));
  }
  impl->sniff();
  return CaptureLineSource(std::move(impl));
}

CaptureLineSource CaptureLineSource::from_memory(std::string_view bytes, std::string name) {
  auto impl = std::make_unique<Impl>();
  impl->name = std::move(name);
  impl->memory = bytes;
  impl->sniff();
  return CaptureLineSource(std::move(impl));
}

bool CaptureLineSource::next(std::string_view& line) {
  return impl_->next(line);
}
std::size_t CaptureLineSource::line_number() const noexcept {
  return impl_->line_number;
}
bool CaptureLineSource::compressed() const noexcept {
  return impl_->compressed;
}
const std::string& CaptureLineSource::name() const noexcept {
  return impl_->name;
}

// ---------------------------------------------------------------------------------------
// CaptureLineDecoder

struct CaptureLineDecoder::Impl {
  CaptureFilter filter;
  CaptureCounters counters;
  MalformedLine last_malformed = MalformedLine::outer_json;

  od::parser outer_parser;
  od::parser inner_parser;
  PaddedBuffer outer_buffer;
  PaddedBuffer inner_buffer;
  std::string topic;  // copied: the inner document is rewound, which reuses its string buffer
  std::vector<std::pair<std::string, std::string>> categories;  // conn → category
  std::vector<CaptureTrade> trades;

  CaptureLineKind malformed(MalformedLine kind) noexcept {
    ++counters.malformed_line_kinds[static_cast<std::size_t>(kind)];
    last_malformed = kind;
    trades.clear();
    return CaptureLineKind::malformed;
  }
  void malformed_trade(MalformedTrade kind) noexcept {
    ++counters.malformed_trade_kinds[static_cast<std::size_t>(kind)];
  }

  [[nodiscard]] std::string_view category_of(std::string_view conn) const noexcept {
    for (const auto& [known_conn, category] : categories) {
      if (known_conn == conn) {
        return category;
      }
    }
    return {};
  }

  void remember_connection(std::string_view conn, std::string_view address) {
    const std::string_view category = category_of_address(address);
    for (auto& [known_conn, known_category] : categories) {
      if (known_conn == conn) {
        known_category.assign(category);
        return;
      }
    }
    categories.emplace_back(std::string(conn), std::string(category));
  }

  CaptureLineKind decode(std::string_view line, std::size_t line_number);
  CaptureLineKind decode_frame(std::string_view frame, std::string_view category,
                               std::int64_t recv_time_ns, std::size_t line_number);
  /// Decodes one element of a trade batch; false when the document itself is broken.
  bool decode_trade(od::value element, const CaptureTrade& common);
};

CaptureLineKind CaptureLineDecoder::Impl::decode(std::string_view line, std::size_t line_number) {
  ++counters.lines;
  trades.clear();
  if (trim(line).empty()) {
    ++counters.other_lines;
    return CaptureLineKind::other;
  }

  const std::string_view padded = outer_buffer.assign(line);
  od::document doc;
  if (outer_parser.iterate(padded.data(), padded.size(), outer_buffer.allocated()).get(doc) !=
      simdjson::SUCCESS) {
    return malformed(MalformedLine::outer_json);
  }
  od::object record;
  if (doc.get_object().get(record) != simdjson::SUCCESS) {
    return malformed(MalformedLine::outer_json);
  }

  // One pass over the fields in whatever order they come; strings land in the outer parser's
  // string buffer and stay valid until its next iterate.
  std::string_view type, conn, address, data;
  bool has_type = false, has_conn = false, has_address = false, has_data = false;
  bool has_ts = false;
  std::int64_t recv_time_ns = 0;
  for (auto field_result : record) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) {
      return malformed(MalformedLine::outer_json);
    }
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return malformed(MalformedLine::outer_json);
    }
    od::value value = field.value();
    std::string_view* target = nullptr;
    bool* present = nullptr;
    if (key == "t") {
      target = &type;
      present = &has_type;
    } else if (key == "conn") {
      target = &conn;
      present = &has_conn;
    } else if (key == "addr") {
      target = &address;
      present = &has_address;
    } else if (key == "data") {
      target = &data;
      present = &has_data;
    } else if (key == "ts") {
      // Exact from the number's text; an exponent form goes through a double.
      std::string_view token = value.raw_json_token();
      if (parse_epoch_seconds_ns(token, recv_time_ns)) {
        has_ts = true;
      } else {
        double seconds = 0;
        const simdjson::error_code error = value.get_double().get(seconds);
        if (error == simdjson::SUCCESS) {
          const double nanos = seconds * 1e9;
          if (std::isfinite(nanos) && std::fabs(nanos) < 9.2e18) {
            recv_time_ns = static_cast<std::int64_t>(std::llround(nanos));
            has_ts = true;
          }
        } else if (!is_type_error(error)) {
          return malformed(MalformedLine::outer_json);
        }
      }
      continue;
    } else {
      continue;  // unknown field: skipped by the iterator
    }
    const simdjson::error_code error = value.get_string().get(*target);
    if (error == simdjson::SUCCESS) {
      *present = true;
    } else if (!is_type_error(error)) {
      return malformed(MalformedLine::outer_json);
    } else {
      *present = false;  // a later duplicate key decides; a mistyped one counts as absent
    }
  }
  if (!at_document_end(doc)) {
    return malformed(MalformedLine::outer_json);
  }
  if (!has_type) {
    return malformed(MalformedLine::record_field);
  }
  if (type == "connect") {
    if (!has_conn || !has_address) {
      return malformed(MalformedLine::record_field);
    }
    remember_connection(conn, address);
    ++counters.connect_lines;
    return CaptureLineKind::connect;
  }
  if (type != "recv") {
    ++counters.other_lines;
    return CaptureLineKind::other;
  }
  if (!has_conn || !has_data || !has_ts) {
    return malformed(MalformedLine::record_field);
  }
  return decode_frame(data, category_of(conn), recv_time_ns, line_number);
}

CaptureLineKind CaptureLineDecoder::Impl::decode_frame(std::string_view frame,
                                                       std::string_view category,
                                                       std::int64_t recv_time_ns,
                                                       std::size_t line_number) {
  const std::string_view padded = inner_buffer.assign(frame);
  od::document doc;
  if (inner_parser.iterate(padded.data(), padded.size(), inner_buffer.allocated()).get(doc) !=
      simdjson::SUCCESS) {
    return malformed(MalformedLine::inner_json);
  }
  od::object message;
  if (doc.get_object().get(message) != simdjson::SUCCESS) {
    return malformed(MalformedLine::inner_json);
  }

  // Pass 1: validate the whole frame and read topic and ts, skipping data wherever it is.
  bool has_topic = false, topic_mistyped = false, has_ts = false;
  std::int64_t message_ts_ms = 0;
  for (auto field_result : message) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) {
      return malformed(MalformedLine::inner_json);
    }
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return malformed(MalformedLine::inner_json);
    }
    od::value value = field.value();
    simdjson::error_code error = simdjson::SUCCESS;
    if (key == "topic") {
      std::string_view text;
      error = value.get_string().get(text);
      has_topic = error == simdjson::SUCCESS;
      topic_mistyped = !has_topic;
      if (has_topic) {
        topic.assign(text);
      }
    } else if (key == "ts") {
      error = value.get_int64().get(message_ts_ms);
      has_ts = error == simdjson::SUCCESS;
    }
    if (error != simdjson::SUCCESS && !is_type_error(error)) {
      return malformed(MalformedLine::inner_json);
    }
  }
  if (!at_document_end(doc)) {
    return malformed(MalformedLine::inner_json);
  }
  if (topic_mistyped) {
    return malformed(MalformedLine::message_field);
  }
  if (!has_topic || !std::string_view(topic).starts_with(kTradeTopicPrefix)) {
    ++counters.other_lines;  // acks, order books, tickers, klines...
    return CaptureLineKind::other;
  }
  const std::string_view topic_symbol = std::string_view(topic).substr(kTradeTopicPrefix.size());
  if ((!filter.symbol.empty() && topic_symbol != filter.symbol) ||
      (!filter.category.empty() && category != filter.category)) {
    ++counters.filtered_messages;
    return CaptureLineKind::filtered;
  }
  if (!has_ts) {
    return malformed(MalformedLine::message_field);
  }

  // Pass 2: the trades. Rewinding resets the parser's string buffer, hence the copied topic.
  doc.rewind();
  if (doc.get_object().get(message) != simdjson::SUCCESS) {
    return malformed(MalformedLine::inner_json);
  }
  od::array batch;
  {
    const simdjson::error_code error = message.find_field_unordered("data").get_array().get(batch);
    if (error == simdjson::NO_SUCH_FIELD || is_type_error(error)) {
      return malformed(MalformedLine::message_field);
    }
    if (error != simdjson::SUCCESS) {
      return malformed(MalformedLine::inner_json);
    }
  }
  CaptureTrade common;
  common.line = line_number;
  common.category = category;
  common.recv_time_ns = recv_time_ns;
  common.message_ts_ms = message_ts_ms;
  for (auto element_result : batch) {
    od::value element;
    if (element_result.get(element) != simdjson::SUCCESS || !decode_trade(element, common)) {
      return malformed(MalformedLine::inner_json);
    }
  }
  counters.trades += trades.size();
  ++counters.trade_messages;
  return CaptureLineKind::trades;
}

bool CaptureLineDecoder::Impl::decode_trade(od::value element, const CaptureTrade& common) {
  od::object object;
  {
    const simdjson::error_code error = element.get_object().get(object);
    if (is_type_error(error)) {
      malformed_trade(MalformedTrade::not_object);
      return true;
    }
    if (error != simdjson::SUCCESS) {
      return false;
    }
  }
  CaptureTrade trade = common;
  std::string_view side_text;
  bool has_time = false, has_symbol = false, has_side = false, has_price = false;
  bool has_qty = false, has_id = false, mistyped = false;
  for (auto field_result : object) {
    od::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) {
      return false;
    }
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return false;
    }
    od::value value = field.value();
    simdjson::error_code error = simdjson::SUCCESS;
    bool* present = nullptr;
    if (key == "T") {
      error = value.get_int64().get(trade.trade_time_ms);
      present = &has_time;
    } else if (key == "s") {
      error = value.get_string().get(trade.symbol);
      present = &has_symbol;
    } else if (key == "S") {
      error = value.get_string().get(side_text);
      present = &has_side;
    } else if (key == "v") {
      error = value.get_string().get(trade.qty_text);
      present = &has_qty;
    } else if (key == "p") {
      error = value.get_string().get(trade.price_text);
      present = &has_price;
    } else if (key == "i") {
      error = value.get_string().get(trade.trade_id);
      present = &has_id;
    } else {
      continue;
    }
    if (error == simdjson::SUCCESS) {
      *present = true;
    } else if (is_type_error(error)) {
      mistyped = true;
    } else {
      return false;
    }
  }
  if (mistyped) {
    malformed_trade(MalformedTrade::wrong_type);
    return true;
  }
  if (!has_time || !has_symbol || !has_side || !has_price || !has_qty || !has_id) {
    malformed_trade(MalformedTrade::missing_field);
    return true;
  }
  if (side_text == "Buy") {
    trade.side = Side::buy;
  } else if (side_text == "Sell") {
    trade.side = Side::sell;
  } else {
    malformed_trade(MalformedTrade::bad_side);
    return true;
  }
  const auto price = Price::parse(trade.price_text);
  if (!price.ok()) {
    malformed_trade(MalformedTrade::bad_price);
    return true;
  }
  const auto qty = Qty::parse(trade.qty_text);
  if (!qty.ok()) {
    malformed_trade(MalformedTrade::bad_qty);
    return true;
  }
  trade.price = price.value();
  trade.qty = qty.value();
  trades.push_back(trade);
  return true;
}

CaptureLineDecoder::CaptureLineDecoder(CaptureFilter filter) : impl_(std::make_unique<Impl>()) {
  impl_->filter = std::move(filter);
}
CaptureLineDecoder::CaptureLineDecoder(CaptureLineDecoder&&) noexcept = default;
CaptureLineDecoder& CaptureLineDecoder::operator=(CaptureLineDecoder&&) noexcept = default;
CaptureLineDecoder::~CaptureLineDecoder() = default;

CaptureLineKind CaptureLineDecoder::decode(std::string_view line, std::size_t line_number) {
  return impl_->decode(line, line_number);
}
std::span<const CaptureTrade> CaptureLineDecoder::trades() const noexcept {
  return impl_->trades;
}
const CaptureCounters& CaptureLineDecoder::counters() const noexcept {
  return impl_->counters;
}
MalformedLine CaptureLineDecoder::last_malformed() const noexcept {
  return impl_->last_malformed;
}

// ---------------------------------------------------------------------------------------
// WsCaptureTradeReader

WsCaptureTradeReader::WsCaptureTradeReader(const std::string& path, CaptureFilter filter)
    : WsCaptureTradeReader(CaptureLineSource::open_file(path), std::move(filter)) {}

WsCaptureTradeReader::WsCaptureTradeReader(CaptureLineSource source, CaptureFilter filter)
    : source_(std::move(source)), decoder_(std::move(filter)) {}

bool WsCaptureTradeReader::next(CaptureTrade& trade) {
  while (pending_ >= decoder_.trades().size()) {
    std::string_view line;
    if (!source_.next(line)) {
      return false;
    }
    static_cast<void>(decoder_.decode(line, source_.line_number()));
    pending_ = 0;
  }
  trade = decoder_.trades()[pending_++];
  return true;
}

}  // namespace kinetic::feed
