// NumPy .npy reader and writer; the format is described in numpy/lib/format.py.

#include "io/npy.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <utility>

#include "core/error.h"
#include "io/output_files.h"

namespace cimsim::npy {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr int64_t kMaxExact = int64_t{1} << 53;
constexpr const char* kResave = " - save it again with numpy.save";

[[noreturn]] void fail(const std::string& path, const std::string& msg) {
  throw InputError(path + ": " + msg);
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

bool host_is_little_endian() {
  const uint16_t one = 1;
  unsigned char first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

// Product of the dimensions, or -1 if it overflows int64 (dimensions must be non-negative).
int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return -1;
    n *= d;
  }
  return n;
}

// Parses the header dictionary numpy writes, a Python literal such as
// {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
 public:
  HeaderParser(const std::string& path, std::string text)
      : path_(path), text_(std::move(text)), shown_(text_.substr(0, text_.find_last_not_of(" \t\r\n") + 1)) {
    if (shown_.size() > 200) shown_ = shown_.substr(0, 200) + "...";
  }

  void parse(Array& out, bool& fortran_order) {
    bool seen[3] = {false, false, false};
    skip_ws();
    expect('{');
    while (!eat('}')) {
      const std::string key = quoted("a quoted key");
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (pos_ < text_.size() && (text_[pos_] == '[' || text_[pos_] == '{'))
          fail(path_,
               "structured dtypes (records with named fields) are not supported; save one plain numeric "
               "field instead, e.g. numpy.save(path, arr['name'].astype(np.float64))");
        out.descr = quoted("a quoted dtype string");
      } else if (key == "fortran_order") {
        const std::string word = token();
        if (word != "True" && word != "False")
          error("fortran_order must be True or False, not '" + word + "'");
        fortran_order = word == "True";
      } else if (key == "shape") {
        out.shape = shape();
      } else {
        error("unexpected key '" + key + "'");
      }
      bool& flag = seen[key == "descr" ? 0 : key == "fortran_order" ? 1 : 2];
      if (flag) error("key '" + key + "' appears twice");
      flag = true;
      if (!eat(',') && !at('}')) error("expected ',' or '}'");
    }
    skip_ws();
    if (pos_ != text_.size()) error("unexpected text after '}'");
    const char* names[3] = {"descr", "fortran_order", "shape"};
    for (int i = 0; i < 3; ++i)
      if (!seen[i])
        fail(path_, "the header " + shown_ + " lacks the key '" + names[i] +
                        "'; the file is corrupt or was not written by numpy" + kResave);
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    fail(path_, "cannot parse the header " + shown_ + ": " + what + " at character " + std::to_string(pos_) +
                    "; the file is corrupt or was not written by numpy" + kResave);
  }
  void skip_ws() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) ++pos_;
  }
  bool at(char c) {
    skip_ws();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  bool eat(char c) {
    if (!at(c)) return false;
    ++pos_;
    return true;
  }
  void expect(char c) {
    if (!eat(c)) error(std::string("expected '") + c + "'");
  }
  std::string quoted(const char* what) {
    skip_ws();
    const char q = pos_ < text_.size() ? text_[pos_] : '\0';
    const size_t end = q == '\'' || q == '"' ? text_.find(q, pos_ + 1) : std::string::npos;
    if (end == std::string::npos) error(std::string("expected ") + what);
    std::string s = text_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return s;
  }
  // A bare word or number: everything up to the next separator.
  std::string token() {
    skip_ws();
    const size_t end = std::min(text_.find_first_of(",)} \t\r\n", pos_), text_.size());
    std::string s = text_.substr(pos_, end - pos_);
    pos_ = end;
    return s;
  }
  std::vector<int64_t> shape() {
    std::vector<int64_t> dims;
    expect('(');
    while (!eat(')')) {
      const std::string t = token();
      const bool negative = !t.empty() && t[0] == '-';
      const std::string digits = negative ? t.substr(1) : t;
      const char* problem = digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos
                                ? "is not an integer"
                            : negative           ? "is negative"
                            : digits.size() > 18 ? "is impossibly large"
                                                 : nullptr;
      if (problem != nullptr)
        fail(path_, "shape entry '" + t + "' in the header " + shown_ + " " + problem +
                        "; the file is corrupt" + kResave);
      dims.push_back(std::stoll(digits));
      if (!eat(',') && !at(')')) error("expected ',' or ')' in the shape");
    }
    return dims;
  }

  const std::string& path_;
  std::string text_;
  std::string shown_;  // the header for messages: without its padding, at most 200 characters
  size_t pos_ = 0;
};

