#include "ctl/table.h"

#include <algorithm>

namespace turnout::ctl {

namespace {

const std::string kEmpty;

// Display width in code points: a name with non-ASCII letters still lines up.
size_t displayWidth(const std::string& text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

void widen(std::vector<size_t>& widths, const Row& row) {
  for (size_t i = 0; i < widths.size() && i < row.size(); ++i) {
    widths[i] = std::max(widths[i], displayWidth(row[i]));
  }
}

void writeRow(std::ostream& out, const Row& row, const std::vector<size_t>& widths) {
  std::string line;
  for (size_t i = 0; i < widths.size(); ++i) {
    const std::string& cell = i < row.size() ? row[i] : kEmpty;
    line += cell;
    if (i + 1 < widths.size()) line.append(widths[i] - displayWidth(cell) + 3, ' ');
  }
  line.erase(line.find_last_not_of(' ') + 1);
  out << line << '\n';
}

}  // namespace

void writeTable(std::ostream& out, const Row& header, const std::vector<Row>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  widen(widths, header);
  for (const Row& row : rows) widen(widths, row);
  writeRow(out, header, widths);
  for (const Row& row : rows) writeRow(out, row, widths);
}

}  // namespace turnout::ctl