// Checks a dtype string such as "<i4" and returns its kind ('b', 'i', 'u', 'f') and item size.
std::pair<char, int> parse_descr(const std::string& path, const std::string& descr) {
  static const char* const kSupported[] = {"b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f4", "f8"};
  const bool marked = !descr.empty() && std::strchr("<>|=", descr[0]) != nullptr;  // no mark: native order
  const std::string body = marked ? descr.substr(1) : descr;
  for (const char* s : kSupported)
    if (body == s) return {body[0], body[1] - '0'};
  const char kind = body.empty() ? '?' : body[0];
  const char* what = kind == 'c'                           ? " (complex)"
                     : std::strchr("USa", kind) != nullptr ? " (string)"
                     : kind == 'O'                         ? " (Python objects)"
                     : kind == 'V'                         ? " (structured/void)"
                     : std::strchr("Mm", kind) != nullptr  ? " (datetime)"
                                                           : "";
  fail(path, "dtype '" + descr + "'" + what +
                 " is not supported; use one of b1, i1, i2, i4, i8, u1, u2, u4, u8, f4, f8 - convert with "
                 "arr.astype(np.float64) or arr.astype(np.int32) and save again");
}

template <typename T>
T load(const char* p, bool swap) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, p, sizeof(T));
  if (swap) std::reverse(bytes, bytes + sizeof(T));
  T v;
  std::memcpy(&v, bytes, sizeof(T));
  return v;
}

// Decodes one element; sets `too_big` for 64-bit integers beyond 2^53 in magnitude.
double decode(char kind, int size, const char* p, bool swap, bool& too_big) {
  if (kind == 'f') return size == 4 ? load<float>(p, swap) : load<double>(p, swap);
  if (kind == 'b') return *p != 0 ? 1.0 : 0.0;
  if (size == 8 && kind == 'i') {
    const auto v = load<int64_t>(p, swap);
    too_big = v > kMaxExact || v < -kMaxExact;
    return static_cast<double>(v);
  }
  if (size == 8) {
    const auto v = load<uint64_t>(p, swap);
    too_big = v > uint64_t{kMaxExact};
    return static_cast<double>(v);
  }
  if (kind == 'i')
    return size == 1 ? load<int8_t>(p, swap) : size == 2 ? load<int16_t>(p, swap) : load<int32_t>(p, swap);
  return size == 1 ? load<uint8_t>(p, swap) : size == 2 ? load<uint16_t>(p, swap) : load<uint32_t>(p, swap);
}

}  // namespace

int64_t Array::size() const { return element_count(shape); }

Array read(const std::string& path) {
  {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status) &&
        !std::filesystem::is_directory(status))
      fail(path, "is not a regular file (a device or FIFO); give the path of a .npy file");
  }
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    fail(path, std::string("cannot open: ") + std::strerror(errno) + "; check the path and permissions");
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory; give the path of a .npy file");
  const std::streamoff file_size = in.tellg();
  std::string file(file_size > 0 ? static_cast<size_t>(file_size) : 0, '\0');
  in.seekg(0);
  if (file_size < 0 || !in.read(file.data(), static_cast<std::streamsize>(file.size())))
    fail(path, std::string("cannot read: ") + std::strerror(errno) + "; check that it is a regular file");

  if (file.compare(0, kMagicLen, kMagic) != 0)
    fail(path,
         "not a .npy file: it does not start with the magic string \"\\x93NUMPY\"; save the array with "
         "numpy.save");
  const auto too_short = [&] {
    fail(path, "the file is only " + std::to_string(file.size()) +
                   " bytes, too short for a .npy header; it is truncated or corrupt" + kResave);
  };
  if (file.size() < 8) too_short();
  const int major = static_cast<unsigned char>(file[6]), minor = static_cast<unsigned char>(file[7]);
  if (major < 1 || major > 3 || minor != 0)
    fail(path, ".npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                   " is not supported (only 1.0, 2.0 and 3.0)" + kResave);
  const size_t len_bytes = major == 1 ? 2 : 4;  // size of the little-endian header length field
  if (file.size() < 8 + len_bytes) too_short();
  size_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i)
    header_len |= size_t{static_cast<unsigned char>(file[8 + i])} << (8 * i);
  const size_t data_start = 8 + len_bytes + header_len;
  if (data_start > file.size())
    fail(path, "the header length " + std::to_string(header_len) + " runs past the end of the file (" +
                   std::to_string(file.size()) + " bytes); the file is truncated or corrupt" + kResave);

  Array a;
  bool fortran_order = false;
  HeaderParser(path, file.substr(8 + len_bytes, header_len)).parse(a, fortran_order);
  const auto [kind, item] = parse_descr(path, a.descr);
  a.integral = kind != 'f';

  const int64_t count = a.size();
  const size_t data_size = file.size() - data_start;
  if (count < 0 || count > std::numeric_limits<int64_t>::max() / item)
    fail(path,
         "the header's shape " + shape_str(a.shape) + " is impossibly large; the file is corrupt" + kResave);
  const auto needed = static_cast<uint64_t>(count * item);
  if (data_size != needed)
    fail(path,
         "data is " + std::to_string(data_size) + " bytes but the header's shape " + shape_str(a.shape) +
             " with dtype " + a.descr + " needs " + std::to_string(needed) + "; the file " +
             (data_size < needed ? "is truncated or corrupt" : "has extra bytes at the end or is corrupt") +
             kResave);

  const bool swap =
      item > 1 && (a.descr[0] == '<' || a.descr[0] == '>') && (a.descr[0] == '<') != host_is_little_endian();
  const size_t ndim = a.shape.size();
  std::vector<int64_t> stride(ndim, 1), index(ndim, 0);  // C-order strides; Fortran-order counter
  // With no elements (a 0 in the shape) the other dimensions are unbounded: no strides (tests/fuzz).
  for (size_t k = ndim; count > 0 && k-- > 1;) stride[k - 1] = stride[k] * a.shape[k];
  a.values.resize(static_cast<size_t>(count));
  int64_t c = 0;  // C-order position of file element f
  for (int64_t f = 0; f < count; ++f) {
    bool too_big = false;
    const int64_t dst = fortran_order ? c : f;
    a.values[static_cast<size_t>(dst)] =
        decode(kind, item, &file[data_start + static_cast<size_t>(f * item)], swap, too_big);
    if (too_big)
      fail(path, "element " + std::to_string(dst) + " of dtype " + a.descr +
                     " has magnitude above 2^53 and cannot be held exactly as a double; keep integers within "
                     "+-2^53, e.g. save with arr.astype(np.int32)");
    for (size_t k = 0; fortran_order && k < ndim; ++k) {  // first axis varies fastest in the file
      c += stride[k];
      if (++index[k] < a.shape[k]) break;
      c -= stride[k] * a.shape[k];
      index[k] = 0;
    }
  }
  return a;
}

Array read_int_matrix(const std::string& path, const std::string& what) {
  Array a = read(path);
  if (!a.integral)
    fail(path,
         "has dtype " + a.descr + "; " + what + " must be an integer array: save with arr.astype(np.int32)");
  if (a.shape.size() != 2)
    fail(path, what + " must be a 2-D array but the shape is " + shape_str(a.shape) +
                   ": save with arr.reshape(rows, cols)");
  // Checked before anything walks the rows: a (10^18, 0) array holds no values but 10^18 rows.
  for (int64_t d : a.shape)
    if (d < 1 || d > (int64_t{1} << 31) - 1)
      fail(path, what + " of shape " + shape_str(a.shape) +
                     " has an empty or too long dimension; give 1 to 2^31 - 1 rows and columns");
  return a;
}

void write(const std::string& path, const std::vector<int64_t>& shape, const std::vector<double>& values,
           const std::string& descr) {
  if (descr != "<f8" && descr != "<f4" && descr != "<i8" && descr != "<i2" && descr != "|i1")
    fail(path, "cannot write dtype '" + descr + "'; use '<f8', '<f4', '<i8', '<i2' or '|i1'");
  const int64_t count =
      std::any_of(shape.begin(), shape.end(), [](int64_t d) { return d < 0; }) ? -1 : element_count(shape);
  if (count < 0 || static_cast<uint64_t>(count) != values.size())
    fail(path, "cannot write shape " + shape_str(shape) + " with " + std::to_string(values.size()) +
                   " values; the shape's product must equal the number of values");

  // Same bytes as numpy.save: sorted keys, room to grow the first axis, spaces up to a multiple of 64.
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape_str(shape) + ", }";
  if (!shape.empty()) header.append(21 - std::to_string(shape[0]).size(), ' ');
  header.append(64 - (kMagicLen + 4 + header.size() + 1) % 64, ' ');
  header += '\n';
  if (header.size() > 65535) fail(path, "cannot write " + std::to_string(shape.size()) + " dimensions");

  std::string out(kMagic, kMagicLen);
  out += {'\x01', '\x00', static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
  out += header;
  const size_t item = descr == "<f4" ? 4 : descr == "<i2" ? 2 : descr == "|i1" ? 1 : 8;
  const bool swap = !host_is_little_endian();
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    char bytes[8];
    if (descr == "<f8") {
      std::memcpy(bytes, &v, 8);
    } else if (descr == "<f4") {
      const auto f = static_cast<float>(v);
      std::memcpy(bytes, &f, 4);
    } else {
      const double limit = item == 1 ? 127 : item == 2 ? 32767 : static_cast<double>(kMaxExact);
      if (!(std::trunc(v) == v && v <= limit && v >= (item == 8 ? -limit : -limit - 1)))
        fail(path, "value " + std::to_string(v) + " at index " + std::to_string(i) + " is not an integer " +
                       (item == 8 ? std::string("within +-2^53") : "in " + descr + "'s range") +
                       ", so it cannot be written as " + descr + "; use '<f8' or a wider type");
      const auto n = static_cast<int64_t>(v);
      if (item == 1) {
        bytes[0] = static_cast<char>(static_cast<int8_t>(n));
      } else if (item == 2) {
        const auto h = static_cast<int16_t>(n);
        std::memcpy(bytes, &h, 2);
      } else {
        std::memcpy(bytes, &n, 8);
      }
    }
    if (swap) std::reverse(bytes, bytes + item);
    out.append(bytes, item);
  }

  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream os(tmp, std::ios::binary | std::ios::trunc);
    if (os) os.write(out.data(), static_cast<std::streamsize>(out.size()));
    if (os) os.close();
    if (!os) {
      const int err = errno;
      std::remove(tmp.c_str());
      fail(output_name(path), std::string("cannot write it: ") + std::strerror(err) +
                                  "; check that the directory exists, is writable and has free space");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    fail(output_name(path), std::string("cannot move it into place: ") + std::strerror(err) +
                                "; check the path and permissions");
  }
}

}  // namespace cimsim::npy
